package facade

import "github.com/wsunify/wsunify/facade/internal/queue"

// Holds keep the events of a user or thread that has no live connection,
// bounded in bytes (HoldBytes) and in age (HoldTTL), until one authenticates
// (or joins the thread). Every function here is called with hub.mu held.

// holdLocked keeps m for a target with no live connection.
func (h *Hub) holdLocked(to Target, m *message) error {
	q := h.holdFor(to)
	h.expireLocked(q)
	if !q.Push(m, m.size()) {
		h.rejected.Add(1)
		if q.Len() == 0 {
			delete(h.holds, to)
		}
		return &HoldError{Target: to, Bytes: m.size(), Limit: h.o.HoldBytes}
	}
	h.accepted.Add(1)
	h.notified.Add(1)
	return nil
}

// holdFor returns the hold of t, made if need be.
func (h *Hub) holdFor(t Target) *queue.Queue[*message] {
	q := h.holds[t]
	if q == nil {
		nq := queue.New[*message](h.o.HoldBytes)
		q = &nq
		h.holds[t] = q
	}
	return q
}

// expireLocked discards held messages older than HoldTTL, counting them.
func (h *Hub) expireLocked(q *queue.Queue[*message]) {
	cutoff := h.o.Now().Add(-h.o.HoldTTL)
	n, _ := q.DropWhile(func(m *message) bool { return m.at.Before(cutoff) })
	if n > 0 {
		h.expired.Add(uint64(n))
		h.o.Logger.Warn("facade: held events expired", "count", n, "ttl", h.o.HoldTTL)
	}
}

// takeHoldLocked removes and returns the live messages held for t.
func (h *Hub) takeHoldLocked(t Target) []entry {
	q := h.holds[t]
	if q == nil {
		return nil
	}
	h.expireLocked(q)
	delete(h.holds, t)
	out := make([]entry, 0, q.Len())
	for {
		m, ok := q.Pop()
		if !ok {
			return out
		}
		out = append(out, entry{m: m, key: t})
	}
}

// giveBackLocked re-routes the unsent messages of a connection that is
// going away, so that none is lost unaccounted: a message for a user or
// thread goes to the members that did not get it (those registered after it
// was sent) or, when the target has no member, back to the hold in front of
// anything newer. A message the other members already had, or for a
// connection or broadcast target, is counted undelivered.
//
// With a Broker, a user's or thread's messages are left to it (counted
// undelivered here): it still has them, for a client that resumes from its
// last event ID.
func (h *Hub) giveBackLocked(back []entry) {
	held := make(map[Target][]*message)
	for _, e := range back {
		if (e.key.kind != targetUser && e.key.kind != targetThread) || h.o.Broker != nil {
			h.undelivered.Add(1)
			continue
		}
		members := h.membersLocked(e.key)
		if len(members) == 0 {
			held[e.key] = append(held[e.key], e.m)
			continue
		}
		took := 0
		for _, c := range members {
			if c.registeredAfter(e.key, e.m.seq) && c.requeue(e) {
				took++
			}
		}
		if took == 0 {
			h.undelivered.Add(1)
		} else {
			h.accepted.Add(uint64(took - 1)) // copies beyond the one given back
		}
	}
	for t, ms := range held {
		sizes := make([]int, len(ms))
		for i, m := range ms {
			sizes[i] = m.size()
		}
		h.holdFor(t).PushFront(ms, sizes)
	}
}

// discardHoldsLocked drops every hold (Hub.Close), counting its events
// undelivered.
func (h *Hub) discardHoldsLocked() {
	for _, q := range h.holds {
		h.undelivered.Add(uint64(q.Len()))
	}
	clear(h.holds)
}
