//go:build linux && (amd64 || arm64)

package facade_test

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// The facade in a sandbox that refuses io_uring, as Docker's default
// seccomp profile does (io_uring_setup, _enter and _register fail with
// EPERM), or a kernel short of memory for a ring (ENOMEM): a child process
// of this test binary installs a real seccomp filter on all its threads
// and runs a fan-out read by the strict parser. Refused from the start,
// no ring is made and every send is a write. Refused at run time, after
// the rings were made and used (a filter that comes late; the same shape
// as a ring whose every enter fails), every batch falls back to writes.
// Either way every client gets every event, once and in order.
func TestIOURingRefusedBySeccomp(t *testing.T) {
	if mode := os.Getenv(seccompChildEnv); mode != "" {
		seccompChild(t, mode)
		return
	}
	t.Parallel()
	if !facade.IOURingWorks() {
		t.Skip("io_uring is refused on this machine already: the write path is what every test runs")
	}
	for _, mode := range []string{"setup EPERM", "setup ENOMEM", "runtime EPERM"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			out := runChild(t, "TestIOURingRefusedBySeccomp", seccompChildEnv, mode)
			require.Contains(t, out, "seccomp filter installed", "the child ran the sandboxed case:\n%s", out)
		})
	}
}

const seccompChildEnv = "WSUNIFY_SECCOMP_CHILD"

func seccompChild(t *testing.T, mode string) {
	errno := syscall.EPERM
	if mode == "setup ENOMEM" {
		errno = syscall.ENOMEM
	}
	s := newServer(t, &facade.HubOptions{Logger: quiet}, nil)
	if mode == "runtime EPERM" {
		require.True(t, facade.IOURingWorks(), "before the filter")
		strictFanOut(t, s, "before", 48, 24)
	}
	refuseIOURing(t, errno)
	t.Log("seccomp filter installed")
	_, _, e := syscall.Syscall6(sysIOURingEnter, ^uintptr(0), 0, 0, 0, 0, 0)
	require.Equal(t, errno, e, "io_uring_enter is refused by the filter, not the kernel")
	if mode != "runtime EPERM" {
		require.False(t, facade.IOURingWorks(), "no ring is made under the filter")
	}
	strictFanOut(t, s, "after", 48, 24)
	require.NoError(t, s.Close())
}

const (
	sysIOURingSetup, sysIOURingEnter, sysIOURingRegister = 425, 426, 427

	prSetNoNewPrivs             = 38
	seccompSetModeFilter        = 1
	seccompFilterFlagTSync      = 1
	seccompRetAllow             = 0x7fff0000
	seccompRetErrno             = 0x00050000
	bpfLdWAbs, bpfJeqK, bpfRetK = 0x20, 0x15, 0x06
)

// sockFilter is struct sock_filter; no jump here is taken on false.
type sockFilter struct {
	code uint16
	jt   uint8
	_    uint8 // jf
	k    uint32
}

type sockFprog struct {
	len    uint16
	filter *sockFilter
}

// refuseIOURing makes every thread of the process fail io_uring's three
// calls with errno, as a container runtime's seccomp profile does.
func refuseIOURing(t *testing.T, errno syscall.Errno) {
	sysSeccomp := map[string]uintptr{"amd64": 317, "arm64": 277}[runtime.GOARCH]
	prog := []sockFilter{
		{code: bpfLdWAbs, k: 0}, // seccomp_data.nr
		{code: bpfJeqK, jt: 3, k: sysIOURingSetup},
		{code: bpfJeqK, jt: 2, k: sysIOURingEnter},
		{code: bpfJeqK, jt: 1, k: sysIOURingRegister},
		{code: bpfRetK, k: seccompRetAllow},
		{code: bpfRetK, k: seccompRetErrno | uint32(errno)},
	}
	fprog := sockFprog{len: uint16(len(prog)), filter: &prog[0]}
	_, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0)
	require.Zero(t, e, "prctl(PR_SET_NO_NEW_PRIVS)")
	_, _, e = syscall.RawSyscall(sysSeccomp, seccompSetModeFilter, seccompFilterFlagTSync, uintptr(unsafe.Pointer(&fprog)))
	require.Zero(t, e, "seccomp(SET_MODE_FILTER, TSYNC)")
	runtime.KeepAlive(prog)
}
