//go:build unix

package facade

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const canWriteNow = true

// writeNow writes as much of p as the socket accepts without blocking and
// returns how much that was. A full send buffer is not an error.
func writeNow(rc syscall.RawConn, p []byte) (n int, err error) {
	return rawWrite(rc, p, false, nil)
}

// writeWaiting writes all of p, waiting in the network poller while the
// send buffer is full, until the conn's write deadline. It stores the time
// into progress whenever the socket takes bytes.
func writeWaiting(rc syscall.RawConn, p []byte, progress *atomic.Int64) (n int, err error) {
	return rawWrite(rc, p, true, progress)
}

// rawWriter is one RawConn.Write call: its arguments and results, and the
// callback, made once with the rawWriter. A closure made per call would
// escape through the RawConn interface and cost allocations on every
// write; rawWriters are pooled instead.
type rawWriter struct {
	p        []byte
	wait     bool // wait until writable while the send buffer is full
	progress *atomic.Int64
	n        int
	err      error
	fn       func(fd uintptr) bool // w.step
}

var rawWriters = sync.Pool{New: func() any {
	w := new(rawWriter)
	w.fn = w.step
	return w
}}

func rawWrite(rc syscall.RawConn, p []byte, wait bool, progress *atomic.Int64) (int, error) {
	w := rawWriters.Get().(*rawWriter)
	w.p, w.wait, w.progress = p, wait, progress
	cerr := rc.Write(w.fn)
	n, err := w.n, w.err
	if err == nil {
		err = cerr
	}
	*w = rawWriter{fn: w.fn}
	rawWriters.Put(w)
	return n, err
}

// step is the callback: it writes what the socket takes and reports
// whether the call is done (false: wait until writable).
func (w *rawWriter) step(fd uintptr) bool {
	m, e := writeSome(fd, w.p[w.n:], w.progress)
	w.n += m
	if e != nil {
		w.err = e
		return true
	}
	return !w.wait || w.n == len(w.p)
}

// writeSome writes p to fd until done or the buffer is full (EAGAIN).
func writeSome(fd uintptr, p []byte, progress *atomic.Int64) (n int, err error) {
	for n < len(p) {
		m, e := syscall.Write(int(fd), p[n:])
		switch {
		case e == nil:
			n += m
			if progress != nil {
				progress.Store(time.Now().UnixNano())
			}
		case errors.Is(e, syscall.EINTR):
		case errors.Is(e, syscall.EAGAIN):
			return n, nil
		default:
			return n, os.NewSyscallError("write", e)
		}
	}
	return n, nil
}

// waitReadable parks until rc has data to read, its peer closed, or an
// error or the read deadline ended the wait. It consumes nothing.
//
// It looks at the socket itself (a peek) before each wait rather than
// trusting the poller's first edge: the poller is edge-triggered, and
// RawConn.Read forgets a readiness already reported before it starts, so
// bytes that arrived before the call (the client's first frame, sent while
// this goroutine waited to be scheduled) would bring no further edge and
// the wait would last until the deadline.
func waitReadable(rc syscall.RawConn) error {
	return rc.Read(func(fd uintptr) bool {
		var b [1]byte
		for {
			_, _, e := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
			switch {
			case errors.Is(e, syscall.EINTR):
			case errors.Is(e, syscall.EAGAIN):
				return false // nothing yet: wait for the poller
			default: // data, the peer's close (0 bytes), or an error the reader will meet
				return true
			}
		}
	})
}
