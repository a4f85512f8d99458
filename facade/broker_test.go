package facade_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// loopback is a Broker with one hub: Publish comes straight back through
// Local.Deliver, with an ID, and every call is recorded. Joins of users ask
// for a replay, which the test sends.
type loopback struct {
	local *facade.Local
	fail  error

	mu        sync.Mutex
	published []facade.Encoded
	joins     []string
	leaves    []string
	readies   int
	closed    bool
}

func (b *loopback) Start(l *facade.Local) { b.local = l }

func (b *loopback) Publish(_ context.Context, to facade.Target, ev facade.Encoded) error {
	if b.fail != nil {
		return b.fail
	}
	b.mu.Lock()
	b.published = append(b.published, ev)
	id := len(b.published)
	b.mu.Unlock()
	b.local.Deliver(to, facade.NewEncoded("0-"+string(rune('0'+id)), ev.At(), ev.Legacy(), ev.Numeric(), ev.Body()))
	return nil
}

func (b *loopback) Join(c *facade.Conn, to facade.Target, last string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.joins = append(b.joins, to.String()+"@"+last)
	return to == facade.ToUser(to.ID())
}

func (b *loopback) Leave(c *facade.Conn, to facade.Target) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.leaves = append(b.leaves, to.String())
}

func (b *loopback) Ready(*facade.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.readies++
}

func (b *loopback) Connected(string) bool   { return true }
func (b *loopback) ConnIDs(string) []string { return []string{"elsewhere"} }

func (b *loopback) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// With a Broker, Notify publishes the event encoded once; a joining
// connection receives nothing of its user until the broker's replay, which
// comes first; event IDs reach the wire only when opted in; the hub's
// lifecycle reaches the broker.
func TestBrokerSeam(t *testing.T) {
	b := &loopback{}
	s := newServer(t, &facade.HubOptions{Broker: b, Logger: quiet}, &facade.AcceptOptions{EventIDs: true, LastEventID: "0-0"})
	ws, c := s.dial(t, "c1")
	ready(t, c, "u1")
	assert.Equal(t, []string{"conn:c1@", "user:u1@0-0"}, b.joins)
	assert.Equal(t, 1, b.readies)
	assert.Equal(t, "0-0", c.LastEventID())

	// Live events wait for the replay.
	notify(t, s.hub, facade.ToUser("u1"), facade.Raw(map[string]any{"seq": 3}))
	require.Len(t, b.published, 1)
	want, err := facade.EncodeEvent(facade.Raw(map[string]any{"seq": 3}), facade.EncodingLegacy, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, string(want), string(b.published[0].Bytes(facade.EncodingLegacy)))

	missed := []facade.Encoded{
		facade.NewEncoded("0-a", time.Now(), "", "", []byte(`{"seq":1}`)),
		facade.NewEncoded("0-b", time.Now(), "", "", []byte(`{"seq":2}`)),
	}
	assert.False(t, b.local.Replay(c, facade.ToThread("t1"), missed), "no replay was asked for t1")
	assert.True(t, b.local.Replay(c, facade.ToUser("u1"), missed))
	notify(t, s.hub, facade.ToUser("u1"), facade.Raw(map[string]any{"seq": 4}))
	assert.Equal(t, []string{
		`{"event_id":"0-a","seq":1}`,
		`{"event_id":"0-b","seq":2}`,
		`{"event_id":"0-2","seq":4}`,
	}, readN(t, ws, 3), "live events wait for the replay, which a real broker makes cover them")

	assert.True(t, s.hub.Connected("nobody"), "presence is the broker's")
	assert.Equal(t, []string{"elsewhere"}, s.hub.ConnIDs("u1"))

	b.fail = errors.New("broker down")
	err = s.hub.Notify(context.Background(), facade.ToUser("u1"), facade.Raw(1))
	require.ErrorIs(t, err, b.fail)
	assert.Equal(t, uint64(1), s.hub.Stats().BrokerErrors)

	require.NoError(t, s.hub.Close())
	slices.Sort(b.leaves)
	assert.Equal(t, []string{"conn:c1", "user:u1"}, b.leaves)
	assert.True(t, b.closed)
}

// The client's last event ID comes from the option, else the Last-Event-ID
// header, else the last_event_id query parameter.
func TestLastEventIDFromTheRequest(t *testing.T) {
	for _, tc := range []struct {
		name, option, header, query, want string
	}{
		{name: "none"},
		{name: "header", header: "7-0", want: "7-0"},
		{name: "query", query: "8-0", want: "8-0"},
		{name: "header first", header: "7-0", query: "8-0", want: "7-0"},
		{name: "option first", option: "9-0", header: "7-0", query: "8-0", want: "9-0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, &facade.HubOptions{Broker: &loopback{}, Logger: quiet}, &facade.AcceptOptions{LastEventID: tc.option})
			u := s.url("c1")
			if tc.query != "" {
				u += "&last_event_id=" + tc.query
			}
			h := http.Header{}
			if tc.header != "" {
				h.Set("Last-Event-ID", tc.header)
			}
			ws, _, err := websocket.DefaultDialer.Dial(u, h)
			require.NoError(t, err)
			defer ws.Close()
			c := s.next(t)
			assert.Equal(t, tc.want, c.LastEventID())
		})
	}
}

// With event IDs on, the broker's is the one "event_id" on the wire: a Raw
// or Critical payload's own top-level "event_id" is left out (a client's
// parser would keep the last of two). Without them the payload is as sent.
func TestOneEventIDOnTheWire(t *testing.T) {
	t.Parallel()
	for _, ids := range []bool{true, false} {
		b := &loopback{}
		s := newServer(t, &facade.HubOptions{Broker: b, Logger: quiet}, &facade.AcceptOptions{EventIDs: ids})
		ws, c := s.dial(t, "c1")
		require.NoError(t, c.Authenticate("u1"))
		b.local.Replay(c, facade.ToUser("u1"), nil) // nothing missed
		require.NoError(t, c.ServicesReady())
		require.NoError(t, c.Ready())
		notify(t, s.hub, facade.ToUser("u1"), facade.Raw(map[string]any{"event_id": "app-42", "seq": 1, "z": map[string]any{"event_id": "nested"}}))
		notify(t, s.hub, facade.ToUser("u1"), facade.Critical("agent_started", map[string]any{"event_id": "app-43"}))
		got := readN(t, ws, 2)
		if ids {
			assert.Equal(t, `{"event_id":"0-1","seq":1,"z":{"event_id":"nested"}}`, got[0])
			assert.Equal(t, 1, strings.Count(got[1], `"event_id"`), got[1])
			assert.Contains(t, got[1], `{"event_id":"0-2",`)
		} else {
			assert.Equal(t, `{"event_id":"app-42","seq":1,"z":{"event_id":"nested"}}`, got[0])
			assert.Contains(t, got[1], `"event_id":"app-43"`)
		}
	}
}
