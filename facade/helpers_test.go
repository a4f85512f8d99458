package facade_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// quiet discards the hub's logs in tests that provoke them.
var quiet = slog.New(slog.DiscardHandler)

// server is a hub behind a real HTTP server on loopback. Each accepted
// connection is handed to setup on the handler's goroutine.
type server struct {
	hub   *facade.Hub
	srv   *httptest.Server
	conns chan *facade.Conn
}

func newServer(t testing.TB, opts *facade.HubOptions, aopts *facade.AcceptOptions) *server {
	t.Helper()
	s := &server{hub: facade.NewHub(opts), conns: make(chan *facade.Conn, 128)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := facade.AcceptOptions{}
		if aopts != nil {
			o = *aopts
		}
		o.ID = r.URL.Query().Get("id")
		c, err := s.hub.Accept(w, r, &o)
		if err != nil {
			return
		}
		s.conns <- c
	}))
	t.Cleanup(func() {
		require.NoError(t, s.hub.Close())
		s.srv.Close()
	})
	return s
}

func (s *server) url(id string) string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws?id=" + id
}

// dial connects a real gorilla client and returns it with the server side.
func (s *server) dial(t testing.TB, id string, subprotocols ...string) (*websocket.Conn, *facade.Conn) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: subprotocols}
	ws, _, err := d.Dial(s.url(id), nil)
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	select {
	case c := <-s.conns:
		return ws, c
	case <-time.After(5 * time.Second):
		t.Fatal("server never accepted")
		return nil, nil
	}
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
