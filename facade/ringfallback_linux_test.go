//go:build linux && (amd64 || arm64)

package facade_test

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// io_uring failing under a running hub, the ways kernels and sandboxes
// make it fail: a send completing with an error that is the ring's, not
// the socket's (EINVAL, EOPNOTSUPP, a send the kernel cancels), an
// io_uring_enter interrupted or refused before it takes anything, or one
// that fails after the kernel took part of a batch. A fan-out to enough
// clients that the flusher hands the sends of 16 and 32 connections to
// the ring at once must still deliver every event to every client, whole,
// once and in order (the strict frame parser reads each byte), and no
// healthy connection may be failed for what the ring did.
func TestRingFailuresFallBackToWrites(t *testing.T) {
	t.Parallel()
	if !facade.IOURingWorks() {
		t.Skip("io_uring is refused on this machine: there is no ring to fail")
	}
	for _, tc := range []struct {
		name  string
		fault *facade.RingFault
		nop   bool // needs a NOP that completes with the result asked for
	}{
		{name: "a send completes with EINVAL", fault: &facade.RingFault{OpErr: syscall.EINVAL}, nop: true},
		{name: "a send completes with EOPNOTSUPP", fault: &facade.RingFault{OpErr: syscall.EOPNOTSUPP}, nop: true},
		{name: "a send completes with ENOMEM", fault: &facade.RingFault{OpErr: syscall.ENOMEM}, nop: true},
		{name: "the kernel cancels a send", fault: &facade.RingFault{Cancel: true}, nop: true},
		{name: "enter is interrupted", fault: &facade.RingFault{EnterErr: syscall.EINTR}},
		{name: "enter finds no room", fault: &facade.RingFault{EnterErr: syscall.EAGAIN}},
		{name: "enter is busy", fault: &facade.RingFault{EnterErr: syscall.EBUSY}},
		{name: "enter is refused", fault: &facade.RingFault{EnterErr: syscall.EPERM}},
		{name: "enter fails after part of a batch", fault: &facade.RingFault{PartialErr: syscall.ENOMEM}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.nop && !facade.NopInjectWorks() {
				t.Skip("this kernel cannot complete a NOP with a given result (Linux 6.10+): no real way to make a send fail so")
			}
			ringFaultCase(t, tc.fault)
		})
	}
}

func ringFaultCase(t *testing.T, f *facade.RingFault) {
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 64 << 20, HardQueueBytes: 64 << 20, WriteTimeout: 30 * time.Second}, nil)
	_, port, err := net.SplitHostPort(s.srv.Listener.Addr().String())
	require.NoError(t, err)
	_, err = fmt.Sscan(port, &f.Port)
	require.NoError(t, err)
	undo := facade.InjectRingFault(f)
	defer undo()

	strictFanOut(t, s, "c", 48, 40)
	require.Positive(t, f.Seen.Load(), "the fault happened")
}
