package facade

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// flusher is the hub's shared driver of connection writers: at most
// GOMAXPROCS-1 goroutines (at least one), which exist while there is work
// and for flushLinger after it (parked, waiting for more), each taking
// a connection's writer role in turn and writing one batch of it without
// waiting (batch.flush). What a socket does not take at once moves to
// the connection's own goroutine, which waits under the write deadline. A
// flusher never waits on a connection — not on its socket, and not on a
// lock held across a write, for there is none — so a fan-out to many idle
// connections costs a few goroutines, not one per connection, and a slow
// client cannot stall the others. One processor is left to the rest: the
// publisher, whose route goes on while the first receivers are written,
// and the readers. With every processor writing, a fan-out's first bytes
// waited for the route to end (the peers harness, on 2 cores: publish →
// first client 2.0 ms with 2 flushers, 0.4 ms with 1, the last client
// no later).
type flusher struct {
	mu      sync.Mutex
	pending []*Conn // in line from head on; the array is kept when the line empties
	head    int
	running int    // goroutines running, or owed (counted here, not started yet)
	max     int    // GOMAXPROCS-1 when the hub was made, at least 1
	start   func() // starts one more flusher goroutine; made once, so starting allocates nothing

	owed atomic.Int32 // goroutines add counted in running and startOwed has yet to start

	// A goroutine out of work parks for flushLinger rather than exiting:
	// handing work to a parked one costs its waker a channel send, where
	// starting one costs a goroutine too (on this VM 4.3 µs of the
	// caller's CPU against 4.9-5.6 µs: the wake of the idle thread is the
	// rest, and neither avoids it).
	parked int           // parked goroutines no add has claimed yet (counted in running)
	wake   chan struct{} // one token per claim of a parked goroutine; capacity max
	kicks  atomic.Int32  // claims addAll made and startOwed has yet to send
	quit   chan struct{} // closed by the hub's Close: no goroutine parks from then on
	closed bool          // quit is closed

	// conns is how many connections the hub has: with none, a goroutine
	// out of work exits rather than park, and parked ones are let go
	// (leave), for no work can come but through a new connection: a hub
	// left open goes idle at once.
	conns atomic.Int32
	leave chan struct{} // one token per parked goroutine let go; capacity max

	eachSocket atomic.Bool // write each socket even where io_uring works (tests, benchmarks)
}

// flushChunk is how many connections a flusher takes per lock, and how
// many a fan-out puts in line per lock (schedule).
const flushChunk = 32

// maxKeptLine is the longest line whose array is kept once it empties.
const maxKeptLine = 4096

// flushLinger is how long a flusher goroutine out of work waits for more
// before it exits (while the hub has connections).
const flushLinger = time.Second

// init makes f the flusher of h.
func (f *flusher) init(h *Hub) {
	f.max = max(1, runtime.GOMAXPROCS(0)-1)
	f.wake = make(chan struct{}, f.max)
	f.leave = make(chan struct{}, f.max)
	f.quit = make(chan struct{})
	f.start = func() {
		defer h.wg.Done()
		f.run()
	}
}

// add schedules c, whose writer role its caller has just taken, and starts
// a flusher goroutine if one is owed. Notify's path schedules with a
// schedule instead, which starts none under the hub's lock.
func (f *flusher) add(h *Hub, c *Conn) {
	f.addAll(c)
	f.startOwed(h)
}

// addAll puts cs in line, under one lock, and counts a goroutine owed when
// fewer than max run: the caller calls startOwed, after releasing its
// locks if it can (starting one wakes a thread: a syscall).
func (f *flusher) addAll(cs ...*Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending)+len(cs) > cap(f.pending) && f.head > 0 {
		// Slide the line down rather than grow the array.
		n := copy(f.pending, f.pending[f.head:])
		clear(f.pending[n:])
		f.pending, f.head = f.pending[:n], 0
	}
	f.pending = append(f.pending, cs...)
	switch {
	case f.parked > 0:
		f.parked--
		f.kicks.Add(1)
	case f.running < f.max:
		f.running++
		f.owed.Add(1)
	}
}

