package facade

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// Broker carries events between the hubs of several processes, so that
// [Hub.Notify] on one instance reaches connections on every instance. It is
// selected with [HubOptions].Broker; a nil Broker is the in-process default:
// the hub routes and holds events itself, with no setup, no goroutine and no
// allocation of its own per Notify. The facade/redisbroker package is the
// implementation over Redis.
//
// A hub with a Broker does not hold events itself: Notify encodes the event
// once and hands it to Publish; the broker brings it back, to this hub and
// to every other, through [Local.Deliver], and keeps what no connection was
// ready for (so the hub's Stats.Held stays zero; the broker has its own
// counters). A connection registered for a user or thread is announced with
// Join; when Join asks for it, the connection receives that target's events
// only after the broker has replayed what the connection missed with
// [Local.Replay], so the replay and the live events neither overlap nor
// leave a gap.
//
// A hub calls Start once, from NewHub, before anything else, and Close once,
// from [Hub.Close], after its connections are closed. A Broker serves one
// hub. Join, Leave and Ready are called with the hub's or the connection's
// lock held: they must not block and must not call back into the hub; a
// broker queues the work for a goroutine of its own. The other methods may
// block, bounded by their context or the broker's own timeouts.
type Broker interface {
	// Start binds the broker to the hub's side of the seam.
	Start(l *Local)

	// Publish sends an encoded event to the target's connections on every
	// hub. Errors it returns are Notify's: a *HoldError (errors.Is
	// ErrHoldFull) when the target's hold is at its bound, ErrUnknownTarget
	// for a connection no hub has, or the broker's own typed errors.
	Publish(ctx context.Context, to Target, ev Encoded) error

	// Join announces that c now belongs to to: a user (at Authenticate, with
	// the client's last event ID, "" if none), a thread (at JoinThread) or
	// the connection itself (at Accept). With replay true, the hub delivers
	// no event for to to c until the broker calls Local.Replay(c, to, ...).
	Join(c *Conn, to Target, lastEventID string) (replay bool)

	// Leave announces that c no longer belongs to to: it is closing, its
	// socket is closed and its writer has let go, so no Written for c
	// follows (a WriteObserver can send at Leave the marks of what c's
	// socket took). The hub routes c nothing from the moment it begins to
	// close, which can be up to WriteTimeout before Leave.
	Leave(c *Conn, to Target)

	// Ready announces that c became ProcessingReady.
	Ready(c *Conn)

	// Connected and ConnIDs answer Hub.Connected and Hub.ConnIDs across
	// every hub.
	Connected(userID string) bool
	ConnIDs(userID string) []string

	// Close stops the broker's goroutines.
	Close() error
}

// WriteObserver is a [Broker] that learns which of its events reached a
// client: after each write to a connection's socket, the hub calls Written
// for every user and thread of which the socket took an event whole, with
// the broker's ID of the newest such event (the connection's events of one
// target are written in the order the broker delivered them). An event
// queued on a connection that closes before its socket took it is never
// reported (once the hub sees a client close or go away, it writes it no
// more events). Every Written for a connection comes before its Leave.
// Written is called with the connection's lock held: it must not block and
// must not call back into the hub.
type WriteObserver interface {
	Written(c *Conn, to Target, id string)
}

// reportWrittenLocked reports to the hub's broker, if it is a
// WriteObserver, the events es that c's socket just took whole, in queue
// order: the newest of each user and thread. Called with c.mu held.
func (c *Conn) reportWrittenLocked(es []entry) {
	wo, ok := c.hub.o.Broker.(WriteObserver)
	if !ok || len(es) == 0 {
		return
	}
	var buf [4]Target
	done := buf[:0]
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if (e.key.kind != targetUser && e.key.kind != targetThread) || e.m.id == "" || slices.Contains(done, e.key) {
			continue
		}
		done = append(done, e.key)
		wo.Written(c, e.key, e.m.id)
	}
}

// Encoded is an event in its wire form, encoded once by Notify and shared,
// read-only, by every receiver: the wire bytes are a prefix chosen by the
// receiver's encoding followed by the body. A broker ships the parts, not
// the [Event], so no instance encodes it again. The zero Encoded is invalid.
type Encoded struct {
	m *message
}

