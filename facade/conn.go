package facade

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsunify/wsunify/facade/internal/queue"
)

// Conn is one client connection: its state machine, its queue, and the one
// goroutine that writes to it. A Conn is made by [Hub.Accept].
//
// All methods are safe for concurrent use. The readiness methods
// (Authenticate, JoinThread, ServicesReady, Ready) are usually called in
// that order by the handler that accepted the connection.
type Conn struct {
	hub       *Hub
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
	userSeq   uint64              // hub seq when the user was registered
	threadSeq map[string]uint64   // hub seq when each thread was joined
	awaiting  map[Target]struct{} // targets whose Broker replay has not come yet

	mu            sync.Mutex
	state         State
	history       []Transition
	q             queue.Queue[entry]
	writing       bool   // a writer (writeLoop or the hub's flusher) has the queue
	leftover      []byte // bytes of a batch the flusher could not write at once
	leftoverCount int    // the messages leftover completes
	pingDue       bool   // the writer owes a ping
	closeFrame    []byte // the close frame the writer owes, once all queued data is out
	flushed       chan struct{}
	flushOnce     sync.Once
	readyTimer    *time.Timer
	pingTimer     *time.Timer
}

// entry is a queued message and the target that brought it here.
type entry struct {
	m   *message
	key Target
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
	c.userID, c.userSeq = userID, h.seq
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
	c.threadSeq[threadID] = h.seq
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
func (c *Conn) Ready() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.transitionLocked(ProcessingReady); err != nil {
		return err
	}
	c.readyTimer.Stop()
	close(c.ready)
	if c.q.Len() > 0 {
		c.startWriterLocked()
	}
	c.pingTimer = time.AfterFunc(c.hub.o.PingInterval, c.ping)
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
	c.terminate(code, reason, Closed, true)
	return nil
}

// enqueue queues e; it is called with hub.mu held.
func (c *Conn) enqueue(e entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.state.Live() {
		return nil // unregistering; the hub no longer routes here
	}
	n := e.m.size()
	if !c.q.Push(e, n) {
		if c.state == ProcessingReady {
			c.slowLocked()
			return nil
		}
		c.hub.rejected.Add(1)
		return &HoldError{Target: ToConn(c.id), Bytes: n, Limit: c.q.Max()}
	}
	if c.state == ProcessingReady {
		c.startWriterLocked()
	}
	return nil
}

// requeue gives c a message another connection could not deliver; called
// with hub.mu held. Before Ready it takes its place in Notify order.
func (c *Conn) requeue(e entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Live() {
		c.mergeLocked([]entry{e})
	}
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
	cur := c.q.Drain(make([]entry, 0, c.q.Len()))
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
	c.q.PushFront(all, sizes)
	if c.state == ProcessingReady {
		c.startWriterLocked()
	}
}

// slowLocked disconnects a ready client whose queue passed its bound. The
// close happens on a hub goroutine, since Notify must not block.
func (c *Conn) slowLocked() {
	if c.closeFrame != nil {
		return
	}
	c.hub.slow.Add(1)
	c.closeFrame = []byte{} // mark: no more queueing while the close is scheduled
	c.hub.goOwned(func() { c.terminate(CloseSlowConsumer, "slow consumer", Failed, false) })
}

func (c *Conn) startWriterLocked() {
	if c.writing {
		return
	}
	c.writing = true
	if c.wire.raw != nil && !c.pingDue && c.closeFrame == nil {
		c.hub.flush.add(c.hub, c)
		return
	}
	c.hub.goOwned(c.writeLoop)
}

// ping asks the writer for a ping frame and re-arms itself.
func (c *Conn) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != ProcessingReady || c.closeFrame != nil {
		return
	}
	c.pingDue = true
	c.startWriterLocked()
	c.pingTimer.Reset(c.hub.o.PingInterval)
}

