package facade

// WriteEachSocket makes h's flushers write each socket with its own write
// call even where io_uring works, as they do where it does not (tests of
// that path; benchmarks comparing the two).
func WriteEachSocket(h *Hub, on bool) { h.flush.eachSocket.Store(on) }

// IOURingWorks reports whether the flushers batch their sends with
// io_uring on this machine.
func IOURingWorks() bool {
	r := getRing()
	putRing(r)
	return r != nil
}

// Flushers reports how many flusher goroutines h has, and how many of
// them are parked waiting for work.
func Flushers(h *Hub) (running, parked int) {
	h.flush.mu.Lock()
	defer h.flush.mu.Unlock()
	return h.flush.running, h.flush.parked
}
