package ws_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"example.com/chatapp/internal/ws"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	legacyws "github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

// connect registers a real client socket for userID with m and returns the
// client's end.
func connect(t *testing.T, m *ws.Manager, userID string) *websocket.Conn {
	t.Helper()
	registered := make(chan error, 1)
	hts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			registered <- err
			return
		}
		_, err = m.ConnectUser(userID, "", c)
		registered <- err
		for err == nil { // read until the client leaves
			_, _, err = c.ReadMessage()
		}
	}))
	t.Cleanup(hts.Close)
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hts.URL, "http"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, <-registered)
	require.NoError(t, client.SetReadDeadline(time.Now().Add(5*time.Second)))
	return client
}

var timestamp = regexp.MustCompile(`"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00"`)

// TestWireMatchesFacade pins the service's wire to the facade's legacy
// encoding, so that swapping the manager for the bridge (and migrating the
// call sites) changes no byte a client receives but the timestamps.
func TestWireMatchesFacade(t *testing.T) {
	t.Parallel()
	m := ws.NewManager()
	client := connect(t, m, "alice")
	b := ws.NewAgentBridge(m, "alice", "thread-1")
	ctx := t.Context()
	typed := func(typ facade.EventType, tool string, data any) facade.Event {
		return facade.Event{Type: typ, RunID: "run-1", UserID: "alice", Agent: "assistant", Tool: tool, Data: data}
	}
	params := legacyws.Message{"query": "<deploy> & rollback"}

	tests := []struct {
		name string
		send func() error
		want facade.Event
	}{
		{"started", func() error { return b.NotifyAgentStarted(ctx, "run-1", "assistant", params) }, typed(facade.AgentStarted, "", params)},
		{"started without context", func() error { return b.NotifyAgentStarted(ctx, "run-1", "assistant", nil) }, typed(facade.AgentStarted, "", nil)},
		{"thinking", func() error { return b.NotifyAgentThinking(ctx, "run-1", "assistant", "Looking", 2) }, typed(facade.AgentThinking, "", facade.Thought{Reasoning: "Looking", Step: 2})},
		{"tool executing", func() error { return b.NotifyToolExecuting(ctx, "run-1", "search", "assistant", params) }, typed(facade.ToolExecuting, "search", params)},
		{"tool completed", func() error {
			return b.NotifyToolCompleted(ctx, "run-1", "search", "assistant", []string{"t1"}, 1500*time.Microsecond)
		}, typed(facade.ToolCompleted, "search", facade.Outcome{Result: []string{"t1"}, Elapsed: 1500 * time.Microsecond})},
		{"completed", func() error { return b.NotifyAgentCompleted(ctx, "run-1", "assistant", "42", time.Second) }, typed(facade.AgentCompleted, "", facade.Outcome{Result: "42", Elapsed: time.Second})},
		{"error", func() error { return b.NotifyAgentError(ctx, "run-1", "assistant", errors.New("boom")) }, typed(facade.AgentError, "", errors.New("boom"))},
		{"progress", func() error { return b.NotifyProgressUpdate(ctx, "run-1", "assistant", legacyws.Message{"pct": 50}) }, typed(facade.ProgressUpdate, "", legacyws.Message{"pct": 50})},
		{"custom", func() error { return b.NotifyCustom(ctx, "run-1", "assistant", "citation", params) }, facade.Event{Type: facade.Custom, Name: "citation", RunID: "run-1", UserID: "alice", Agent: "assistant", Data: params}},
		{"send to user", func() error { return m.SendToUser(ctx, "alice", legacyws.Message{"type": "pong", "n": 1}) }, facade.Raw(legacyws.Message{"type": "pong", "n": 1})},
		{"critical", func() error {
			return m.EmitCriticalEvent(ctx, "alice", "run_finished", legacyws.Message{"run_id": "run-1"})
		}, facade.Critical("run_finished", legacyws.Message{"run_id": "run-1"})},
	}
	for _, tt := range tests { // sequential: one socket
		require.NoError(t, tt.send(), tt.name)
		_, got, err := client.ReadMessage()
		require.NoError(t, err, tt.name)
		want, err := facade.EncodeEvent(tt.want, facade.EncodingLegacy, time.Now())
		require.NoError(t, err, tt.name)
		if timestamp.Match(want) {
			assert.Regexp(t, timestamp, string(got), tt.name)
		}
		const stamp = `"timestamp":"T"`
		assert.Equal(t, timestamp.ReplaceAllString(string(want), stamp), timestamp.ReplaceAllString(string(got), stamp), tt.name)
	}
}

// TestSendToAbsentUser pins the original bug: a message for a user with no
// connection is reported sent and kept where nothing reads it.
func TestSendToAbsentUser(t *testing.T) {
	t.Parallel()
	m := ws.NewManager()
	m.CriticalRetries, m.CriticalRetryDelay = 2, time.Millisecond
	ctx := t.Context()

	require.NoError(t, m.SendToUser(ctx, "bob", legacyws.Message{"type": "hello"}))
	require.NoError(t, m.EmitCriticalEvent(ctx, "bob", "run_finished", nil))
	assert.False(t, m.IsConnectionActive("bob"))
	assert.Equal(t, []string{}, m.GetUserConnections("bob"))
	assert.Equal(t, 2, m.Undelivered("bob"))

	connect(t, m, "bob")
	assert.True(t, m.IsConnectionActive("bob"))
	assert.Equal(t, 2, m.Undelivered("bob"), "a new connection does not get the backlog")
}
