package facade

import (
	"context"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Conn is one client connection: its state machine, its queue, and the one
// writer of its socket. A Conn is made by [Hub.Accept].
//
// All methods are safe for concurrent use. The readiness methods
// (Authenticate, JoinThread, ServicesReady, Ready) are usually called in
// that order by the handler that accepted the connection.
type Conn struct {
	hub *Hub

	// What a route reads of every receiver comes first, so that it spans
	// few cache lines: awaiting (guarded by hub.mu), the lock, the state and
	// the writer's flags and queue.
	awaiting map[Target]struct{} // targets whose Broker replay has not come yet
	mu       sync.Mutex
	state    State
	w        writer // the one writer of the socket; see writer.go

	id        string
	ws        *websocket.Conn
	wire      *wireConn
	enc       Encoding
	skip      bool
	onMessage func(context.Context, *Conn, int, []byte)
	ctx       context.Context
	cancel    context.CancelFunc
	ready     chan struct{} // closed on ProcessingReady
	done      chan struct{} // closed on Closed or Failed
	lastEvent string        // the client's last event ID, for a Broker's replay
	eventIDs  bool          // write each event's broker ID on the wire

	// Guarded by hub.mu.
	userID    string
	userSeq   uint64            // hub seq when the user was registered
	threadSeq map[string]uint64 // hub seq when each thread was joined
	// awaiting, above

	// Guarded by mu, with state and w above.
	history    []Transition
	cause      closeCause // why it ends, set when it goes Closing
	readyTimer *time.Timer
	pingTimer  *time.Timer // from Accept: a connection not ready yet is kept alive too
}

// ID returns the connection's ID, the one ToConn takes.
func (c *Conn) ID() string { return c.id }

// UserID returns the authenticated user ("" before Authenticate).
func (c *Conn) UserID() string {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	return c.userID
}

// LastEventID returns the ID of the last event the client says it received
// ("" if none); see [AcceptOptions].LastEventID.
func (c *Conn) LastEventID() string { return c.lastEvent }

// Encoding returns the wire encoding the client negotiated.
func (c *Conn) Encoding() Encoding { return c.enc }

// State returns the current state.
func (c *Conn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// History returns every transition so far, oldest first.
func (c *Conn) History() []Transition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Transition(nil), c.history...)
}

// Done is closed when the connection is Closed or Failed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// transitionLocked moves the machine to `to` if the table allows it.
func (c *Conn) transitionLocked(to State) error {
	if !CanTransition(c.state, to, c.skip) {
		return &TransitionError{ConnID: c.id, From: c.state, To: to}
	}
	t := Transition{From: c.state, To: to, At: c.hub.now()}
	c.state = to
	c.history = append(c.history, t)
	c.hub.cb.fire(c, t)
	return nil
}

// Authenticate binds the connection to userID (Accepted → Authenticated).
// From now on, events for the user are queued on this connection, and the
// events held for the user while it had no connection move here, in order.
// They are written when the connection is Ready.
func (c *Conn) Authenticate(userID string) error {
	if err := ValidateID("user ID", userID); err != nil {
		return err
	}
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrHubClosed
	}
	if len(h.users[userID]) >= h.o.MaxConnsPerUser {
		return ErrTooManyConns
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.transitionLocked(Authenticated); err != nil {
		return err
	}
	c.userID, c.userSeq = userID, h.seq.Load()
	h.users[userID] = append(h.users[userID], c)
	c.mergeLocked(h.takeHoldLocked(ToUser(userID)))
	h.joinLocked(c, ToUser(userID), c.lastEvent)
	return nil
}

// JoinThread makes ToThread(threadID) reach this connection; events held for
// the thread move here, in order. Joining twice is a no-op.
func (c *Conn) JoinThread(threadID string) error {
	if err := ValidateID("thread ID", threadID); err != nil {
		return err
	}
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.state.Live() {
		return ErrConnClosed
	}
	if _, ok := c.threadSeq[threadID]; ok {
		return nil
	}
	if c.threadSeq == nil {
		c.threadSeq = make(map[string]uint64, 1)
	}
	c.threadSeq[threadID] = h.seq.Load()
	h.threads[threadID] = append(h.threads[threadID], c)
	c.mergeLocked(h.takeHoldLocked(ToThread(threadID)))
	h.joinLocked(c, ToThread(threadID), "")
	return nil
}

// ServicesReady records that the application finished setting up the
// connection's services (Authenticated → ServicesReady).
func (c *Conn) ServicesReady() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transitionLocked(ServicesReady)
}

// Ready makes the connection ProcessingReady: everything queued for it is
// written first, in Notify order, then new events as they come. Waiters in
// WaitReady wake at once, and inbound messages start to flow to OnMessage.
// The keepalive is left as it is: it runs from Accept on.
func (c *Conn) Ready() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.transitionLocked(ProcessingReady); err != nil {
		return err
	}
	c.readyTimer.Stop()
	close(c.ready)
	c.w.openLocked()
	if b := c.hub.o.Broker; b != nil {
		b.Ready(c)
	}
	return nil
}

