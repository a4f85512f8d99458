package facade

import (
	"errors"
	"fmt"
)

// deliver routes an encoded message of this hub's own Notify: to the
// connections of its target, or to the target's hold when a user or thread
// has none.
func (h *Hub) deliver(to Target, m *message) error {
	defer h.flush.startOwed(h) // after the unlock: it may wake a thread
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrHubClosed
	}
	if to.kind == targetConn && h.conns[to.id] == nil {
		return fmt.Errorf("%w: %v", ErrUnknownTarget, to)
	}
	h.seq++
	m.seq = h.seq
	offered, _, err := h.routeLocked(to, m)
	if offered == 0 && (to.kind == targetUser || to.kind == targetThread) {
		return h.holdLocked(to, m)
	}
	if err == nil {
		h.notified.Add(1)
	}
	return err
}

// routeLocked offers m (already given its seq) to every live connection of
// this hub that to reaches — every one for ToAll, the members of a user or
// thread except those still waiting for a Broker's replay of it — and
// returns how many it was offered to, how many of those are ready, and the
// receivers' refusals (*HoldError), joined. It never holds. Hub.deliver and
// Local.Deliver both route through it; called with hub.mu held. The
// writers it wakes go in the flusher's line by chunks; the caller calls
// flush.startOwed once it has released hub.mu.
func (h *Hub) routeLocked(to Target, m *message) (offered, ready int, err error) {
	var errs []error
	var sched schedule
	defer sched.put(h)
	offer := func(c *Conn) {
		offered++
		isReady, err := c.enqueue(entry{m: m, key: to}, &sched)
		if err != nil {
			errs = append(errs, err)
		} else if isReady {
			ready++
		}
	}
	switch to.kind {
	case targetConn:
		if c := h.conns[to.id]; c != nil {
			offer(c)
		}
	case targetAll:
		for _, c := range h.conns {
			offer(c)
		}
	default:
		for _, c := range h.membersLocked(to) {
			if _, waiting := c.awaiting[to]; !waiting {
				offer(c)
			}
		}
	}
	return offered, ready, errors.Join(errs...)
}

func (h *Hub) membersLocked(t Target) []*Conn {
	switch t.kind {
	case targetUser:
		return h.users[t.id]
	case targetThread:
		return h.threads[t.id]
	}
	return nil
}
