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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
)

// These tests read the hub's every byte with wstest's strict client, which
// fails on the first frame that breaks RFC 6455 — a control frame inside a
// message, a torn frame, invalid UTF-8 — while the client floods pings and
// the server's send buffer fills and drains.

// strictEvent is the i-th event of a strict test: sizes vary, and the text
// is not all ASCII, so a frame torn apart shows as bad UTF-8 or a bad
// opcode.
func strictEvent(user string, i int) facade.Event {
	pad := strings.Repeat("é✓🙂", 1+(i*37)%700) // 9 bytes each: up to ~6 KB
	return facade.Raw(map[string]any{"user": user, "seq": i, "pad": pad})
}

// flood pings the server from c until ctx ends: thousands a second, in
// bursts, so that pongs are owed at every point of the stream.
func flood(ctx context.Context, c *wstest.Client) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		payload := []byte(strings.Repeat("p", 125))
		for i := 0; ctx.Err() == nil; i++ {
			if err := c.WritePing(ctx, payload); err != nil {
				return
			}
			if i%8 == 7 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	return &wg
}

// readStrict reads n messages from c and checks their seqs are 0..n-1.
func readStrict(c *wstest.Client, n int) error { return readStrictFrom(c, 0, n) }

// pingFloodCase sends n events to a client that floods pings while it
// reads as slow settings make it, and checks the stream byte by byte. The
// events come in small bursts, so the writer role often moves from the
// flusher to the connection's goroutine with a frame half written: the
// moment a pong must wait for.
func pingFloodCase(t *testing.T, hub *facade.Hub, client *wstest.Client, c *facade.Conn, pause bool, n int) {
	ready(t, c, "u1")
	ctx, stop := context.WithCancel(context.Background())
	pinging := flood(ctx, client)
	if pause {
		client.Pause()
	}
	for i := range n {
		require.NoError(t, hub.Notify(context.Background(), facade.ToUser("u1"), strictEvent("u1", i)))
		if i%4 == 3 {
			time.Sleep(time.Millisecond)
		}
	}
	if pause {
		time.Sleep(200 * time.Millisecond) // the writer waits on the full socket, pongs owed
		client.Resume()
	}
	require.NoError(t, readStrict(client, n))
	stop()
	pinging.Wait()
	require.NoError(t, c.Close(1000, "done"))
	ctx2, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ce, err := client.WaitClose(ctx2)
	require.NoError(t, err, "the close frame is whole and last")
	assert.Equal(t, 1000, ce.Code)
	assert.NoError(t, client.Err())
	assert.Positive(t, client.Stats().Pongs, "the pings were answered")
}

// Each 32 KB event starts in the hub's flusher while the client's socket
// is nearly full (the writer of the previous one has just let go), so the
// flusher writes part of the frame and hands the rest to the connection's
// goroutine, while pongs are owed: the hand-off where a pong once landed
// inside a data frame.
func TestPingFloodAcrossWriterHandOffs(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 64 << 20, HardQueueBytes: 64 << 20, WriteTimeout: 30 * time.Second}, nil)
	client, c := s.Strict(t, wstest.Query{ID: "c1"}, &wstest.Options{ReadBuffer: 1 << 20, ReadRate: 16 << 20})
	ready(t, c, "u1")
	ctx, stop := context.WithCancel(context.Background())
	pinging := flood(ctx, client)
	pad := strings.Repeat("é✓🙂", 32<<10/9)
	const n = 400
	read := make(chan error, 1)
	go func() { read <- readStrict(client, n) }()
	for i := range n {
		require.NoError(t, s.hub.Notify(context.Background(), facade.ToUser("u1"), facade.Raw(map[string]any{"seq": i, "pad": pad})))
		deadline := time.Now().Add(30 * time.Second)
		for s.hub.Stats().Written < uint64(i+1) && time.Now().Before(deadline) { // the writer lets go
			time.Sleep(100 * time.Microsecond)
		}
	}
	require.NoError(t, <-read)
	stop()
	pinging.Wait()
	assert.NoError(t, client.Err())
	assert.Positive(t, client.Stats().Pongs)
}

