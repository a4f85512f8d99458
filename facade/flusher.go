package facade

import (
	"runtime"
	"sync"
)

// flusher is the hub's shared driver of connection writers: at most
// GOMAXPROCS goroutines, which exist only while there is work, each taking
// a connection's writer role in turn and writing one batch of it without
// waiting (writer.flushPass). What a socket does not take at once moves to
// the connection's own goroutine, which waits under the write deadline. A
// flusher never waits on a connection — not on its socket, and not on a
// lock held across a write, for there is none — so a fan-out to many idle
// connections costs a few goroutines, not one per connection, and a slow
// client cannot stall the others.
type flusher struct {
	mu      sync.Mutex
	pending []*Conn // in line from head on; the array is kept when the line empties
	head    int
	running int
	max     int    // GOMAXPROCS when the hub was made
	start   func() // starts one more flusher goroutine; made once, so starting allocates nothing
}

// flushChunk is how many connections a flusher takes per lock.
const flushChunk = 32

// maxKeptLine is the longest line whose array is kept once it empties.
const maxKeptLine = 4096

// init makes f the flusher of h.
func (f *flusher) init(h *Hub) {
	f.max = runtime.GOMAXPROCS(0)
	f.start = func() {
		defer h.wg.Done()
		f.run()
	}
}

// add schedules c, whose writer role its caller has just taken.
func (f *flusher) add(h *Hub, c *Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) == cap(f.pending) && f.head > 0 {
		// Slide the line down rather than grow the array.
		n := copy(f.pending, f.pending[f.head:])
		clear(f.pending[n:])
		f.pending, f.head = f.pending[:n], 0
	}
	f.pending = append(f.pending, c)
	if f.running < f.max {
		f.running++
		h.wg.Add(1) // as goOwned, without a closure per start
		go f.start()
	}
}

func (f *flusher) run() {
	p := getPass()
	defer putPass(p)
	var chunk [flushChunk]*Conn
	for {
		f.mu.Lock()
		if f.head == len(f.pending) {
			f.running--
			clear(f.pending)
			f.pending, f.head = f.pending[:0], 0
			if cap(f.pending) > maxKeptLine {
				f.pending = nil
			}
			f.mu.Unlock()
			return
		}
		n := copy(chunk[:], f.pending[f.head:])
		clear(f.pending[f.head : f.head+n])
		f.head += n
		f.mu.Unlock()
		for _, c := range chunk[:n] {
			c.w.flushPass(p)
		}
		clear(chunk[:n])
	}
}
