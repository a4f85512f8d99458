package facade_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// A write is bounded by WriteTimeout only while it waits for a full send
// buffer. These tests fill the loopback socket's buffers for real.

// burstSeq reads the seq of a burst event without decoding its 8 KB of JSON
// (slow under -race on a loaded machine).
func burstSeq(t *testing.T, msg string) int {
	t.Helper()
	i := strings.LastIndex(msg, `"seq":`)
	require.GreaterOrEqual(t, i, 0, "no seq in %.80s", msg)
	var seq int
	_, err := fmt.Sscanf(msg[i+len(`"seq":`):], "%d", &seq)
	require.NoError(t, err)
	return seq
}

// burst queues n ~8 KB events for user, in order.
func burst(t *testing.T, h *facade.Hub, user string, from, n int) {
	t.Helper()
	pad := strings.Repeat("x", 8<<10)
	for i := from; i < from+n; i++ {
		require.NoError(t, h.Notify(context.Background(), facade.ToUser(user),
			facade.Raw(map[string]any{"user": user, "seq": i, "pad": pad})))
	}
}

func TestStalledClientFailsAfterWriteTimeout(t *testing.T) {
	t.Parallel()
	// The queue bound is far away: only the write deadline can end this.
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 256 << 20, WriteTimeout: 200 * time.Millisecond}, nil)
	_, c := s.dial(t, "stalled")
	ready(t, c, "u1")
	start := time.Now()
	pad := strings.Repeat("x", 8<<10)
	for i := range 4000 { // ~32 MB, more than loopback buffers hold
		err := s.hub.Notify(context.Background(), facade.ToUser("u1"), facade.Raw(map[string]any{"seq": i, "pad": pad}))
		if err != nil { // failed: what it did not get is held, up to the hold's bound
			require.ErrorIs(t, err, facade.ErrHoldFull)
			break
		}
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a client that stopped reading was never failed")
	}
	assert.Equal(t, facade.Failed, c.State())
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond, "not before the timeout")
	assert.EqualValues(t, 0, s.hub.Stats().SlowConsumers, "the deadline ended it, not the queue bound")
}

func TestWriteResumesAfterAFullSendBuffer(t *testing.T) {
	t.Parallel()
	// A wait is bounded per write of a batch (256 KB): the client reads
	// one within the timeout, however loaded the machine.
	const timeout = 3 * time.Second
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 256 << 20, HardQueueBytes: 256 << 20, WriteTimeout: timeout}, nil)
	ws, c := s.dial(t, "paused")
	ready(t, c, "u1")
	const n = 1500 // ~12 MB: the writer waits on a full buffer while the client pauses
	read := make(chan []string, 1)
	time.AfterFunc(300*time.Millisecond, func() { // the pause, from the burst's start
		var msgs []string
		_ = ws.SetReadDeadline(time.Now().Add(60 * time.Second))
		for range n {
			_, data, err := ws.ReadMessage()
			if err != nil {
				break
			}
			msgs = append(msgs, string(data))
		}
		read <- msgs
	})
	burst(t, s.hub, "u1", 0, n)
	msgs := <-read
	require.Len(t, msgs, n)
	for i, msg := range msgs {
		require.Equal(t, i, burstSeq(t, msg))
	}
	// The waits armed a deadline; once it is past, writes must still work.
	time.Sleep(timeout + 200*time.Millisecond)
	burst(t, s.hub, "u1", n, 3)
	for i, msg := range readN(t, ws, 3) {
		assert.Equal(t, n+i, burstSeq(t, msg))
	}
	assert.Equal(t, facade.ProcessingReady, c.State())
}

// keepalive returns a hub server that pings every 50ms and fails a client
// silent for a second.
func keepalive(t *testing.T) *server {
	return newServer(t, &facade.HubOptions{Logger: quiet, PingInterval: 50 * time.Millisecond, PongTimeout: time.Second}, nil)
}

