//go:build unix

package facade

import (
	"errors"
	"os"
	"syscall"
)

const canWriteNow = true

// writeNow writes as much of p as the socket accepts without blocking and
// returns how much that was. A full send buffer is not an error.
func writeNow(rc syscall.RawConn, p []byte) (n int, err error) {
	cerr := rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.Write(int(fd), p[n:])
			switch {
			case e == nil:
				n += m
			case errors.Is(e, syscall.EINTR):
			case errors.Is(e, syscall.EAGAIN):
				return true
			default:
				err = os.NewSyscallError("write", e)
				return true
			}
		}
		return true // never wait here: the caller decides how long to
	})
	if err == nil {
		err = cerr
	}
	return n, err
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
