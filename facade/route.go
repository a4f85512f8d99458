package facade

import (
	"errors"
	"fmt"
)

// deliver routes an encoded message of this hub's own Notify: to the
// connections of its target, or to the target's hold when a user or thread
// has none.
//
// The route to live connections holds the hub's lock shared: it changes
// no registry and no hold, only the connections' queues, each under its
// own lock, so publishers to distinct targets go side by side. A user or
// thread with no connection takes the exclusive lock, to hold. Events of
// concurrent Notify calls to one target have no order between them, as
// before; a Notify that returned is queued before any later one starts.
//
// Once the lock is released it puts the route's last writers in the
// flusher's line and starts the flusher goroutines owed (starting one may
// wake a thread: a syscall), and closes the slow consumers the route found.
func (h *Hub) deliver(to Target, m *message) error {
	var sched schedule
	err := h.deliverShared(to, m, &sched)
	if err == errNoMembers {
		err = h.deliverExclusive(to, m, &sched)
	}
	sched.done(h)
	return err
}

// errNoMembers is deliverShared's answer for a user or thread with no
// connection here: the event is to be held, under the exclusive lock.
var errNoMembers = errors.New("facade: no members")

// deliverShared routes m under the hub's lock held shared; it returns
// errNoMembers when m is to be held.
func (h *Hub) deliverShared(to Target, m *message, sched *schedule) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return ErrHubClosed
	}
	if to.kind == targetConn && h.conns[to.id] == nil {
		return fmt.Errorf("%w: %v", ErrUnknownTarget, to)
	}
	if (to.kind == targetUser || to.kind == targetThread) && len(h.membersLocked(to)) == 0 {
		return errNoMembers
	}
	return h.routeCounted(to, m, sched, false)
}

// deliverExclusive is deliver's path under the exclusive lock: the target
// had no member when deliverShared looked; it may have one now, and holds
// the event otherwise (routeCounted, which gives it its place in Notify
// order either way).
func (h *Hub) deliverExclusive(to Target, m *message, sched *schedule) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrHubClosed
	}
	return h.routeCounted(to, m, sched, true)
}

// routeCounted gives m its place in Notify order and routes it; a user or
// thread whose members all still wait for a Broker's replay holds it.
// Called with hub.mu held; only when that is exclusive can it hold:
// shared, it returns errNoMembers instead.
func (h *Hub) routeCounted(to Target, m *message, sched *schedule, exclusive bool) error {
	m.seq = h.seq.Add(1)
	offered, _, err := h.routeLocked(to, m, sched)
	if offered == 0 && (to.kind == targetUser || to.kind == targetThread) {
		if !exclusive {
			return errNoMembers
		}
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
// Local.Deliver both route through it; called with hub.mu held, shared or
// exclusive. The writers it wakes go in the flusher's line by chunks, and
// the slow consumers it finds to sched.slow: the caller calls sched.done
// once it has released hub.mu.
func (h *Hub) routeLocked(to Target, m *message, sched *schedule) (offered, ready int, err error) {
	var errs []error
	offer := func(c *Conn) {
		offered++
		isReady, err := c.enqueue(entry{m: m, key: to}, sched)
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