// A client floods pings while events stream to it: through the hub's
// flusher when it keeps up, through the connection's own writer when its
// socket is full (paused, or read at a trickle), and over TLS, where
// every write is the writer goroutine's. Pongs go between frames, never
// inside one; every event arrives whole, in order.
func TestPingFloodWhileTheSendBufferFills(t *testing.T) {
	t.Parallel()
	opts := &facade.HubOptions{Logger: quiet, MaxQueueBytes: 64 << 20, HardQueueBytes: 64 << 20, WriteTimeout: 30 * time.Second}
	for _, tc := range []struct {
		name  string
		o     wstest.Options
		pause bool
	}{
		{"flusher: the client keeps up", wstest.Options{}, false},
		{"writer: the client pauses", wstest.Options{ReadBuffer: 1 << 20}, true},
		{"writer: the client reads at a trickle", wstest.Options{ReadBuffer: 1 << 20, ReadRate: 2 << 20}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, opts, nil)
			client, c := s.Strict(t, wstest.Query{ID: "c1"}, &tc.o)
			pingFloodCase(t, s.hub, client, c, tc.pause, 1000) // ~3 MB
		})
	}
	t.Run("writer: TLS", func(t *testing.T) {
		t.Parallel()
		hub := facade.NewHub(opts)
		conns := make(chan *facade.Conn, 1)
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, err := hub.Accept(w, r, nil); err == nil {
				conns <- c
			}
		}))
		defer srv.Close()
		defer func() { require.NoError(t, hub.Close()) }()
		tlsConf := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		client, err := wstest.Dial(context.Background(), "wss"+strings.TrimPrefix(srv.URL, "https"), &wstest.Options{TLS: tlsConf})
		require.NoError(t, err)
		defer func() { assert.NoError(t, client.Close()) }()
		pingFloodCase(t, hub, client, <-conns, true, 500)
	})
}

// A fan-out to strict clients — one reading at full speed, one at a
// trickle, one paused, two flooding pings — leaves every stream valid and
// every event in order, for each.
func TestFanOutStreamsAreValid(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 64 << 20, HardQueueBytes: 64 << 20,
		MaxConnsPerUser: 8, WriteTimeout: 30 * time.Second}, nil)
	type reader struct {
		client *wstest.Client
		pause  bool
		pings  bool
	}
	var readers []reader
	for i, r := range []struct {
		o     wstest.Options
		pause bool
		pings bool
	}{
		{wstest.Options{}, false, false},
		{wstest.Options{}, false, true},
		{wstest.Options{ReadBuffer: 1 << 20, ReadRate: 8 << 20}, false, true},
		{wstest.Options{ReadBuffer: 1 << 20}, true, false},
		{wstest.Options{ReadBuffer: 1 << 20}, true, true},
	} {
		client, _ := s.Strict(t, wstest.Query{ID: fmt.Sprint("r", i), User: "u1"}, &r.o)
		readers = append(readers, reader{client, r.pause, r.pings})
	}
	ctx, stop := context.WithCancel(context.Background())
	var floods []*sync.WaitGroup
	for _, r := range readers {
		if r.pings {
			floods = append(floods, flood(ctx, r.client))
		}
		if r.pause {
			r.client.Pause()
		}
	}
	const n = 800
	for i := range n {
		require.NoError(t, s.hub.Notify(context.Background(), facade.ToAll(), strictEvent("all", i)))
	}
	time.Sleep(100 * time.Millisecond)
	var wg sync.WaitGroup
	for _, r := range readers {
		r.client.Resume()
		wg.Go(func() { assert.NoError(t, readStrict(r.client, n)) })
	}
	wg.Wait()
	stop()
	for _, f := range floods {
		f.Wait()
	}
	for _, r := range readers {
		assert.NoError(t, r.client.Err())
	}
}

// Hub.Close sends one close frame, 1001, and nothing after it: the client's
// echo of that close is not answered with a second one (gorilla's own
// close handler once did, unaware of the facade's frame).
func TestHubCloseSendsOneCloseFrame(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet}, nil)
	client, c := s.Strict(t, wstest.Query{ID: "c1", User: "u1"}, nil)
	require.Equal(t, facade.ProcessingReady, c.State())
	require.NoError(t, s.hub.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ce, err := client.WaitClose(ctx)
	require.NoError(t, err)
	assert.Equal(t, facade.CloseHubShutdown, ce.Code)
	require.NoError(t, client.Wait(ctx), "the stream ends after the one close frame")
	assert.NoError(t, client.Err(), "nothing after the close frame")
}
