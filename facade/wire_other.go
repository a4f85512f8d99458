//go:build !unix

package facade

import (
	"sync/atomic"
	"syscall"
)

const canWriteNow = false

func writeNow(syscall.RawConn, []byte) (int, error) { return 0, nil }

func writeWaiting(syscall.RawConn, []byte, *atomic.Int64) (int, error) { return 0, nil }

func waitReadable(syscall.RawConn) error { return nil }
