package facade

// Stats is a snapshot of a hub's counters.
//
// Events are counted per copy: an event sent to a user with two
// connections is two copies. Every copy offered to a receiver (a
// connection's queue or a hold) is either refused — Rejected, and Notify
// returned a *HoldError for it — or Accepted; and every accepted copy is,
// at any moment, exactly one of: Written, Expired, Undelivered, or still
// Held or Queued (or in a write under way). So, once the hub is quiet,
//
//	Accepted == Written + Expired + Undelivered + Held + Queued
//
// and after Hub.Close, Held and Queued are zero. Moving a copy between a
// hold and a queue does not count again.
//
// Undelivered counts the copies given up: those of a connection that went
// away unsent when no other receiver needs them (a connection or broadcast
// target, a user's or thread's copy its other connections already had, or
// one a Broker keeps for a client that resumes), and the holds Hub.Close
// discards. An event a failed write cut is not among them: the client never
// had it whole, so it is given back like one never started.
type Stats struct {
	Conns     int // live connections
	Ready     int // of which ProcessingReady
	Users     int // users with a live authenticated connection
	Held      int // copies held for users and threads with no connection
	HeldBytes int
	Queued    int // copies queued on live connections, not yet written

	Notified      uint64 // Notify calls that reached every receiver or a hold
	Accepted      uint64 // copies put on a connection's queue or in a hold
	Written       uint64 // copies written to clients
	Rejected      uint64 // copies refused by a full hold or queue (*HoldError)
	Expired       uint64 // held copies discarded past HoldTTL
	Undelivered   uint64 // copies given up (see above)
	SlowConsumers uint64 // connections closed with CloseSlowConsumer
	ReadyTimeouts uint64 // connections failed with CloseReadyTimeout
	Failed        uint64 // connections that ended Failed
	BrokerErrors  uint64 // Notify calls the Broker failed (e.g. Redis unavailable)
}

// Stats returns a snapshot. It discards expired held events first.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	s := Stats{Conns: len(h.conns), Users: len(h.users)}
	for _, c := range h.conns {
		c.mu.Lock()
		if c.state == ProcessingReady {
			s.Ready++
		}
		s.Queued += c.w.q.Len()
		c.mu.Unlock()
	}
	for t, q := range h.holds {
		h.expireLocked(q)
		if q.Len() == 0 {
			delete(h.holds, t)
			continue
		}
		s.Held += q.Len()
		s.HeldBytes += q.Bytes()
	}
	h.mu.Unlock()
	s.Notified = h.notified.Load()
	s.Accepted = h.accepted.Load()
	s.Written = h.written.Load()
	s.Rejected = h.rejected.Load()
	s.Expired = h.expired.Load()
	s.Undelivered = h.undelivered.Load()
	s.SlowConsumers = h.slow.Load()
	s.ReadyTimeouts = h.readyTimeouts.Load()
	s.Failed = h.failed.Load()
	s.BrokerErrors = h.brokerErrors.Load()
	return s
}
