package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"example.com/chatapp/internal/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetricsBesideTheService(t *testing.T) {
	t.Parallel()
	srv := server.New(server.Config{Tokens: map[string]string{"tok-alice": "alice"}})
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })
	hts := httptest.NewServer(withMetrics(srv))
	t.Cleanup(hts.Close)

	get := func(path string) (int, string) {
		res, err := http.Get(hts.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(b)
	}
	code, body := get("/metrics")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, "\ngo_goroutines ")
	if srv.Hub() != nil {
		assert.Contains(t, body, "\nwsunify_hub_users 0\n")
	} else {
		assert.NotContains(t, body, "wsunify_hub_")
	}
	code, body = get("/healthz")
	assert.Equal(t, http.StatusOK, code, "the service's own routes are served as before")
	assert.Equal(t, "ok\n", body)
}
