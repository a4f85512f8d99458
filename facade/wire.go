package facade

import (
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// wireConn is the net.Conn beneath gorilla. After the handshake, gorilla
// does not write to the socket: a Write through this net.Conn (gorilla's
// close after a protocol error) is handed to the connection's writer as a
// control frame, which the writer puts between frames. The writer itself
// writes with writeNow and writeWait, which only it calls. So exactly one
// goroutine at a time writes to the socket, and no lock is held across a
// write.
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
	owner   atomic.Pointer[writer] // set once the handshake is written
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

// Write is gorilla's: the handshake response, written at once, then control
// frames, handed to the writer.
func (w *wireConn) Write(p []byte) (int, error) {
	if o := w.owner.Load(); o != nil {
		o.control(p)
		return len(p), nil
	}
	return w.writeWait(p, nil)
}

// writeWait writes all of p, waiting at most the write timeout once the
// socket's send buffer is full. It stores the time into progress (if not
// nil) whenever the socket takes bytes after a wait.
func (w *wireConn) writeWait(p []byte, progress *atomic.Int64) (int, error) {
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
	var m int
	var err error
	if w.raw != nil {
		m, err = writeWaiting(w.raw, p[n:], progress)
		// An expired deadline would fail the next writeNow.
		if derr := w.Conn.SetWriteDeadline(time.Time{}); err == nil {
			err = derr
		}
	} else {
		m, err = w.Conn.Write(p[n:])
	}
	return n + m, err
}

// SetWriteDeadline is ignored: the writer sets its own.
func (w *wireConn) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline applies to reads only, for the same reason.
func (w *wireConn) SetDeadline(t time.Time) error { return w.Conn.SetReadDeadline(t) }
