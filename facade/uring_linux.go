//go:build linux && (amd64 || arm64)

package facade

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The flusher's batched write: the sends of a chunk of connections go to
// the kernel in one io_uring_enter instead of one write(2) each. On this
// project's 2-core VM a write(2) of one small frame to a loopback socket
// costs the writing thread 6.7-8 µs, of which the kernel crossing and Go's
// per-call poller work are most; a batch of them costs 2-3 µs a socket
// (../shared/bench/peers fan-out; BenchmarkFanout1000's ring-vs-write
// figures). Each send is MSG_DONTWAIT: what a full socket does not take
// comes back as a short count or EAGAIN, as from writeNow, never as a wait.
// Where io_uring is missing or refused (old kernels, seccomp, the sysctl
// io_uring_disabled), the flusher writes each socket with writeNow; so it
// does each send the ring did not make (refused, failed, never submitted).

const (
	sysIOURingSetup = 425
	sysIOURingEnter = 426

	ioringOpSend       = 26
	ioringEnterGetEvts = 1 << 0
	ioringFeatNoDrop   = 1 << 1 // completions are never dropped (5.5+)

	ioringOffSQRing = 0
	ioringOffCQRing = 0x8000000
	ioringOffSQEs   = 0x10000000
)

type uringSQOff struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type uringCQOff struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sq                                                                     uringSQOff
	cq                                                                     uringCQOff
}

// uringSQE is struct io_uring_sqe, laid out for IORING_OP_SEND.
type uringSQE struct {
	opcode   uint8
	flags    uint8
	ioprio   uint16
	fd       int32
	off      uint64
	addr     uint64
	len      uint32
	msgFlags uint32
	userData uint64
	bufIndex uint16
	persona  uint16
	splice   int32
	addr3    uint64
	pad      uint64
}

type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// ring is one io_uring instance, used by one flusher goroutine at a time.
type ring struct {
	// The batch being pinned and sent (sendPinned).
	raws   []syscall.RawConn
	bufs   [][]byte
	ns     []int
	errs   []error
	fds    [flushChunk]int32
	levels [flushChunk]pinLevel
	sent   bool

	fd      int
	entries uint32
	mem     [][]byte
	sqTail  *uint32
	sqMask  uint32
	sqArray unsafe.Pointer
	sqes    unsafe.Pointer
	cqHead  *uint32
	cqTail  *uint32
	cqMask  uint32
	cqes    unsafe.Pointer
}

