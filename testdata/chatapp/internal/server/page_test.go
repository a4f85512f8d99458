package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"example.com/chatapp/internal/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The chat page is served at / and nowhere else; it connects to /ws with
// its own token and thread. The e2e test drives it in a real browser.
func TestChatPage(t *testing.T) {
	srv := server.New(server.Config{Tokens: map[string]string{"tok-alice": "alice"}})
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })

	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?token=tok-alice&thread_id=t1", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Body.String(), `new WebSocket(scheme + location.host + "/ws?"`)

	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/index.html", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
}
