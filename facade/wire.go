package facade

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// wireConn is the net.Conn beneath gorilla. Every write — the facade's
// batched frames and gorilla's own control frames (pong, protocol-error
// close) — takes its lock and is one Write call, so frames never interleave.
// It owns the write deadline.
//
// A write first gives the socket what it takes without waiting. Only when
// the kernel's send buffer is full does it arm the write deadline and wait,
// so the usual write costs one syscall and no timer: arming a deadline per
// write wakes the runtime's network poller and cost ~25 µs of a client's
// connect latency on a 2-core machine (BenchmarkConnect).
type wireConn struct {
	net.Conn
	raw     syscall.RawConn // nil when the conn has no file descriptor (TLS, pipes)
	timeout time.Duration
	mu      sync.Mutex
}

func newWireConn(nc net.Conn, timeout time.Duration) *wireConn {
	w := &wireConn{Conn: nc, timeout: timeout}
	if sc, ok := nc.(syscall.Conn); ok && canWriteNow {
		if rc, err := sc.SyscallConn(); err == nil {
			w.raw = rc
		}
	}
	return w
}

func (w *wireConn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	if w.raw != nil {
		var err error
		if n, err = writeNow(w.raw, p); err != nil || n == len(p) {
			return n, err
		}
	}
	// The send buffer is full (or there is no descriptor): wait, bounded.
	if err := w.Conn.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return n, err
	}
	m, err := w.Conn.Write(p[n:])
	if err == nil && w.raw != nil {
		// An expired deadline would fail the next writeNow.
		err = w.Conn.SetWriteDeadline(time.Time{})
	}
	return n + m, err
}

// SetWriteDeadline is ignored: Write sets its own, under the lock.
func (w *wireConn) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline applies to reads only, for the same reason.
func (w *wireConn) SetDeadline(t time.Time) error { return w.Conn.SetReadDeadline(t) }