// NewEncoded rebuilds an encoded event from its parts, as a broker received
// them: id is the broker's ID for it ("" if none), at the time it was
// notified, legacy and numeric the prefixes of the two encodings (numeric
// "" when it is the same as legacy) and body the rest of the wire bytes.
// Encoded keeps body; the caller must not change it afterwards.
func NewEncoded(id string, at time.Time, legacy, numeric string, body []byte) Encoded {
	return Encoded{&message{legacy: legacy, numeric: numeric, body: body, at: at, id: id, idBody: withoutMember(legacy, body, "event_id")}}
}

// ID returns the broker's ID of the event ("" when it has none).
func (e Encoded) ID() string { return e.m.id }

// At returns when the event was notified.
func (e Encoded) At() time.Time { return e.m.at }

// Legacy returns the prefix of the legacy encoding.
func (e Encoded) Legacy() string { return e.m.legacy }

// Numeric returns the prefix of the numeric encoding, "" when it is the
// same as Legacy.
func (e Encoded) Numeric() string { return e.m.numeric }

// Body returns the bytes after the prefix. The caller must not change them.
func (e Encoded) Body() []byte { return e.m.body }

// Bytes returns the complete wire form for enc, without an event ID.
func (e Encoded) Bytes(enc Encoding) []byte { return e.m.Bytes(enc) }

// Local is a hub's side of the [Broker] seam: what a broker calls to hand
// events to this hub's connections. Its methods are safe for concurrent use.
type Local struct{ h *Hub }

// Deliver queues ev on this hub's connections of to — every connection
// for ToAll, the members of a user or thread except those still waiting for
// their replay of it — and returns how many of them were ProcessingReady. It
// never holds: events no connection here takes are the broker's to keep.
func (l *Local) Deliver(to Target, ev Encoded) (ready int) {
	h := l.h
	var sched schedule
	defer sched.done(h) // after the unlock
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0
	}
	ev.m.seq = h.seq.Add(1)
	_, ready, err := h.routeLocked(to, ev.m, &sched)
	if err != nil {
		h.o.Logger.Warn("facade: broker event refused by a connection's queue", "target", to, "err", err)
	}
	return ready
}

// Replay puts evs, the events of to that c missed, in front of everything
// queued on c, in the order given, and from then on lets c receive to's
// live events. It reports whether c is ProcessingReady; it does nothing and
// reports false when c no longer waits for a replay of to (it closed).
func (l *Local) Replay(c *Conn, to Target, evs []Encoded) (ready bool) {
	h := l.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, waiting := c.awaiting[to]; !waiting {
		return false
	}
	delete(c.awaiting, to)
	es := make([]entry, len(evs))
	for i, ev := range evs {
		ev.m.seq = 0 // older than anything queued
		es[i] = entry{ev.m, to}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.state.Live() {
		return false
	}
	c.mergeLocked(es)
	return c.state == ProcessingReady
}

// HasConn reports whether this hub has a live connection with the ID.
func (l *Local) HasConn(id string) bool {
	l.h.mu.Lock()
	defer l.h.mu.Unlock()
	return l.h.conns[id] != nil
}

// ConnIDs returns the IDs of the user's authenticated connections on this
// hub, sorted.
func (l *Local) ConnIDs(userID string) []string { return l.h.localConnIDs(userID) }

// Logger returns the hub's logger.
func (l *Local) Logger() *slog.Logger { return l.h.o.Logger }

// Now reads the hub's clock.
func (l *Local) Now() time.Time { return l.h.o.Now() }

// joinLocked announces c's membership of to to the broker, if any; called
// with hub.mu held.
func (h *Hub) joinLocked(c *Conn, to Target, lastEventID string) {
	b := h.o.Broker
	if b == nil || !b.Join(c, to, lastEventID) {
		return
	}
	if c.awaiting == nil {
		c.awaiting = make(map[Target]struct{}, 1)
	}
	c.awaiting[to] = struct{}{}
}

// leaveLocked announces that c is gone from every target it belonged to;
// called with hub.mu held.
func (h *Hub) leaveLocked(c *Conn) {
	b := h.o.Broker
	if b == nil {
		return
	}
	b.Leave(c, ToConn(c.id))
	if c.userID != "" {
		b.Leave(c, ToUser(c.userID))
	}
	for t := range c.threadSeq {
		b.Leave(c, ToThread(t))
	}
	c.awaiting = nil
}
