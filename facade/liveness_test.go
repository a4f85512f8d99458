package facade_test

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// readAll reads ws until it fails, answering pings as gorilla does, and
// returns the messages and the error that ended it.
func readAll(ws *websocket.Conn) (<-chan string, <-chan error) {
	msgs, end := make(chan string, 64), make(chan error, 1)
	go func() {
		defer close(msgs)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				end <- err
				return
			}
			msgs <- string(data)
		}
	}()
	return msgs, end
}

// A connection is kept alive before Ready as after it: with pings every
// 100 ms and a 1 s PongTimeout, a client that answers pings survives a
// Ready that comes 3 s late, and Ready does not restart the clock.
func TestLateReadyWithShortPingSettings(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, PingInterval: 100 * time.Millisecond,
		PongTimeout: time.Second, ReadyTimeout: 30 * time.Second}, nil)
	ws, c := s.dial(t, "late")
	msgs, _ := readAll(ws) // gorilla answers the pings while it reads
	require.NoError(t, c.Authenticate("u1"))
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 0))
	select {
	case <-c.Done():
		t.Fatalf("failed before Ready: %v", c.History())
	case <-time.After(3 * time.Second): // 3 × PongTimeout
	}
	require.NoError(t, c.ServicesReady())
	require.NoError(t, c.Ready())
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 1))
	for i := range 2 {
		_, seq := seqOf(t, <-msgs)
		assert.Equal(t, i, seq)
	}
	select {
	case <-c.Done():
		t.Fatalf("failed after Ready: %v", c.History())
	case <-time.After(500 * time.Millisecond):
	}
	assert.Equal(t, facade.ProcessingReady, c.State())
}

// With ReadyTimeout longer than PongTimeout, a client that answers pings
// but is never made ready is closed with CloseReadyTimeout, not dropped
// by the keepalive.
func TestReadyTimeoutBeyondPongTimeoutGives4009(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, PingInterval: 100 * time.Millisecond,
		PongTimeout: time.Second, ReadyTimeout: 3 * time.Second}, nil)
	ws, c := s.dial(t, "never")
	_, end := readAll(ws)
	err := <-end
	assert.True(t, websocket.IsCloseError(err, facade.CloseReadyTimeout), "got %v", err)
	<-c.Done()
	assert.Equal(t, facade.Failed, c.State())
	assert.EqualValues(t, 1, s.hub.Stats().ReadyTimeouts)
}

// Options that contradict each other are refused; defaults are derived
// from what is set.
func TestOptionsCannotContradict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    facade.HubOptions
		ok   bool
	}{
		{"defaults", facade.HubOptions{}, true},
		{"only a short PongTimeout", facade.HubOptions{PongTimeout: time.Second}, true},
		{"only a long PingInterval", facade.HubOptions{PingInterval: 2 * time.Minute}, true},
		{"ping at half the pong timeout", facade.HubOptions{PingInterval: time.Second, PongTimeout: 2 * time.Second}, true},
		{"ping slower than the pong timeout", facade.HubOptions{PingInterval: 2 * time.Second, PongTimeout: time.Second}, false},
		{"ping close to the pong timeout, as gorilla's chat example", facade.HubOptions{PingInterval: 54 * time.Second, PongTimeout: 60 * time.Second}, true},
		{"ping as slow as the pong timeout", facade.HubOptions{PingInterval: time.Second, PongTimeout: time.Second}, false},
		{"negative", facade.HubOptions{ReadyTimeout: -time.Second}, false},
		{"hard bound under the soft one", facade.HubOptions{MaxQueueBytes: 1 << 20, HardQueueBytes: 1 << 10}, false},
	} {
		err := tc.o.Validate()
		if tc.ok {
			assert.NoError(t, err, tc.name)
			h := facade.NewHub(&tc.o)
			require.NoError(t, h.Close())
			continue
		}
		assert.ErrorIs(t, err, facade.ErrInvalidOptions, tc.name)
		// An earlier version accepted these: NewHub says so and goes on.
		var log bytes.Buffer
		o := tc.o
		o.Logger = slog.New(slog.NewTextHandler(&log, nil))
		h := facade.NewHub(&o)
		require.NoError(t, h.Close())
		assert.Contains(t, log.String(), "hub options corrected", tc.name)
	}
}

// A client that only answers pings stays connected with a short
// PongTimeout, because the hub pings it often enough by default.
func TestShortPongTimeoutDerivesThePingInterval(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, PongTimeout: 2 * time.Second}, nil)
	ws, c := s.dial(t, "c1")
	readAll(ws)
	ready(t, c, "u1")
	select {
	case <-c.Done():
		t.Fatalf("a client answering pings was failed: %v", c.History())
	case <-time.After(5 * time.Second):
	}
}