func newRing(entries uint32) (*ring, error) {
	var p uringParams
	fd, _, e := syscall.Syscall(sysIOURingSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, os.NewSyscallError("io_uring_setup", e)
	}
	r := &ring{fd: int(fd), entries: p.sqEntries}
	for i := range r.levels {
		l := &r.levels[i]
		l.r, l.i = r, i
		l.fn = l.step
	}
	if p.features&ioringFeatNoDrop == 0 {
		r.close()
		return nil, errors.New("io_uring: kernel too old (no IORING_FEAT_NODROP)")
	}
	mmap := func(off int64, size uint32) ([]byte, error) {
		b, err := syscall.Mmap(r.fd, off, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
		if err != nil {
			return nil, os.NewSyscallError("mmap", err)
		}
		r.mem = append(r.mem, b)
		return b, nil
	}
	sq, err := mmap(ioringOffSQRing, p.sq.array+p.sqEntries*4)
	if err != nil {
		r.close()
		return nil, err
	}
	cq, err := mmap(ioringOffCQRing, p.cq.cqes+p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	if err != nil {
		r.close()
		return nil, err
	}
	sqes, err := mmap(ioringOffSQEs, p.sqEntries*uint32(unsafe.Sizeof(uringSQE{})))
	if err != nil {
		r.close()
		return nil, err
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqTail, r.sqMask = u32(sq, p.sq.tail), *u32(sq, p.sq.ringMask)
	r.sqArray = unsafe.Pointer(&sq[p.sq.array])
	r.sqes = unsafe.Pointer(&sqes[0])
	r.cqHead, r.cqTail, r.cqMask = u32(cq, p.cq.head), u32(cq, p.cq.tail), *u32(cq, p.cq.ringMask)
	r.cqes = unsafe.Pointer(&cq[p.cq.cqes])
	return r, nil
}

func (r *ring) close() {
	for _, b := range r.mem {
		_ = syscall.Munmap(b)
	}
	r.mem = nil
	_ = syscall.Close(r.fd)
}

// send writes bufs[i] to fds[i] (skipping fds[i] < 0), each once and
// without waiting, and stores what each socket took in ns[i], or -1 where
// the ring sent nothing and the caller is to write that socket itself:
// the send failed (whether the error is the socket's or the ring's, the
// caller's write meets the socket's own), or never reached the kernel. It
// returns once every send made has completed: the kernel holds no pointer
// into bufs afterwards. ok false means the ring failed as a whole; then no
// send was made and the caller writes each socket itself.
func (r *ring) send(fds []int32, bufs [][]byte, ns []int, errs []error) (ok bool) {
	tail := atomic.LoadUint32(r.sqTail)
	var queued uint32
	for i, fd := range fds {
		if fd < 0 || len(bufs[i]) == 0 {
			continue
		}
		idx := (tail + queued) & r.sqMask
		*r.sqe(idx) = uringSQE{
			opcode:   ioringOpSend,
			fd:       fd,
			addr:     uint64(uintptr(unsafe.Pointer(&bufs[i][0]))),
			len:      uint32(len(bufs[i])),
			msgFlags: syscall.MSG_DONTWAIT | syscall.MSG_NOSIGNAL,
			userData: uint64(i),
		}
		*(*uint32)(unsafe.Add(r.sqArray, uintptr(idx)*4)) = idx
		queued++
	}
	if queued == 0 {
		return true
	}
	atomic.StoreUint32(r.sqTail, tail+queued)
	var submitted, done uint32
	for done < queued {
		got, e := r.enter(queued-submitted, queued-done, ioringEnterGetEvts)
		switch {
		case e == syscall.EINTR || e == syscall.EAGAIN || e == syscall.EBUSY:
			// Nothing or part submitted; completions may be waiting: reap, go on.
		case e != 0:
			if submitted == 0 && done == 0 {
				// Nothing reached the kernel: take the entries back.
				atomic.StoreUint32(r.sqTail, tail)
				runtime.KeepAlive(bufs)
				return false
			}
			// The kernel took the first entries, and owns their buffers
			// until they complete: wait for them. The rest never reached
			// it: take them back, for the caller to write.
			for pos := tail + submitted; pos != tail+queued; pos++ {
				ns[r.sqe(pos).userData] = -1
			}
			atomic.StoreUint32(r.sqTail, tail+submitted)
			queued = submitted
		default:
			submitted += uint32(got)
		}
		head := atomic.LoadUint32(r.cqHead)
		for ctail := atomic.LoadUint32(r.cqTail); head != ctail; head++ {
			c := (*uringCQE)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*unsafe.Sizeof(uringCQE{})))
			i := c.userData
			switch res := c.res; {
			case res >= 0:
				ns[i] = int(res)
			case syscall.Errno(-res) == syscall.EAGAIN:
				ns[i] = 0 // a full socket: the caller moves the rest on
			default:
				// EINVAL, EOPNOTSUPP, ECANCELED, ENOMEM may be the ring's
				// own, not the socket's: nothing was sent, the caller
				// writes it.
				ns[i] = -1
			}
			done++
		}
		atomic.StoreUint32(r.cqHead, head)
	}
	runtime.KeepAlive(bufs)
	return true
}

// ringEnterHook, set by tests only, stands in for io_uring_enter: it
// makes the ring fail as kernels and sandboxes do (ringfault_linux_test.go).
var ringEnterHook atomic.Pointer[func(r *ring, toSubmit, minComplete, flags uint32) (uint32, syscall.Errno)]

// enter is io_uring_enter on r: submit toSubmit entries, wait for
// minComplete completions if flags has GETEVENTS.
func (r *ring) enter(toSubmit, minComplete, flags uint32) (uint32, syscall.Errno) {
	if h := ringEnterHook.Load(); h != nil {
		return (*h)(r, toSubmit, minComplete, flags)
	}
	return r.sysEnter(toSubmit, minComplete, flags)
}

func (r *ring) sysEnter(toSubmit, minComplete, flags uint32) (uint32, syscall.Errno) {
	got, _, e := syscall.Syscall6(sysIOURingEnter, uintptr(r.fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), 0, 0)
	return uint32(got), e
}

// sqe is the submission entry at position pos of the ring.
func (r *ring) sqe(pos uint32) *uringSQE {
	return (*uringSQE)(unsafe.Add(r.sqes, uintptr(pos&r.sqMask)*unsafe.Sizeof(uringSQE{})))
}

// sendPinned writes bufs[i] to raws[i] as send does, each descriptor held
// open until every send has completed: the connections' descriptors are
// pinned one inside the other and the ring is entered from the innermost.
// A descriptor is pinned with RawConn.Control, which holds a reference to
// it, so a Close meanwhile closes it only once the sends are done, and it
// cannot be reused for another socket while one is in flight — all the
// flusher needs: RawConn.Write would also take the descriptor's write lock
// and re-arm its poller, for a wait the flusher never does (a writer's
// role already keeps every other write of the socket out, and its write
// deadline is set only while the connection's own goroutine waits). A
// connection whose descriptor cannot be had (closed) gets that error and
// no send. It reports false, having written nothing, if the ring failed
// as a whole. ns[i] is -1 for a send the ring did not make: the caller
// writes that socket itself.
func (r *ring) sendPinned(raws []syscall.RawConn, bufs [][]byte, ns []int, errs []error) bool {
	if len(raws) > len(r.fds) {
		return false
	}
	r.raws, r.bufs, r.ns, r.errs, r.sent = raws, bufs, ns, errs, false
	r.pinFrom(0)
	sent := r.sent
	r.raws, r.bufs, r.ns, r.errs = nil, nil, nil, nil
	return sent
}

// pinLevel pins one connection's descriptor and goes on with the next
// while holding it; its fn is made once with the ring, so pinning
// allocates nothing.
type pinLevel struct {
	r      *ring
	i      int
	called bool
	fn     func(fd uintptr) // step
}

func (l *pinLevel) step(fd uintptr) {
	l.called = true
	l.r.fds[l.i] = int32(fd)
	l.r.pinFrom(l.i + 1)
}

// pinFrom pins raws[i:] and then sends.
func (r *ring) pinFrom(i int) {
	for ; i < len(r.raws); i++ {
		l := &r.levels[i]
		l.called = false
		err := r.raws[i].Control(l.fn)
		if l.called {
			return // step went on from i+1, holding this descriptor
		}
		if err == nil {
			err = errors.New("write: the descriptor was not handed over")
		}
		r.fds[i], r.errs[i] = -1, err
	}
	r.sent = r.send(r.fds[:len(r.raws)], r.bufs, r.ns, r.errs)
}

// rings are shared by every hub of the process, as its poller is: a
// flusher goroutine takes one for its run and gives it back. They are
// never closed; their number is bounded by the flushers that ever ran at
// once, at most maxRings.
var rings struct {
	once   sync.Once
	usable bool // io_uring works here (probed once)
	mu     sync.Mutex
	free   []*ring
	made   int
}

// maxRings bounds the rings made: flushers beyond it write each socket.
func maxRings() int { return 2 * runtime.GOMAXPROCS(0) }

// getRing returns a ring for one flusher run, or nil: then the flusher
// writes each socket itself.
func getRing() *ring {
	rings.once.Do(func() {
		r, err := newRing(flushChunk)
		if err != nil {
			return
		}
		rings.usable = probeRing(r)
		if !rings.usable {
			r.close()
			return
		}
		rings.free, rings.made = append(rings.free, r), 1
	})
	if !rings.usable {
		return nil
	}
	rings.mu.Lock()
	if n := len(rings.free); n > 0 {
		r := rings.free[n-1]
		rings.free = rings.free[:n-1]
		rings.mu.Unlock()
		return r
	}
	if rings.made >= maxRings() {
		rings.mu.Unlock()
		return nil
	}
	rings.made++
	rings.mu.Unlock()
	r, err := newRing(flushChunk)
	if err != nil {
		rings.mu.Lock()
		rings.made--
		rings.mu.Unlock()
		return nil
	}
	return r
}

func putRing(r *ring) {
	if r == nil {
		return
	}
	rings.mu.Lock()
	rings.free = append(rings.free, r)
	rings.mu.Unlock()
}

// probeBuf is what probeRing sends: not on a goroutine's stack, which
// may move, for a kernel that does not finish the send at once keeps
// its address until the ring is closed.
var probeBuf [4096]byte

// probeRing checks, once, that a send to a full socket completes at once
// with EAGAIN rather than waiting for room (kernels that ignore
// MSG_DONTWAIT in io_uring would make a flusher wait on a slow client),
// and that a send to a socket with room completes whole.
func probeRing(r *ring) bool {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	buf := probeBuf[:]
	for { // fill fds[0]'s send buffer
		if _, err := syscall.Write(fds[0], buf); err != nil {
			if err != syscall.EAGAIN {
				return false
			}
			break
		}
	}
	// Submit without waiting: a send the kernel does not finish at once
	// shows as a missing completion, not as a hang.
	idx := atomic.LoadUint32(r.sqTail) & r.sqMask
	*(*uringSQE)(unsafe.Add(r.sqes, uintptr(idx)*unsafe.Sizeof(uringSQE{}))) = uringSQE{
		opcode: ioringOpSend, fd: int32(fds[0]), addr: uint64(uintptr(unsafe.Pointer(&buf[0]))),
		len: uint32(len(buf)), msgFlags: syscall.MSG_DONTWAIT | syscall.MSG_NOSIGNAL,
	}
	*(*uint32)(unsafe.Add(r.sqArray, uintptr(idx)*4)) = idx
	atomic.AddUint32(r.sqTail, 1)
	if got, _, e := syscall.Syscall6(sysIOURingEnter, uintptr(r.fd), 1, 0, 0, 0, 0); e != 0 || got != 1 {
		return false // the ring is closed by the caller, which cancels what is pending
	}
	head := atomic.LoadUint32(r.cqHead)
	if atomic.LoadUint32(r.cqTail) == head {
		return false // it waits for room: not usable
	}
	c := (*uringCQE)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*unsafe.Sizeof(uringCQE{})))
	eagain := c.res == -int32(syscall.EAGAIN)
	atomic.StoreUint32(r.cqHead, head+1)
	runtime.KeepAlive(buf)
	if !eagain {
		return false
	}
	// Room on the other way: a send must complete whole.
	ns, errs := []int{0}, []error{nil}
	if !r.send([]int32{int32(fds[1])}, [][]byte{buf[:100]}, ns, errs) || errs[0] != nil || ns[0] != 100 {
		return false
	}
	return true
}