func TestSilentClientIsFailedAfterPongTimeout(t *testing.T) {
	t.Parallel()
	for _, readyFirst := range []bool{false, true} {
		s := keepalive(t)
		nc := rawClient(t, s.srv.Listener.Addr().String(), "silent", "") // never reads, never answers a ping
		defer nc.Close()
		c := s.next(t)
		if readyFirst {
			ready(t, c, "u1")
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("ready=%v: a silent client was never failed", readyFirst)
		}
		assert.Equal(t, facade.Failed, c.State(), "ready=%v", readyFirst)
	}
}

func TestPongsKeepAClientAlive(t *testing.T) {
	t.Parallel()
	s := keepalive(t)
	ws, c := s.dial(t, "alive")
	ready(t, c, "u1")
	// gorilla answers pings while it reads: read all the time, and send
	// events until well past PongTimeout.
	got := make(chan string)
	go func() {
		defer close(got)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			got <- string(data)
		}
	}()
	for i := range 12 {
		notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", i))
		msg, ok := <-got
		require.True(t, ok, "connection ended after %d events", i)
		_, seq := seqOf(t, msg)
		require.Equal(t, i, seq)
		time.Sleep(250 * time.Millisecond)
	}
	assert.Equal(t, facade.ProcessingReady, c.State())
	require.NoError(t, c.Close(websocket.CloseNormalClosure, ""))
	for range got { // the reader ends with the connection
	}
}

func TestStalledClientDoesNotDelayAFanOut(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 256 << 20, HardQueueBytes: 256 << 20, MaxConnsPerUser: 8, WriteTimeout: 30 * time.Second}, nil)
	_, stalled := s.dial(t, "stalled") // never reads
	ready(t, stalled, "u1")
	var readers []*websocket.Conn
	for i := range 5 {
		ws, c := s.dial(t, fmt.Sprint("r", i))
		ready(t, c, "u1")
		readers = append(readers, ws)
	}
	const n = 600 // ~5 MB each: more than the stalled socket's buffers hold
	var wg sync.WaitGroup
	for _, ws := range readers {
		wg.Go(func() {
			for i, msg := range readN(t, ws, n) {
				if !assert.Equal(t, i, burstSeq(t, msg)) {
					return
				}
			}
		})
	}
	burst(t, s.hub, "u1", 0, n)
	wg.Wait()
	// The stalled client's writer waits out its 30 s deadline; the others
	// had everything before it ran out: the stalled one is still there.
	assert.Equal(t, facade.ProcessingReady, stalled.State())
}

// Over TLS the conn has no descriptor of its own: writes go through the
// writer goroutine under a deadline each, and the reader starts after
// registration. Same guarantees.
func TestTLSConnectionsKeepOrderAndHolds(t *testing.T) {
	t.Parallel()
	// The burst (~1.6 MB) must not trip the default 1 MiB queue bound.
	hub := facade.NewHub(&facade.HubOptions{Logger: quiet, MaxQueueBytes: 16 << 20})
	conns := make(chan *facade.Conn, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := hub.Accept(w, r, nil)
		if err == nil {
			conns <- c
		}
	}))
	defer srv.Close()
	defer func() { require.NoError(t, hub.Close()) }()

	d := websocket.Dialer{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}
	ws, _, err := d.Dial("wss"+strings.TrimPrefix(srv.URL, "https"), nil)
	require.NoError(t, err)
	defer ws.Close()
	c := <-conns
	for i := range 3 { // held for the user, before it is authenticated
		notify(t, hub, facade.ToUser("u1"), seqEvent("u1", i))
	}
	ready(t, c, "u1")
	burst(t, hub, "u1", 3, 200)
	for i, msg := range readN(t, ws, 203) {
		require.Equal(t, i, burstSeq(t, msg))
	}
	require.NoError(t, c.Close(websocket.CloseNormalClosure, "bye"))
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, websocket.CloseNormalClosure, ce.Code)
}