// Writer tuning.
const (
	maxBatchBytes  = 256 << 10 // one write syscall carries at most about this much
	maxPooledBytes = 1 << 20   // larger buffers are not kept for reuse
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeLoop is the connection's writer when a write may wait: the socket
// was full for the flusher (whose leftover bytes it writes first), or a
// ping or the close frame is owed, or the conn has no descriptor. It runs
// while there is something to write and exits when the queue is empty, so
// an idle connection holds neither a goroutine nor a buffer. Each pass
// drains a batch and writes all its frames — still one message per frame —
// with one syscall.
func (c *Conn) writeLoop() {
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	var batch []entry
	defer func() {
		if cap(buf) <= maxPooledBytes {
			*bp = buf[:0]
			bufPool.Put(bp)
		}
	}()
	c.mu.Lock()
	leftover, count := c.leftover, c.leftoverCount
	c.leftover, c.leftoverCount = nil, 0
	c.mu.Unlock()
	if leftover != nil {
		if _, err := c.wire.Write(leftover); err != nil {
			c.stopWriting(err)
			return
		}
		c.hub.written.Add(uint64(count))
	}
	for {
		c.mu.Lock()
		batch = c.q.PopBatch(batch[:0], maxBatchBytes)
		ping := c.pingDue
		c.pingDue = false
		var closing []byte
		if c.q.Len() == 0 && c.closeFrame != nil && c.state == Closing {
			closing = c.closeFrame
		}
		if len(batch) == 0 && !ping && closing == nil {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()

		buf = buf[:0]
		if ping {
			buf = appendFrame(buf, websocket.PingMessage, "", nil)
		}
		buf = c.appendBatch(buf, batch)
		if closing != nil {
			buf = appendFrame(buf, websocket.CloseMessage, "", closing)
		}
		_, err := c.wire.Write(buf)
		clear(batch)
		if err == nil {
			c.hub.written.Add(uint64(len(batch)))
		}
		if err != nil || closing != nil {
			c.stopWriting(err)
			return
		}
	}
}

// stopWriting ends the writer role for good: the close frame is out, or a
// write failed (err), which fails the connection.
func (c *Conn) stopWriting(err error) {
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
	c.flushOnce.Do(func() { close(c.flushed) })
	if err != nil {
		c.hub.goOwned(func() { c.terminate(websocket.CloseAbnormalClosure, "", Failed, false) })
	}
}

// appendBatch appends the text frames of batch.
func (c *Conn) appendBatch(buf []byte, batch []entry) []byte {
	for _, e := range batch {
		if c.eventIDs && e.m.id != "" {
			buf = appendWithID(buf, e.m, e.m.id, c.enc)
			continue
		}
		buf = appendFrame(buf, websocket.TextMessage, e.m.prefix(c.enc), e.m.body)
	}
	return buf
}

// appendFrame appends one unmasked, final server frame.
func appendFrame(b []byte, op int, prefix string, payload []byte) []byte {
	b = appendHeader(b, op, len(prefix)+len(payload))
	b = append(b, prefix...)
	return append(b, payload...)
}

// appendWithID appends m's text frame for enc with its broker ID as an
// "event_id" member: right after "type" in a typed event, first in a Raw or
// Critical one. A message whose wire form is not a JSON object (a Raw array
// or string) is written without it.
func appendWithID(b []byte, m *message, id string, enc Encoding) []byte {
	prefix, body := m.prefix(enc), m.body
	var idBuf [64]byte
	field := appendString(append(idBuf[:0], `"event_id":`...), id)
	switch {
	case prefix != "": // typed: {"type":… then ,"run_id":…
		b = appendHeader(b, websocket.TextMessage, len(prefix)+1+len(field)+len(body))
		b = append(b, prefix...)
		b = append(b, ',')
		b = append(b, field...)
		return append(b, body...)
	case len(body) >= 2 && body[0] == '{':
		rest := body[1:]
		sep := 1 // the comma before the object's first member
		if rest[0] == '}' {
			sep = 0
		}
		b = appendHeader(b, websocket.TextMessage, 1+len(field)+sep+len(rest))
		b = append(b, '{')
		b = append(b, field...)
		if sep == 1 {
			b = append(b, ',')
		}
		return append(b, rest...)
	}
	return appendFrame(b, websocket.TextMessage, prefix, body)
}

// appendHeader appends the header of an unmasked, final server frame of n
// payload bytes.
func appendHeader(b []byte, op int, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return b
}

// terminate takes a live connection to Closing and then to final, exactly
// once. With graceful, queued data is written before the close frame; without
// it, unsent data goes back to the holds at once and, if sendClose is false
// (the peer is gone or gorilla already answered), no close frame is written.
func (c *Conn) terminate(code int, reason string, final State, graceful bool) {
	h := c.hub
	h.mu.Lock()
	c.mu.Lock()
	if !c.state.Live() {
		c.mu.Unlock()
		h.mu.Unlock()
		<-c.done
		return
	}
	wasReady := c.state == ProcessingReady
	_ = c.transitionLocked(Closing) // always legal from a live state
	var back []entry
	if !wasReady || !graceful {
		back = c.q.Drain(nil)
	}
	sendClose := graceful || code == CloseSlowConsumer || code == CloseReadyTimeout
	if sendClose {
		c.closeFrame = websocket.FormatCloseMessage(code, truncateReason(reason))
		c.startWriterLocked()
	} else {
		c.flushOnce.Do(func() { close(c.flushed) })
	}
	c.mu.Unlock()
	h.unregisterLocked(c)
	h.giveBackLocked(back)
	h.mu.Unlock()

	timer := time.NewTimer(h.o.WriteTimeout)
	select {
	case <-c.flushed:
	case <-timer.C:
	}
	timer.Stop()
	c.readyTimer.Stop()
	c.mu.Lock()
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.mu.Unlock()
	c.cancel()
	_ = c.wire.Close()

	c.mu.Lock()
	_ = c.transitionLocked(final)
	if final == Failed {
		h.failed.Add(1)
	}
	close(c.done)
	c.mu.Unlock()
}

// truncateReason keeps a close reason within a control frame's 125 bytes.
func truncateReason(r string) string {
	if len(r) > 123 {
		r = r[:123]
	}
	return r
}

// unregisterLocked removes c from every index; called with hub.mu held.
func (h *Hub) unregisterLocked(c *Conn) {
	h.leaveLocked(c)
	delete(h.conns, c.id)
	if c.userID != "" {
		h.users[c.userID] = remove(h.users[c.userID], c)
		if len(h.users[c.userID]) == 0 {
			delete(h.users, c.userID)
		}
	}
	for t := range c.threadSeq {
		h.threads[t] = remove(h.threads[t], c)
		if len(h.threads[t]) == 0 {
			delete(h.threads, t)
		}
	}
}

func remove(cs []*Conn, c *Conn) []*Conn {
	for i, x := range cs {
		if x == c {
			return append(cs[:i:i], cs[i+1:]...)
		}
	}
	return cs
}

// readLoop is the connection's only reader. It hands messages to OnMessage
// once the connection is ready, keeps the read deadline moving on every
// message and pong, and ends the connection when the client goes away or
// breaks the protocol (gorilla has then already sent 1002 or 1009).
func (c *Conn) readLoop() {
	o := &c.hub.o
	c.ws.SetReadLimit(o.MaxMessageBytes)
	deadline := func() { _ = c.ws.SetReadDeadline(time.Now().Add(o.PongTimeout)) }
	deadline()
	c.ws.SetPongHandler(func(string) error { deadline(); return nil })
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			final := Failed
			var ce *websocket.CloseError
			if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
				final = Closed
			}
			c.terminate(websocket.CloseNormalClosure, "", final, false)
			return
		}
		deadline()
		if c.onMessage == nil {
			continue
		}
		select {
		case <-c.ready:
		case <-c.done:
			return
		}
		c.onMessage(c.ctx, c, typ, data)
	}
}
