package metrics_test

//lint:file-ignore SA1019 the tests call deprecated entry points of package bridge, to count them
import (
	"context"
	"encoding/json"
	"expvar"
	"io"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/metrics"
)

// debugVars is what GET /debug/vars shows under name.
type debugVars struct {
	Hub             map[string]json.RawMessage `json:"hub"`
	DeprecatedCalls []bridge.DeprecatedCall    `json:"deprecated_calls"`
}

// readVars serves expvar's handler, GETs it and decodes the value
// published under name.
func readVars(t *testing.T, name string) debugVars {
	t.Helper()
	rec := httptest.NewRecorder()
	expvar.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/vars", nil))
	var all map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &all), rec.Body.String())
	require.Contains(t, all, name)
	var v debugVars
	require.NoError(t, json.Unmarshal(all[name], &v), string(all[name]))
	return v
}

var published atomic.Int64

// TestPublish publishes a hub once and reads /debug/vars twice, around a
// deprecated call and events: the values are read at each request.
func TestPublish(t *testing.T) {
	prevMode := bridge.SetDeprecationMode(bridge.DeprecationOnce)
	prevLog := bridge.SetDeprecationLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() {
		bridge.SetDeprecationMode(prevMode)
		bridge.SetDeprecationLogger(prevLog)
	})
	hub := facade.NewHub(nil)
	t.Cleanup(func() { assert.NoError(t, hub.Close()) })
	// expvar has no Unpublish: a name of its own for each run (-count).
	name := "wsunify_test_" + strconv.FormatInt(published.Add(1), 10)
	metrics.Publish(name, hub)
	assert.Panics(t, func() { metrics.Publish(name, hub) }, "a name is published once")

	before := readVars(t, name)
	assert.JSONEq(t, `{"ready": 0, "not_ready": 0}`, string(before.Hub["connections"]))
	assert.JSONEq(t, `0`, string(before.Hub["notified_total"]))
	assert.Len(t, before.Hub, len(metrics.Hub)-1, "one key per name; connections has two values")

	var prev uint64
	m := bridge.NewWebSocketManager(hub)
	_, file, line, _ := runtime.Caller(0)
	site := file + ":" + strconv.Itoa(line+8)
	for _, c := range bridge.DeprecatedCalls() { // from an earlier run (-count)
		if c.Call == "WebSocketManager.SendToThread" && c.Site == site {
			prev = c.Count
		}
	}
	for range 2 {
		require.NoError(t, m.SendToThread(context.Background(), "thread-1", map[string]any{"type": "x"}))
	}

	after := readVars(t, name)
	assert.JSONEq(t, `2`, string(after.Hub["notified_total"]))
	assert.JSONEq(t, `2`, string(after.Hub["held_events"]))
	assert.Contains(t, after.DeprecatedCalls, bridge.DeprecatedCall{
		Call: "WebSocketManager.SendToThread", Rule: "send-to-thread", Site: site, Count: prev + 2})
}

// TestVarWithoutHub is the value of a service with no hub: the deprecated
// calls only, an empty list rather than null when there are none.
func TestVarWithoutHub(t *testing.T) {
	var v map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(metrics.Var(nil).String()), &v))
	assert.NotContains(t, v, "hub")
	require.Contains(t, v, "deprecated_calls")
	assert.NotEqual(t, "null", string(v["deprecated_calls"]))
}
