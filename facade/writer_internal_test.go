package facade

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// testWriter is a writer whose driver is the test: it holds the role, so
// nothing else takes it.
func testWriter(t *testing.T) *writer {
	h := NewHub(&HubOptions{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { _ = h.Close() })
	a, b := net.Pipe()
	t.Cleanup(func() { _ = b.Close() })
	c := &Conn{hub: h, id: "t", wire: &wireConn{Conn: a}, done: make(chan struct{}), state: ProcessingReady,
		cancel: func() {}, readyTimer: time.NewTimer(time.Hour)}
	c.w = newWriter(c)
	c.w.running = true
	c.w.open = true
	return &c.w
}

// take is a driver's take of a pass and the build of its frames, in one
// step: the tests hold the lock across both.
func take(w *writer, p *pass) bool {
	if !w.takeLocked(p) {
		return false
	}
	p.build(w.c)
	return true
}

// frames splits an unmasked server stream into its whole frames, and
// reports whether a torn one ends it.
func frames(t *testing.T, b []byte) (ops []int, payloads []string, torn bool) {
	t.Helper()
	for len(b) > 0 {
		if len(b) < 2 {
			return ops, payloads, true
		}
		op, n, hdr := int(b[0]&0x0f), int(b[1]&0x7f), 2
		require.Equal(t, byte(0x80), b[0]&0xf0, "FIN, no RSV")
		switch n {
		case 126:
			if len(b) < 4 {
				return ops, payloads, true
			}
			n, hdr = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			n, hdr = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		if len(b) < hdr+n {
			return ops, payloads, true
		}
		ops, payloads = append(ops, op), append(payloads, string(b[hdr:hdr+n]))
		b = b[hdr+n:]
	}
	return ops, payloads, false
}

// Whatever part of a pass the socket takes — a ping, a pong and three
// events, with a close decided meanwhile — the writer finishes the frame it
// began before any other, writes each event once, in order, and the close
// once, last; a ping or pong not begun when the close was decided is
// dropped.
func TestWriterSettlesEveryPartialWrite(t *testing.T) {
	t.Parallel()
	ev := func(i int) entry {
		body := []byte(fmt.Sprintf(`{"seq":%d,"pad":"%0200d"}`, i, i))
		return entry{m: &message{body: body, seq: uint64(i + 1), at: time.Now()}, key: ToUser("u")}
	}
	setup := func(closeFirst bool) (*writer, *pass) {
		w := testWriter(t)
		w.c.mu.Lock() // a failed write's close runs beside the test
		defer w.c.mu.Unlock()
		for i := range 3 {
			w.q.Push(ev(i), 1)
		}
		w.pingLocked()
		w.pongLocked([]byte("hi"))
		closeFrame := websocket.FormatCloseMessage(1000, "bye")
		if closeFirst { // in the pass, after the events
			w.closeLocked(closeFrame)
		}
		p := &pass{}
		require.True(t, take(w, p))
		// or decided while the pass is on its way
		w.closeLocked(closeFrame)
		return w, p
	}
	for _, closeFirst := range []bool{false, true} {
		_, first := setup(closeFirst)
		for n := 0; n <= len(first.buf); n++ {
			for _, fail := range []bool{false, true} {
				if fail && n == len(first.buf) {
					continue // all out: nothing failed
				}
				w, p := setup(closeFirst)
				w.c.mu.Lock()
				out := append([]byte(nil), p.buf[:n]...)
				var err error
				if fail {
					err = fmt.Errorf("broken pipe")
				}
				w.settleLocked(p, n, err)
				for !fail && take(w, p) {
					out = append(out, p.buf...)
					w.settleLocked(p, len(p.buf), nil)
				}
				if fail {
					require.False(t, take(w, p), "nothing after a failed write")
				}
				w.c.mu.Unlock()
				ops, payloads, torn := frames(t, out)
				if fail {
					// the events not written whole go back to the queue, to be given back
					written := 0
					for _, op := range ops {
						if op == websocket.TextMessage {
							written++
						}
					}
					<-w.c.done // the close gives back what the writer left
					st := w.c.hub.Stats()
					require.EqualValues(t, written, st.Written, "n=%d", n)
					require.EqualValues(t, 3-written, st.Held, "n=%d: the rest is held for the user", n)
					continue
				}
				require.False(t, torn, "n=%d", n)
				var seqs []string
				count := map[int]int{}
				for i, op := range ops {
					count[op]++
					switch op {
					case websocket.TextMessage:
						seqs = append(seqs, payloads[i][:9])
					case websocket.CloseMessage:
						require.Equal(t, len(ops)-1, i, "n=%d: the close is last", n)
					case websocket.PongMessage:
						require.Equal(t, "hi", payloads[i])
					}
				}
				require.Equal(t, []string{`{"seq":0,`, `{"seq":1,`, `{"seq":2,`}, seqs, "n=%d", n)
				require.Equal(t, 3, count[websocket.TextMessage], "n=%d", n)
				require.Equal(t, 1, count[websocket.CloseMessage], "n=%d", n)
				require.LessOrEqual(t, count[websocket.PongMessage], 1, "n=%d", n)
				if !closeFirst {
					require.Equal(t, min(n, 1), count[websocket.PingMessage], "n=%d: the ping, begun, is finished", n)
				}
				require.True(t, w.stopped)
			}
		}
	}
}

// A writer keeps the queue array a stream grew, while it holds the role and
// after it lets go (up to maxIdleSlots), so the stream's next events are
// pushed into it rather than into one grown anew; an idle writer gives it
// back at its next ping, and a larger one (a burst's) goes with the role.
func TestWriterKeepsAStreamsQueueArrayUntilItsPing(t *testing.T) {
	t.Parallel()
	e := entry{m: &message{body: []byte(`{}`), at: time.Now()}, key: ToUser("u")}
	w := testWriter(t)
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	fill := func(n int) {
		for range n {
			w.q.Push(e, 1)
		}
	}
	p := &pass{}
	fill(200)
	require.True(t, take(w, p))
	grown := w.q.Cap()
	require.GreaterOrEqual(t, grown, 200)
	fill(100)
	require.Equal(t, grown, w.q.Cap(), "the next turn's events go into the array the last one emptied")
	require.True(t, take(w, p))
	require.False(t, w.takeLocked(p), "nothing is left: the role is let go")
	require.Equal(t, grown, w.q.Cap(), "an idle writer keeps it")
	w.pingLocked()
	require.Zero(t, w.q.Cap(), "until its next ping")

	w2 := testWriter(t)
	w2.c.mu.Lock()
	defer w2.c.mu.Unlock()
	for range 2 * maxIdleSlots {
		w2.q.Push(e, 1)
	}
	require.True(t, take(w2, p))
	require.False(t, w2.takeLocked(p))
	require.Zero(t, w2.q.Cap(), "a burst's array goes with the role")
}

// A flusher's turn whose socket took nothing hands the role to the
// connection's own goroutine, which waits for room and then writes; the
// connection does not go back in the flusher's line, where it was taken
// and its frames built again at once, turn after turn, with nothing
// written: a flusher spinning on every full socket while the other
// connections waited (TestRingFanOutToPingingSlowAndClosingClients failed
// 4 runs in 10 under -race -count=10 beside other tests).
func TestFlushSettleOfAFullSocketLeavesTheLine(t *testing.T) {
	t.Parallel()
	h := NewHub(&HubOptions{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { _ = h.Close() })
	h.flush.max = 0 // no flusher goroutine takes the line: the test reads it
	a, b := net.Pipe()
	t.Cleanup(func() { _ = b.Close() })
	c := &Conn{hub: h, id: "t", wire: &wireConn{Conn: a, timeout: time.Minute}, done: make(chan struct{}),
		state: ProcessingReady, cancel: func() {}, readyTimer: time.NewTimer(time.Hour)}
	c.w = newWriter(c)
	w := &c.w
	w.running, w.open = true, true // the flusher's turn holds the role
	body := []byte(`{"seq":7}`)
	w.q.Push(entry{m: &message{body: body, seq: 1, at: time.Now()}, key: ToUser("u")}, 1)
	p := &pass{}
	c.mu.Lock()
	require.True(t, take(w, p))
	c.mu.Unlock()

	w.flushSettle(p, 0, nil) // the socket took nothing: it is full

	h.flush.mu.Lock()
	inLine := len(h.flush.pending) - h.flush.head
	h.flush.mu.Unlock()
	require.Zero(t, inLine, "the connection went back in the flusher's line")
	_ = b.SetReadDeadline(time.Now().Add(30 * time.Second))
	got := make([]byte, 2+len(body))
	_, err := io.ReadFull(b, got)
	require.NoError(t, err, "the connection's goroutine writes the event once there is room")
	ops, payloads, torn := frames(t, got)
	require.False(t, torn)
	require.Equal(t, []int{websocket.TextMessage}, ops)
	require.Equal(t, []string{string(body)}, payloads)
}
