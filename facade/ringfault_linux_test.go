//go:build linux && (amd64 || arm64)

package facade

import (
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// RingFault makes the io_uring batches of the sends to one test server's
// sockets fail the ways kernels and sandboxes make them fail, through the
// ring's enter (ringEnterHook): a batch is matched when each send in it
// goes out of a socket whose local port is Port, the port of the test's
// own listener, so tests running beside it send untouched. Results come
// from the kernel, not made up: a failed send is a NOP that the kernel
// completes with the error asked for (IORING_NOP_INJECT_RESULT), so
// nothing was sent, as with a send that failed.
type RingFault struct {
	Port int

	// OpErr: every second send of a batch completes with -OpErr instead of
	// being sent.
	OpErr syscall.Errno
	// Cancel: sends go in linked pairs, the first failing (EINVAL), so the
	// kernel cancels the second: a real send completing with ECANCELED.
	Cancel bool
	// EnterErr: every second io_uring_enter of a batch fails with it
	// before the kernel takes anything.
	EnterErr syscall.Errno
	// PartialErr: the first enter of a batch of two sends or more submits
	// one only; the next fails with PartialErr (the rest never reaches
	// the kernel).
	PartialErr syscall.Errno

	// Seen counts what was done: results the kernel gave as asked
	// (completions with -OpErr, ECANCELED), enter calls failed.
	Seen atomic.Int64

	mu    sync.Mutex
	state map[*ring]*faultState // of the batch in flight on each ring
}

// faultState is where a ring's batch is: its tail, the enter calls made
// for it, and whether the next is to fail after a partial submission.
type faultState struct {
	tail    uint32
	calls   int
	partial bool
}

const (
	ioringOpNop           = 0
	ioringNopInjectResult = 1 << 0
	iosqeIOLink           = 1 << 2
)

var ringFaults struct {
	mu     sync.Mutex
	byPort map[int]*RingFault
}

// InjectRingFault makes f apply until the returned function is called.
// The hook is in place only while some fault is.
func InjectRingFault(f *RingFault) (undo func()) {
	f.state = make(map[*ring]*faultState)
	ringFaults.mu.Lock()
	defer ringFaults.mu.Unlock()
	if ringFaults.byPort == nil {
		ringFaults.byPort = make(map[int]*RingFault)
	}
	ringFaults.byPort[f.Port] = f
	hook := faultyEnter
	ringEnterHook.Store(&hook)
	return func() {
		ringFaults.mu.Lock()
		defer ringFaults.mu.Unlock()
		delete(ringFaults.byPort, f.Port)
		if len(ringFaults.byPort) == 0 {
			ringEnterHook.Store(nil)
		}
	}
}

// NopInjectWorks reports whether this kernel completes a NOP with the
// result asked for (Linux 6.10 and later), which RingFault's OpErr needs.
func NopInjectWorks() bool {
	r, err := newRing(4)
	if err != nil {
		return false
	}
	defer r.close()
	tail := atomic.LoadUint32(r.sqTail)
	*r.sqe(tail) = uringSQE{opcode: ioringOpNop, msgFlags: ioringNopInjectResult, len: negErrno(syscall.EOPNOTSUPP)}
	*(*uint32)(unsafe.Add(r.sqArray, uintptr(tail&r.sqMask)*4)) = tail & r.sqMask
	atomic.StoreUint32(r.sqTail, tail+1)
	if got, e := r.sysEnter(1, 1, ioringEnterGetEvts); e != 0 || got != 1 {
		return false
	}
	head := atomic.LoadUint32(r.cqHead)
	if atomic.LoadUint32(r.cqTail) == head {
		return false
	}
	res := r.cqe(head).res
	atomic.StoreUint32(r.cqHead, head+1)
	return res == -int32(syscall.EOPNOTSUPP)
}

func (r *ring) cqe(pos uint32) *uringCQE {
	return (*uringCQE)(unsafe.Add(r.cqes, uintptr(pos&r.cqMask)*unsafe.Sizeof(uringCQE{})))
}

// faultOf returns the fault of the test whose server socket fd is.
func faultOf(fd int32) *RingFault {
	sa, err := syscall.Getsockname(int(fd))
	if err != nil {
		return nil
	}
	var port int
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		port = a.Port
	case *syscall.SockaddrInet6:
		port = a.Port
	default:
		return nil
	}
	ringFaults.mu.Lock()
	defer ringFaults.mu.Unlock()
	return ringFaults.byPort[port]
}

// faultyEnter is ringEnterHook: the entries not yet submitted are the
// last toSubmit before the tail.
func faultyEnter(r *ring, toSubmit, minComplete, flags uint32) (uint32, syscall.Errno) {
	tail := atomic.LoadUint32(r.sqTail)
	var f *RingFault
	for pos := tail - toSubmit; pos != tail; pos++ {
		s := r.sqe(pos)
		if s.opcode == ioringOpNop {
			continue // made so by f, on an earlier call
		}
		g := faultOf(s.fd)
		if g == nil || (f != nil && g != f) {
			return r.sysEnter(toSubmit, minComplete, flags) // not (only) the test's
		}
		f = g
	}
	if f == nil {
		return r.sysEnter(toSubmit, minComplete, flags)
	}
	f.mu.Lock()
	st := f.state[r]
	if st == nil || st.tail != tail { // a new batch
		st = &faultState{tail: tail}
		f.state[r] = st
	}
	call, partial := st.calls, st.partial
	st.calls++
	st.partial = false
	f.mu.Unlock()
	switch {
	case f.EnterErr != 0 && call%2 == 0 && toSubmit > 0:
		f.Seen.Add(1)
		return 0, f.EnterErr
	case f.PartialErr != 0 && partial:
		f.Seen.Add(1)
		return 0, f.PartialErr
	case f.PartialErr != 0 && call == 0 && toSubmit >= 2:
		got, e := r.sysEnter(1, 0, 0)
		if e == 0 && got == 1 {
			f.mu.Lock()
			st.partial = true
			f.mu.Unlock()
		}
		return got, e
	case call == 0 && (f.OpErr != 0 || f.Cancel):
		k := 0
		for pos := tail - toSubmit; pos != tail; pos++ {
			s := r.sqe(pos)
			switch {
			case f.Cancel && k%2 == 0 && pos+1 != tail:
				*s = uringSQE{opcode: ioringOpNop, flags: iosqeIOLink, msgFlags: ioringNopInjectResult,
					len: negErrno(syscall.EINVAL), userData: s.userData}
			case f.OpErr != 0 && k%2 == 1:
				*s = uringSQE{opcode: ioringOpNop, msgFlags: ioringNopInjectResult,
					len: negErrno(f.OpErr), userData: s.userData}
			}
			k++
		}
	}
	head := atomic.LoadUint32(r.cqHead)
	got, e := r.sysEnter(toSubmit, minComplete, flags)
	for pos := head; pos != atomic.LoadUint32(r.cqTail); pos++ {
		switch res := r.cqe(pos).res; {
		case f.OpErr != 0 && res == -int32(f.OpErr), f.Cancel && res == -int32(syscall.ECANCELED):
			f.Seen.Add(1)
		}
	}
	return got, e
}

// negErrno is -e as the u32 an SQE's len holds.
func negErrno(e syscall.Errno) uint32 { return uint32(-int32(e)) }
