package facade_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
)

// quiet discards the hub's logs in tests that provoke them.
var quiet = slog.New(slog.DiscardHandler)

// server is a hub behind a real HTTP server on loopback: wstest's, with
// the short names these tests use.
type server struct {
	*wstest.Server
	hub *facade.Hub
	srv *httptest.Server
}

func newServer(t testing.TB, opts *facade.HubOptions, aopts *facade.AcceptOptions) *server {
	t.Helper()
	ws := wstest.NewServer(t, facade.NewHub(opts), aopts)
	return &server{Server: ws, hub: ws.Hub, srv: ws.HTTP}
}

func (s *server) url(id string) string { return s.URL(wstest.Query{ID: id}) }

// dial connects a real gorilla client and returns it with the server side.
func (s *server) dial(t testing.TB, id string, subprotocols ...string) (*websocket.Conn, *facade.Conn) {
	t.Helper()
	return s.Gorilla(t, wstest.Query{ID: id}, subprotocols...)
}

// next returns the server side of the next connection accepted.
func (s *server) next(t testing.TB) *facade.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.NextConn(ctx)
	require.NoError(t, err)
	return c
}

// ready walks c through the readiness steps as user.
func ready(t testing.TB, c *facade.Conn, user string) {
	t.Helper()
	require.NoError(t, c.Authenticate(user))
	require.NoError(t, c.ServicesReady())
	require.NoError(t, c.Ready())
}

// readN reads n text messages, failing after a generous deadline.
func readN(t *testing.T, ws *websocket.Conn, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(30*time.Second)))
	for len(out) < n {
		typ, data, err := ws.ReadMessage()
		require.NoError(t, err, "after %d of %d messages", len(out), n)
		require.Equal(t, websocket.TextMessage, typ)
		out = append(out, string(data))
	}
	return out
}

// seqEvent is a Raw event carrying a sequence number.
func seqEvent(user string, i int) facade.Event {
	return facade.Raw(map[string]any{"user": user, "seq": i})
}

// seqOf decodes the sequence number of a seqEvent.
func seqOf(t *testing.T, msg string) (string, int) {
	t.Helper()
	var m struct {
		User string `json:"user"`
		Seq  int    `json:"seq"`
	}
	require.NoError(t, json.Unmarshal([]byte(msg), &m), msg)
	return m.User, m.Seq
}

func notify(t *testing.T, n facade.Notifier, to facade.Target, ev facade.Event) {
	t.Helper()
	require.NoError(t, n.Notify(context.Background(), to, ev))
}

type wsClient struct {
	ws    *websocket.Conn
	proto string
}
