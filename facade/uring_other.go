//go:build !(linux && (amd64 || arm64))

package facade

import "syscall"

// ring is io_uring's batch of sends, on Linux only; elsewhere the flusher
// writes each socket itself (writeNow).
type ring struct{}

func getRing() *ring { return nil }

func putRing(*ring) {}

func (*ring) sendPinned([]syscall.RawConn, [][]byte, []int, []error) bool { return false }