// close makes every flusher goroutine exit once out of work, parked ones
// at once: the hub's Close, before it waits for them.
func (f *flusher) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.quit)
	}
}

// letParkedGo makes the parked goroutines exit: the hub's last
// connection has gone. Called with the hub's lock held.
func (f *flusher) letParkedGo() {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.parked
	f.parked, f.running = 0, f.running-n
	for range n {
		f.leave <- struct{}{} // never blocks: one token per goroutine parked
	}
}

// startOwed starts the goroutines addAll counted. Every path that puts a
// connection in line calls it, so none waits for a goroutine that is owed
// and never started.
func (f *flusher) startOwed(h *Hub) {
	if f.kicks.Load() > 0 {
		for n := f.kicks.Swap(0); n > 0; n-- {
			f.wake <- struct{}{} // never blocks: at most max claims are unreceived
		}
	}
	if f.owed.Load() == 0 {
		return
	}
	for n := f.owed.Swap(0); n > 0; n-- {
		h.wg.Add(1) // as goOwned, without a closure per start
		go f.start()
	}
}

// schedule collects the connections a Notify's route gives the writer role
// to and puts them in the flusher's line a chunk at a time: one lock per
// chunk instead of per receiver, and, in a fan-out, the first chunk's
// flusher starts writing while the route still queues for the others.
// Its zero value is empty; it lives on the route's caller's stack. It
// also collects the connections the route found stalled (slow), for the
// caller to close once the route has let go of the hub's lock.
type schedule struct {
	cs   [flushChunk]*Conn
	n    int
	slow []*Conn
}

// done ends a route's schedule, once its caller has released the hub's
// lock: the last chunk goes in line, flusher goroutines start, stalled
// connections are closed.
func (s *schedule) done(h *Hub) {
	s.put(h)
	h.flush.startOwed(h)
	if len(s.slow) > 0 {
		h.closeSlow(s.slow)
		s.slow = nil
	}
}

// add schedules c; a full chunk goes in line at once, and its goroutine
// starts at once too: the route is still running.
func (s *schedule) add(h *Hub, c *Conn) {
	s.cs[s.n] = c
	s.n++
	if s.n == len(s.cs) {
		s.put(h)
		h.flush.startOwed(h)
	}
}

// put puts the chunk collected so far in line.
func (s *schedule) put(h *Hub) {
	if s.n == 0 {
		return
	}
	h.flush.addAll(s.cs[:s.n]...)
	clear(s.cs[:s.n])
	s.n = 0
}

func (f *flusher) run() {
	b := batches.Get().(*batch)
	b.ring = getRing()
	defer func() {
		putRing(b.ring)
		b.ring = nil
		batches.Put(b)
	}()
	var chunk [flushChunk]*Conn
	var linger *time.Timer
	// The first turns of a run are short (1, 2, 4, ... connections, up
	// to flushChunk): a fan-out's first clients wait for no batch.
	take := 1
	for {
		f.mu.Lock()
		if f.head == len(f.pending) {
			clear(f.pending)
			f.pending, f.head = f.pending[:0], 0
			if cap(f.pending) > maxKeptLine {
				f.pending = nil
			}
			if f.closed || f.conns.Load() == 0 {
				f.running--
				f.mu.Unlock()
				return
			}
			f.parked++
			f.mu.Unlock()
			if linger == nil {
				linger = time.NewTimer(flushLinger)
			} else {
				linger.Reset(flushLinger)
			}
			putRing(b.ring) // rings are few: a parked goroutine holds none
			b.ring = nil
			if !f.park(linger) {
				return
			}
			b.ring = getRing()
			take = 1
			continue
		}
		n := copy(chunk[:take], f.pending[f.head:])
		take = min(2*take, flushChunk)
		clear(f.pending[f.head : f.head+n])
		f.head += n
		f.mu.Unlock()
		// A run's first turns are short enters (1, 2, 4, ... sends): the
		// kernel does not preempt a long io_uring_enter, so a client woken
		// by an early send onto this CPU waits for the enter's end, and a
		// fan-out's first clients get their event as soon as with a write
		// per socket. A short enter still costs less than a write.
		b.flush(chunk[:n], f.eachSocket.Load())
		clear(chunk[:n])
	}
}

