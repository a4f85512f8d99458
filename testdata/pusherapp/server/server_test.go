package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsunify/wsunify/facade"

	"example.com/pusherapp/server"
)

var tokens = map[string]string{"tok-alice": "alice", "tok-bob": "bob"}

// modes are the two connection layers of the server.
var modes = []struct {
	name string
	hub  bool
}{{"own connections", false}, {"facade hub", true}}

type testServer struct {
	url string
}

func start(t *testing.T, hub bool, setup func(context.Context, string) error) *testServer {
	t.Helper()
	cfg := server.Config{Tokens: tokens, Setup: setup}
	if hub {
		cfg.Hub = facade.NewHub(nil)
	}
	srv := server.New(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		assert.NoError(t, srv.Close())
	})
	return &testServer{url: hs.URL}
}

func (s *testServer) dial(t *testing.T, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, res, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/ws?token="+token, nil)
	require.NoError(t, err)
	_ = res.Body.Close()
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

func (s *testServer) post(t *testing.T, path, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url+path, strings.NewReader(body))
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

func read(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	typ, b, err := ws.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, websocket.TextMessage, typ)
	return string(b)
}

// A session reads the same bytes over both connection layers.
func TestSession(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, m.hub, nil)
			alice := s.dial(t, "tok-alice")
			assert.Equal(t, `{"type":"hello","user_id":"alice"}`, read(t, alice))

			require.Equal(t, http.StatusAccepted, s.post(t, "/users/alice/notices", `{"text":"<b>ship</b> & tell"}`))
			assert.Equal(t, `{"type":"notice","text":"\u003cb\u003eship\u003c/b\u003e \u0026 tell"}`, read(t, alice))

			bob := s.dial(t, "tok-bob")
			assert.Equal(t, `{"type":"hello","user_id":"bob"}`, read(t, bob))
			require.Equal(t, http.StatusAccepted, s.post(t, "/digest", ""))
			assert.Equal(t, `{"type":"digest","notices":1}`, read(t, alice))
			assert.Equal(t, `{"type":"digest","notices":1}`, read(t, bob))

			require.Equal(t, http.StatusAccepted, s.post(t, "/users/bob/notices", `{"text":"only bob"}`))
			assert.Equal(t, `{"type":"notice","text":"only bob"}`, read(t, bob))
			require.Equal(t, http.StatusAccepted, s.post(t, "/digest", ""))
			assert.Equal(t, `{"type":"digest","notices":1}`, read(t, alice), "alice got bob's notice")
		})
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	s := start(t, false, nil)
	res, err := http.Get(s.url + "/ws?token=nope")
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, http.StatusBadRequest, s.post(t, "/users/alice/notices", `{"txt":"typo"}`))
}

// gate is a Setup that stops each connection until released.
type gate struct {
	entered  chan string
	release  chan struct{}
	released atomic.Bool
}

func newGate() *gate { return &gate{entered: make(chan string, 1), release: make(chan struct{})} }

func (g *gate) setup(ctx context.Context, user string) error {
	g.entered <- user
	select {
	case <-g.release:
		g.released.Store(true)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) wait(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection never reached setup")
	}
}

// The service's own connections write a push to a client still in setup,
// before its hello: the readiness bug the facade ends.
func TestPushDuringSetupOwnConnections(t *testing.T) {
	t.Parallel()
	g := newGate()
	s := start(t, false, g.setup)
	alice := s.dial(t, "tok-alice")
	g.wait(t)
	require.Equal(t, http.StatusAccepted, s.post(t, "/users/alice/notices", `{"text":"early"}`))
	assert.Equal(t, `{"type":"notice","text":"early"}`, read(t, alice))
	assert.False(t, g.released.Load(), "read during setup")
	close(g.release)
	assert.Equal(t, `{"type":"hello","user_id":"alice"}`, read(t, alice))
}

// Over the hub, nothing is written before the connection is ready.
func TestPushDuringSetupHub(t *testing.T) {
	t.Parallel()
	g := newGate()
	s := start(t, true, g.setup)
	alice := s.dial(t, "tok-alice")
	g.wait(t)
	require.Equal(t, http.StatusAccepted, s.post(t, "/users/alice/notices", `{"text":"early"}`))
	close(g.release)
	assert.Equal(t, `{"type":"notice","text":"early"}`, read(t, alice))
	assert.True(t, g.released.Load(), "written before setup was done")
	assert.Equal(t, `{"type":"hello","user_id":"alice"}`, read(t, alice))
}

// A notice for a user who is not connected is lost with the service's own
// connections and delivered when the user connects over the hub.
func TestNoticeWhileOffline(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, m.hub, nil)
			require.Equal(t, http.StatusAccepted, s.post(t, "/users/bob/notices", `{"text":"while away"}`))
			bob := s.dial(t, "tok-bob")
			first := read(t, bob)
			if m.hub {
				assert.Equal(t, `{"type":"notice","text":"while away"}`, first)
				first = read(t, bob)
			}
			assert.Equal(t, `{"type":"hello","user_id":"bob"}`, first)
		})
	}
}
