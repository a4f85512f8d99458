package facade

import "sync"

// flusher writes the queues of connections with no writer running, on at
// most GOMAXPROCS shared goroutines that exist only while there is work.
// Its writes never wait: what a socket does not take at once goes to the
// connection's own writer goroutine (writeLoop), which waits under the write
// deadline. So a fan-out to many idle connections costs a few goroutines,
// not one per connection, and a slow client cannot stall the others.
type flusher struct {
	mu      sync.Mutex
	pending []*Conn
	running int
	max     int // GOMAXPROCS when the hub was made
}

// flushChunk is how many connections a flusher takes per lock.
const flushChunk = 32

// add schedules c, whose writing flag its caller has just set.
func (f *flusher) add(h *Hub, c *Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, c)
	if f.running < f.max {
		f.running++
		h.goOwned(func() { f.run(h) })
	}
}

func (f *flusher) run(h *Hub) {
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= maxPooledBytes {
			*bp = buf[:0]
			bufPool.Put(bp)
		}
	}()
	var chunk []*Conn
	var batch []entry
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
			buf, batch = c.flushPass(buf, batch)
		}
		clear(chunk)
	}
}

// flushPass writes one batch of c's queue without waiting. It keeps the
// writer role (c.writing) for the flusher while more is queued, hands it to
// a writer goroutine when the socket is full or a ping or close is owed, and
// gives it up when the queue is empty.
func (c *Conn) flushPass(buf []byte, batch []entry) ([]byte, []entry) {
	c.mu.Lock()
	if c.pingDue || c.closeFrame != nil {
		c.hub.goOwned(c.writeLoop)
		c.mu.Unlock()
		return buf, batch
	}
	batch = c.q.PopBatch(batch[:0], maxBatchBytes)
	if len(batch) == 0 {
		c.writing = false
		c.mu.Unlock()
		return buf, batch
	}
	c.mu.Unlock()

	buf = c.appendBatch(buf[:0], batch)
	c.wire.mu.Lock()
	n, err := writeNow(c.wire.raw, buf)
	c.wire.mu.Unlock()
	count := len(batch)
	clear(batch)
	switch {
	case err != nil:
		c.stopWriting(err)
	case n < len(buf):
		c.mu.Lock()
		c.leftover, c.leftoverCount = append([]byte(nil), buf[n:]...), count
		c.hub.goOwned(c.writeLoop)
		c.mu.Unlock()
	default:
		c.hub.written.Add(uint64(count))
		c.mu.Lock()
		if c.q.Len() == 0 && !c.pingDue && c.closeFrame == nil {
			c.writing = false
			c.mu.Unlock()
			return buf, batch
		}
		c.mu.Unlock()
		c.hub.flush.add(c.hub, c) // more came: back of the line
	}
	return buf, batch
}
