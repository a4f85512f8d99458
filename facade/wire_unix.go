//go:build unix

package facade

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

const canWriteNow = true

// writeNow writes as much of p as the socket accepts without blocking and
// returns how much that was. A full send buffer is not an error.
func writeNow(rc syscall.RawConn, p []byte) (n int, err error) {
	cerr := rc.Write(func(fd uintptr) bool {
		n, err = writeSome(fd, p, nil)
		return true // never wait here: the caller decides how long to
	})
	if err == nil {
		err = cerr
	}
	return n, err
}

// writeWaiting writes all of p, waiting in the network poller while the
// send buffer is full, until the conn's write deadline. It stores the time
// into progress whenever the socket takes bytes.
func writeWaiting(rc syscall.RawConn, p []byte, progress *atomic.Int64) (n int, err error) {
	cerr := rc.Write(func(fd uintptr) bool {
		m, e := writeSome(fd, p[n:], progress)
		n += m
		if e != nil {
			err = e
			return true
		}
		return n == len(p) // false: wait until writable
	})
	if err == nil {
		err = cerr
	}
	return n, err
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
func waitReadable(rc syscall.RawConn) error {
	first := true
	return rc.Read(func(uintptr) bool {
		if first {
			first = false
			return false // wait for the poller to report readiness
		}
		return true
	})
}