// WaitReady blocks until the connection is ProcessingReady, ctx is done
// (ctx's error), or the connection ends first (ErrNotReady). It does not
// poll: Ready wakes it.
func (c *Conn) WaitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	default:
	}
	select {
	case <-c.ready:
		return nil
	case <-c.done:
		select {
		case <-c.ready: // became ready, then closed
			return nil
		default:
			return ErrNotReady
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close sends a close frame with code and reason after whatever is queued
// (bounded by WriteTimeout), closes the connection and unregisters it.
// Events queued and not written go back to their user's or thread's hold.
// Close is idempotent: later calls wait for the first and return nil.
func (c *Conn) Close(code int, reason string) error {
	c.terminate(closeCause{code: code, reason: reason, final: Closed, drain: true})
	return nil
}

// enqueue offers e to c and reports whether c is ready; called with
// hub.mu held, shared or exclusive. When c's writer is to be driven by the
// flusher, c goes to sched, which puts it in the flusher's line. A
// connection not ready yet refuses an event past MaxQueueBytes with a
// *HoldError. A ready one takes it up to HardQueueBytes (past it: a
// *HoldError); when its queue is over MaxQueueBytes and its socket has
// taken nothing for SlowConsumerAfter, it takes the event whatever its
// size and goes to sched.slow: the route's caller closes it as a slow
// consumer (Hub.closeSlow), which gives back what it did not get, this
// event included.
func (c *Conn) enqueue(e entry, sched *schedule) (ready bool, err error) {
	h := c.hub
	c.mu.Lock()
	if !c.state.Live() {
		c.mu.Unlock()
		return false, nil // unregistering; the hub no longer routes here
	}
	n := e.m.size()
	ready = c.state == ProcessingReady
	stalled := ready && c.w.stalledLocked()
	limit := h.o.MaxQueueBytes
	if ready {
		limit = h.o.HardQueueBytes
	}
	if !stalled && c.w.q.Bytes()+n > limit {
		c.mu.Unlock()
		h.rejected.Add(1)
		return ready, &HoldError{Target: ToConn(c.id), Bytes: n, Limit: limit}
	}
	c.w.q.Push(e, n) // ignores the queue's own bound; limit is the rule
	h.accepted.Add(1)
	if !ready {
		c.mu.Unlock()
		return false, nil
	}
	if !stalled {
		c.w.stalledLocked() // notes when the queue passes MaxQueueBytes
		toFlusher := c.w.claimLocked()
		c.mu.Unlock()
		if toFlusher {
			sched.add(h, c)
		}
		return true, nil
	}
	c.mu.Unlock()
	sched.slow = append(sched.slow, c) // closed by the route's caller, holding hub.mu exclusive
	return false, nil
}

// closeSlow closes cs, connections a route found stalled, as slow
// consumers: from then on nothing but the close frame is written to them,
// and what they did not get is given back (held for their user or thread).
// The route only queues on them, as the hub's lock may be held shared
// there; a connection closed meanwhile, or by Hub.Close, is left as it is.
func (h *Hub) closeSlow(cs []*Conn) {
	for _, c := range cs {
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			return
		}
		c.mu.Lock()
		queued, user := c.w.q.Bytes(), c.userID
		back, ok := c.beginCloseLocked(causeSlow)
		c.mu.Unlock()
		if ok {
			h.slow.Add(1) // counted before the close can end
			h.unregisterLocked(c)
			h.giveBackLocked(back)
			h.goOwned(c.finish)
		}
		h.mu.Unlock()
		if ok {
			h.o.Logger.Warn("facade: slow consumer disconnected", "conn", c.id, "user", user,
				"queued_bytes", queued, "max_queue_bytes", h.o.MaxQueueBytes, "stalled_for", h.o.SlowConsumerAfter)
		}
	}
}

// requeue gives c a message another connection could not deliver and
// reports whether c took it; called with hub.mu held. Before Ready it takes
// its place in Notify order.
func (c *Conn) requeue(e entry) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.state.Live() {
		return false
	}
	c.mergeLocked([]entry{e})
	return true
}

// registeredAfter reports whether c joined key after message seq was sent,
// so it did not receive it; called with hub.mu held.
func (c *Conn) registeredAfter(key Target, seq uint64) bool {
	switch key.kind {
	case targetUser:
		return c.userSeq >= seq
	case targetThread:
		s, ok := c.threadSeq[key.id]
		return ok && s >= seq
	}
	return false
}

// mergeLocked adds entries to the queue in Notify order. Entries come from
// holds, where the bound was already enforced, so the queue bound is not
// applied to them. A ready connection has written older entries already;
// there they are appended.
func (c *Conn) mergeLocked(es []entry) {
	if len(es) == 0 {
		return
	}
	q := &c.w.q
	cur := q.Drain(make([]entry, 0, q.Len()))
	all := make([]entry, 0, len(cur)+len(es))
	i, j := 0, 0
	for i < len(cur) && j < len(es) {
		if es[j].m.seq < cur[i].m.seq {
			all = append(all, es[j])
			j++
		} else {
			all = append(all, cur[i])
			i++
		}
	}
	all = append(append(all, cur[i:]...), es[j:]...)
	sizes := make([]int, len(all))
	for k, e := range all {
		sizes[k] = e.m.size()
	}
	q.PushFront(all, sizes)
	c.w.kickLocked()
}

// ping owes the client a ping and re-arms itself; it runs from Accept on,
// so a connection is kept alive the same way before Ready as after.
func (c *Conn) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.state.Live() {
		return
	}
	c.w.pingLocked()
	c.pingTimer.Reset(c.hub.o.PingInterval)
}
