package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"example.com/chatapp/internal/server"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start serves a Server for alice (token tok-alice) on loopback.
func start(t *testing.T, useBridge bool) *httptest.Server {
	t.Helper()
	srv := server.New(server.Config{Tokens: map[string]string{"tok-alice": "alice"}, UseBridge: useBridge})
	hts := httptest.NewServer(srv)
	t.Cleanup(func() {
		assert.NoError(t, srv.Close())
		hts.Close()
	})
	return hts
}

// timeout returns a context that ends with t, after 10s at most.
func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial opens a client on /ws?query, its reads bounded by ctx's deadline.
func dial(ctx context.Context, t *testing.T, hts *httptest.Server, query string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(hts.URL, "http")+"/ws?"+query, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	deadline, _ := ctx.Deadline()
	require.NoError(t, conn.SetReadDeadline(deadline))
	return conn
}

// frame is the part of a server message the tests look at.
type frame struct {
	Type         string `json:"type"`
	RunID        string `json:"run_id"`
	ConnectionID string `json:"connection_id"`
	Message      string `json:"message"`
}

func read(t *testing.T, conn *websocket.Conn) frame {
	t.Helper()
	var f frame
	require.NoError(t, conn.ReadJSON(&f))
	return f
}

func TestChatOverSocket(t *testing.T) {
	t.Parallel()
	chatOverSocket(t, start(t, true))
}

// chatOverSocket chats as alice over a real socket on hts: a message and
// the agent's run, the connections endpoint, an announcement, an error.
func chatOverSocket(t *testing.T, hts *httptest.Server) {
	t.Helper()
	conn := dial(timeout(t), t, hts, "token=tok-alice&thread_id=thread-1")
	hello := read(t, conn)
	require.Equal(t, "connection_established", hello.Type)

	require.NoError(t, conn.WriteJSON(map[string]string{"type": "user_message", "thread_id": "thread-1", "content": "hi"}))
	var types []string
	for f := read(t, conn); ; f = read(t, conn) {
		types = append(types, f.Type)
		if f.Type == "run_finished" {
			break
		}
	}
	assert.Equal(t, []string{"user_message_received", "run_started", "agent_started",
		"agent_thinking", "tool_executing", "tool_completed", "progress_update",
		"agent_thinking", "tool_executing", "tool_completed", "progress_update",
		"agent_completed", "run_finished"}, types)

	res, err := http.Get(hts.URL + "/users/alice/connections")
	require.NoError(t, err)
	var conns struct{ Connections []string }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&conns))
	_ = res.Body.Close()
	assert.Equal(t, []string{hello.ConnectionID}, conns.Connections)

	res, err = http.Post(hts.URL+"/announcements", "text/plain", strings.NewReader("back at 10"))
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusAccepted, res.StatusCode)
	assert.Equal(t, frame{Type: "announcement", Message: "back at 10"}, read(t, conn))

	require.NoError(t, conn.WriteJSON(map[string]string{"type": "dance"}))
	assert.Equal(t, frame{Type: "error", Message: `server: unknown message type "dance"`}, read(t, conn))
}

// TestPostMessage posts a message over HTTP while alice is connected: the
// run reports on her socket, as a message sent on it would.
func TestPostMessage(t *testing.T) {
	t.Parallel()
	hts := start(t, true)
	conn := dial(timeout(t), t, hts, "token=tok-alice")
	require.Equal(t, "connection_established", read(t, conn).Type)

	post := func(token, body string) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, hts.URL+"/messages", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = res.Body.Close() })
		return res
	}
	assert.Equal(t, http.StatusUnauthorized, post("stolen", `{"content":"hi"}`).StatusCode)
	assert.Equal(t, http.StatusBadRequest, post("tok-alice", `{"thread_id":"thread-1","content":""}`).StatusCode)

	res := post("tok-alice", `{"thread_id":"thread-1","content":"hi"}`)
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	var run struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&run))
	require.NotEmpty(t, run.RunID)
	assert.Equal(t, frame{Type: "user_message_received", RunID: run.RunID}, read(t, conn))
	for f := read(t, conn); f.Type != "run_finished"; f = read(t, conn) {
		assert.Equal(t, run.RunID, f.RunID, f.Type)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	hts := start(t, true)
	_, res, err := websocket.DefaultDialer.DialContext(timeout(t), "ws"+strings.TrimPrefix(hts.URL, "http")+"/ws?token=stolen", nil)
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
}
