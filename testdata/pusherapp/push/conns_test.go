package push

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connsServer serves Conns over loopback: /ws?user=U registers a
// connection of U and reads it until it closes.
type connsServer struct {
	conns *Conns
	url   string
	added chan *Client
}

func newConnsServer(t *testing.T) *connsServer {
	t.Helper()
	s := &connsServer{conns: NewConns(), added: make(chan *Client, 8)}
	var up websocket.Upgrader
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		cl := s.conns.Add(r.URL.Query().Get("user"), ws)
		defer cl.Close()
		s.added <- cl
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(hs.Close)
	s.url = "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	return s
}

// dial connects a client of user and waits until the server registered it.
func (s *connsServer) dial(t *testing.T, user string) (*websocket.Conn, *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, res, err := websocket.DefaultDialer.DialContext(ctx, s.url+"?user="+user, nil)
	require.NoError(t, err)
	_ = res.Body.Close()
	t.Cleanup(func() { _ = ws.Close() })
	select {
	case cl := <-s.added:
		return ws, cl
	case <-ctx.Done():
		t.Fatal("the server did not register the connection")
		return nil, nil
	}
}

// read returns the next message, which must be a text frame.
func read(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	typ, b, err := ws.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, websocket.TextMessage, typ)
	return string(b)
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestConnsPushReachesEveryConnectionOfTheUser(t *testing.T) {
	t.Parallel()
	s := newConnsServer(t)
	phone, _ := s.dial(t, "alice")
	laptop, _ := s.dial(t, "alice")
	bob, _ := s.dial(t, "bob")

	payload := marshal(t, map[string]string{"type": "notice", "text": "a <b> & c"})
	require.NoError(t, s.conns.Push("alice", payload))
	assert.Equal(t, string(payload), read(t, phone))
	assert.Equal(t, string(payload), read(t, laptop))

	// bob got nothing: the next frame he reads is the one for him.
	require.NoError(t, s.conns.Push("bob", []byte(`{"type":"for bob"}`)))
	assert.Equal(t, `{"type":"for bob"}`, read(t, bob))
}

func TestConnsPushAllReachesEveryone(t *testing.T) {
	t.Parallel()
	s := newConnsServer(t)
	alice, _ := s.dial(t, "alice")
	bob, _ := s.dial(t, "bob")
	s.conns.PushAll([]byte(`{"type":"digest","notices":2}`))
	assert.Equal(t, `{"type":"digest","notices":2}`, read(t, alice))
	assert.Equal(t, `{"type":"digest","notices":2}`, read(t, bob))
}

// The legacy delivery: a push for a user with no connection is dropped and
// reported as sent.
func TestConnsDropsPushForOfflineUser(t *testing.T) {
	t.Parallel()
	s := newConnsServer(t)
	require.NoError(t, s.conns.Push("carol", []byte(`{"type":"lost"}`)))
	carol, _ := s.dial(t, "carol")
	require.NoError(t, s.conns.Push("carol", []byte(`{"type":"after"}`)))
	assert.Equal(t, `{"type":"after"}`, read(t, carol), "the push before carol connected was kept")
}

func TestConnsCloseUnregisters(t *testing.T) {
	t.Parallel()
	s := newConnsServer(t)
	ws, cl := s.dial(t, "dave")
	require.True(t, s.conns.Connected("dave"))
	require.NoError(t, cl.Close())
	assert.False(t, s.conns.Connected("dave"))
	assert.NoError(t, s.conns.Push("dave", []byte(`{}`)), "a user with no connection is not an error")
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, _, err := ws.ReadMessage()
	assert.Error(t, err, "the client's socket stays open")
}
