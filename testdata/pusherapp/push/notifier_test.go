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
	"github.com/wsunify/wsunify/facade"
)

// hubServer serves a facade.Hub over loopback: /ws?user=U authenticates
// the connection as U and makes it ready at once.
func hubServer(t *testing.T) (*facade.Hub, func(t *testing.T, user string) *websocket.Conn) {
	t.Helper()
	hub := facade.NewHub(nil)
	t.Cleanup(func() { _ = hub.Close() })
	ready := make(chan struct{}, 8)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := hub.Accept(w, r, nil)
		if err != nil {
			return
		}
		if c.Authenticate(r.URL.Query().Get("user")) == nil && c.ServicesReady() == nil && c.Ready() == nil {
			ready <- struct{}{}
		}
	}))
	t.Cleanup(hs.Close)
	dial := func(t *testing.T, user string) *websocket.Conn {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		ws, res, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"?user="+user, nil)
		require.NoError(t, err)
		_ = res.Body.Close()
		t.Cleanup(func() { _ = ws.Close() })
		select {
		case <-ready:
		case <-ctx.Done():
			t.Fatal("the connection did not become ready")
		}
		return ws
	}
	return hub, dial
}

// payloads are what pusherapp's callers push: json.Marshal of their
// messages, with the characters json.Marshal escapes.
func payloads(t *testing.T) [][]byte {
	t.Helper()
	return [][]byte{
		marshal(t, map[string]any{"type": "notice", "text": "plain"}),
		marshal(t, map[string]any{"type": "notice", "text": "<b>tags</b> & \"quotes\"\n\ttabs"}),
		marshal(t, map[string]any{"type": "notice", "text": "línea\u2028séparée \U0001F680 \x7f"}),
		marshal(t, struct {
			Type    string  `json:"type"`
			Notices int64   `json:"notices"`
			Ratio   float64 `json:"ratio"`
			Tags    []string
			Empty   map[string]any `json:"empty"`
		}{"digest", 3, 1e21, []string{"a", "b"}, nil}),
		marshal(t, []any{1, "two", nil, true}),
		marshal(t, "a bare string"),
	}
}

// The wire promise of the migration: a payload json.Marshal wrote reaches
// the client over the hub as the very bytes Conns writes.
func TestOverKeepsTheBytes(t *testing.T) {
	t.Parallel()
	hub, dial := hubServer(t)
	alice := dial(t, "alice")
	p := Over(hub)
	for _, payload := range payloads(t) {
		require.NoError(t, p.Push("alice", payload))
		assert.Equal(t, string(payload), read(t, alice))
		p.PushAll(payload)
		assert.Equal(t, string(payload), read(t, alice))

		// the migrated form of a call site, as wsunify.recipe.go writes it
		require.NoError(t, NotifierOf(p).Notify(t.Context(), facade.ToUser("alice"), facade.Raw(json.RawMessage(payload))))
		assert.Equal(t, string(payload), read(t, alice))
	}
}

// What json.Marshal would not have written is sent as the hub sends any
// facade.Raw message: compacted, or refused when it is not JSON.
func TestOverCompactsOrRefusesOtherPayloads(t *testing.T) {
	t.Parallel()
	hub, dial := hubServer(t)
	alice := dial(t, "alice")
	p := Over(hub)
	require.NoError(t, p.Push("alice", []byte("{\"text\": \"<hi>\"}\n")))
	assert.Equal(t, `{"text":"\u003chi\u003e"}`, read(t, alice))
	assert.Error(t, p.Push("alice", []byte("not json")))
}

// Unlike Conns, the hub holds a push for a user with no connection.
func TestOverHoldsPushForOfflineUser(t *testing.T) {
	t.Parallel()
	hub, dial := hubServer(t)
	require.NoError(t, Over(hub).Push("carol", []byte(`{"type":"held"}`)))
	carol := dial(t, "carol")
	assert.Equal(t, `{"type":"held"}`, read(t, carol))
}

func TestNotifierOfOverIsTheHub(t *testing.T) {
	t.Parallel()
	hub := facade.NewHub(nil)
	t.Cleanup(func() { _ = hub.Close() })
	assert.Same(t, hub, NotifierOf(Over(hub)))
	assert.ErrorIs(t, NotifierOf(nil).Notify(t.Context(), facade.ToAll(), facade.Raw(1)), facade.ErrNilNotifier)
}

// NotifierOf a legacy Pusher sends back through its Push and PushAll, the
// bytes the hub would write.
func TestNotifierOfConns(t *testing.T) {
	t.Parallel()
	s := newConnsServer(t)
	alice, _ := s.dial(t, "alice")
	bob, _ := s.dial(t, "bob")
	n := NotifierOf(s.conns)
	ctx := t.Context()
	for _, payload := range payloads(t) {
		require.NoError(t, n.Notify(ctx, facade.ToUser("alice"), facade.Raw(json.RawMessage(payload))))
		assert.Equal(t, string(payload), read(t, alice))
	}
	require.NoError(t, n.Notify(ctx, facade.ToAll(), facade.Raw(map[string]any{"type": "digest"})))
	assert.Equal(t, `{"type":"digest"}`, read(t, alice))
	assert.Equal(t, `{"type":"digest"}`, read(t, bob))

	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := facade.Event{Type: facade.AgentStarted, RunID: "r1", UserID: "alice", Agent: "triage", Time: at}
	want, err := facade.EncodeEvent(ev, facade.EncodingLegacy, at)
	require.NoError(t, err)
	require.NoError(t, n.Notify(ctx, facade.ToUser("alice"), ev))
	assert.Equal(t, string(want), read(t, alice))

	assert.ErrorIs(t, n.Notify(ctx, facade.ToThread("t1"), facade.Raw(1)), facade.ErrInvalidTarget)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, n.Notify(cancelled, facade.ToUser("alice"), facade.Raw("not sent")), context.Canceled)
	require.NoError(t, n.Notify(ctx, facade.ToUser("alice"), facade.Raw("sent")))
	assert.Equal(t, `"sent"`, read(t, alice), "a push after the refused ones")
}
