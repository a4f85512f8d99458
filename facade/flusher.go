package facade

import "sync"

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
	pending []*Conn
	running int
	max     int // GOMAXPROCS when the hub was made
}

// flushChunk is how many connections a flusher takes per lock.
const flushChunk = 32

// add schedules c, whose writer role its caller has just taken.
func (f *flusher) add(h *Hub, c *Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, c)
	if f.running < f.max {
		f.running++
		h.goOwned(func() { f.run() })
	}
}

func (f *flusher) run() {
	p := getPass()
	defer putPass(p)
	var chunk []*Conn
	for {
		f.mu.Lock()
		if len(f.pending) == 0 {
			f.running--
			f.pending = nil
			f.mu.Unlock()
			return
		}
		n := min(len(f.pending), flushChunk)
		chunk = append(chunk[:0], f.pending[:n]...)
		clear(f.pending[:n])
		f.pending = f.pending[n:]
		f.mu.Unlock()
		for _, c := range chunk {
			c.w.flushPass(p)
		}
		clear(chunk)
	}
}