// park waits, counted in parked, until an add claims this goroutine (true:
// work is in line) or the linger ends or the hub closes with nothing
// claimed, or letParkedGo lets it go (false: the goroutine has left the
// count and exits).
func (f *flusher) park(linger *time.Timer) bool {
	select {
	case <-f.wake:
		linger.Stop()
		return true
	case <-f.leave:
		linger.Stop()
		return false
	case <-linger.C:
	case <-f.quit:
		linger.Stop()
	}
	f.mu.Lock()
	if f.parked > 0 { // unclaimed: leave
		f.parked--
		f.running--
		f.mu.Unlock()
		return false
	}
	f.mu.Unlock()
	select { // claimed or let go meanwhile: its token is sent, or about to be
	case <-f.wake:
		return true
	case <-f.leave:
		return false
	}
}

// batch is a flusher's turn at a chunk of connections: each writer's
// batch taken and built, all written together — one io_uring_enter for
// the chunk where the platform has it (uring_linux.go), else one write
// per socket — then each settled, in line order. A connection's role is
// the flusher's from take to settle, as in a pass of one.
type batch struct {
	ring   *ring             // nil: write each socket
	passes [flushChunk]*pass // kept with the batch while their buffers are small
	conns  [flushChunk]*Conn
	raws   [flushChunk]syscall.RawConn
	bufs   [flushChunk][]byte
	ns     [flushChunk]int
	errs   [flushChunk]error
}

var batches = sync.Pool{New: func() any { return new(batch) }}

// maxKeptPassBytes bounds the buffer of a pass a batch keeps: up to
// flushChunk of them stay with each pooled batch. The first pass, the
// one a stream to a single connection writes through turn after turn,
// keeps a buffer of up to maxPooledBytes: a stream's batches (up to
// maxBatchBytes) are built in it without growing a buffer anew.
const maxKeptPassBytes = 64 << 10

func (b *batch) flush(cs []*Conn, eachSocket bool) {
	k := 0
	for _, c := range cs {
		if b.passes[k] == nil {
			b.passes[k] = getPass()
		}
		if !c.w.flushTake(b.passes[k]) {
			continue
		}
		b.conns[k], b.raws[k], b.bufs[k], b.ns[k], b.errs[k] = c, c.w.raw, b.passes[k].buf, 0, nil
		k++
	}
	if k == 0 {
		return
	}
	if b.ring == nil || eachSocket || !b.ring.sendPinned(b.raws[:k], b.bufs[:k], b.ns[:k], b.errs[:k]) {
		for i := range k {
			b.ns[i], b.errs[i] = writeNow(b.raws[i], b.bufs[i])
		}
	} else {
		for i := range k {
			if b.ns[i] < 0 { // the ring did not send it
				b.ns[i], b.errs[i] = writeNow(b.raws[i], b.bufs[i])
			}
		}
	}
	for i := range k {
		b.conns[i].w.flushSettle(b.passes[i], b.ns[i], b.errs[i])
		if p := b.passes[i]; cap(p.buf) > maxKeptPassBytes && (i > 0 || cap(p.buf) > maxPooledBytes) {
			putPass(p) // a large batch's buffer is not kept with the batch
			b.passes[i] = nil
		}
	}
	clear(b.conns[:k])
	clear(b.raws[:k])
	clear(b.bufs[:k])
	clear(b.errs[:k])
}
