//go:build !unix

package facade

import "syscall"

const canWriteNow = false

func writeNow(syscall.RawConn, []byte) (int, error) { return 0, nil }

func waitReadable(syscall.RawConn) error { return nil }
