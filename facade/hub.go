package facade

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsunify/wsunify/facade/internal/queue"
)

// Hub is the registry of connections and the one [Notifier] of a process.
// It routes each event to the connections of its target, holds it when the
// target has none, and owns every goroutine its connections run.
//
// All methods are safe for concurrent use. Lock order: Hub.mu, then Conn.mu.
type Hub struct {
	o        HubOptions
	upgrader websocket.Upgrader
	cb       dispatcher
	flush    flusher

	mu      sync.Mutex
	closed  bool
	seq     uint64 // Notify order
	conns   map[string]*Conn
	users   map[string][]*Conn // authenticated live connections
	threads map[string][]*Conn // joined live connections
	holds   map[Target]*queue.Queue[*message]

	wg sync.WaitGroup // readers, writers and terminations of every conn

	idPrefix string
	nextID   atomic.Uint64

	notified, written, rejected, expired, undelivered atomic.Uint64
	slow, readyTimeouts, failed, brokerErrors         atomic.Uint64
}

var _ Notifier = (*Hub)(nil)

// NewHub returns a Hub configured by opts; nil means defaults.
func NewHub(opts *HubOptions) *Hub {
	o := opts.withDefaults()
	h := &Hub{
		o:        o,
		conns:    make(map[string]*Conn),
		users:    make(map[string][]*Conn),
		threads:  make(map[string][]*Conn),
		holds:    make(map[Target]*queue.Queue[*message]),
		idPrefix: randomPrefix(),
	}
	h.cb = dispatcher{fn: o.OnStateChange, log: o.Logger}
	h.flush.max = runtime.GOMAXPROCS(0)
	h.upgrader = websocket.Upgrader{
		CheckOrigin:     o.CheckOrigin,
		Subprotocols:    []string{SubprotocolNumeric, SubprotocolLegacy},
		WriteBufferPool: unusedPool{}, // the facade writes frames itself; never allocate gorilla's
		ReadBufferSize:  readBufferSize,
	}
	if o.Broker != nil {
		o.Broker.Start(&Local{h})
	}
	return h
}

// Notify sends ev to the ready connections of to, queues it for those not
// ready yet, or holds it when to has none. The event is encoded once,
// before any lock is taken, whatever the number of receivers.
//
// Errors: ctx's error; ErrInvalidTarget; ErrUnknownTarget for ToConn with
// an unknown ID; ErrHubClosed; an encoding error (nothing was queued); a
// *HoldError (errors.Is ErrHoldFull) for each receiver whose bound the event
// would pass — the other receivers still got it.
//
// With a [Broker], the encoded event is published through it and its errors
// are returned as they are (see the broker's documentation); Stats counts
// them in BrokerErrors, or in Rejected for a *HoldError.
func (h *Hub) Notify(ctx context.Context, to Target, ev Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !to.valid() {
		return fmt.Errorf("%w: %v", ErrInvalidTarget, to)
	}
	m, err := encode(ev, h.o.Now())
	if err != nil {
		return err
	}
	if h.o.Broker != nil {
		return h.publish(ctx, to, m)
	}
	return h.deliver(to, m)
}

// publish hands an encoded message to the broker and counts the outcome.
func (h *Hub) publish(ctx context.Context, to Target, m *message) error {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return ErrHubClosed
	}
	err := h.o.Broker.Publish(ctx, to, Encoded{m: m})
	switch {
	case err == nil:
		h.notified.Add(1)
	case errors.Is(err, ErrHoldFull):
		h.rejected.Add(1)
	case !errors.Is(err, ErrUnknownTarget) && ctx.Err() == nil:
		h.brokerErrors.Add(1)
	}
	return err
}

// deliver routes an encoded message.
func (h *Hub) deliver(to Target, m *message) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrHubClosed
	}
	h.seq++
	m.seq = h.seq
	var errs []error
	switch to.kind {
	case targetConn:
		c := h.conns[to.id]
		if c == nil {
			return fmt.Errorf("%w: %v", ErrUnknownTarget, to)
		}
		errs = append(errs, c.enqueue(entry{m: m, key: to}))
	case targetAll:
		for _, c := range h.conns {
			errs = append(errs, c.enqueue(entry{m: m, key: to}))
		}
	default:
		members := h.membersLocked(to)
		if len(members) == 0 {
			return h.holdLocked(to, m)
		}
		for _, c := range members {
			errs = append(errs, c.enqueue(entry{m: m, key: to}))
		}
	}
	err := errors.Join(errs...)
	if err == nil {
		h.notified.Add(1)
	}
	return err
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

// holdLocked keeps m for a target with no live connection.
func (h *Hub) holdLocked(to Target, m *message) error {
	q := h.holds[to]
	if q == nil {
		nq := queue.New[*message](h.o.HoldBytes)
		q = &nq
		h.holds[to] = q
	}
	h.expireLocked(q)
	if !q.Push(m, m.size()) {
		h.rejected.Add(1)
		if q.Len() == 0 {
			delete(h.holds, to)
		}
		return &HoldError{Target: to, Bytes: m.size(), Limit: h.o.HoldBytes}
	}
	h.notified.Add(1)
	return nil
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
// going away, so that none is lost: a message for a user or thread goes to
// the members that did not get it (those registered after it was sent) or,
// when there are none, back to the hold in front of anything newer.
//
// With a Broker, a user's or thread's messages are left to it: it still has
// them, for a client that resumes from its last event ID.
func (h *Hub) giveBackLocked(back []entry) {
	held := make(map[Target][]*message)
	for _, e := range back {
		members := h.membersLocked(e.key)
		if e.key.kind != targetUser && e.key.kind != targetThread {
			h.undelivered.Add(1) // a connection or broadcast target that is itself gone
			continue
		}
		if h.o.Broker != nil {
			continue
		}
		if len(members) == 0 {
			held[e.key] = append(held[e.key], e.m)
			continue
		}
		for _, c := range members {
			if c.registeredAfter(e.key, e.m.seq) {
				c.requeue(e)
			}
		}
	}
	for t, ms := range held {
		q := h.holds[t]
		if q == nil {
			nq := queue.New[*message](h.o.HoldBytes)
			q = &nq
			h.holds[t] = q
		}
		sizes := make([]int, len(ms))
		for i, m := range ms {
			sizes[i] = m.size()
		}
		q.PushFront(ms, sizes)
	}
}

// Connected reports whether the user has a live authenticated connection
// (on any hub, with a Broker).
func (h *Hub) Connected(userID string) bool {
	if b := h.o.Broker; b != nil {
		return b.Connected(userID)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.users[userID]) > 0
}

// ConnIDs returns the IDs of the user's live authenticated connections
// (on every hub, with a Broker), sorted.
func (h *Hub) ConnIDs(userID string) []string {
	if b := h.o.Broker; b != nil {
		return b.ConnIDs(userID)
	}
	return h.localConnIDs(userID)
}

// Stats is a snapshot of a hub's counters.
type Stats struct {
	Conns     int // live connections
	Ready     int // of which ProcessingReady
	Users     int // users with a live authenticated connection
	Held      int // events held for users and threads with no connection
	HeldBytes int
	Queued    int // events queued on live connections, not yet written

	Notified      uint64 // Notify calls that reached every receiver or a hold
	Written       uint64 // messages written to clients
	Rejected      uint64 // events refused by a full hold or queue (*HoldError)
	Expired       uint64 // held events discarded past HoldTTL
	Undelivered   uint64 // events for a connection or broadcast whose connection went away unsent
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
		s.Queued += c.q.Len()
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

// Close closes every connection with CloseHubShutdown (1001), waits for
// their goroutines and the state callbacks, closes the Broker, if any, and
// refuses further use with ErrHubClosed. Events still held are discarded.
// It is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return nil
	}
	h.closed = true
	conns := make([]*Conn, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.holds = make(map[Target]*queue.Queue[*message])
	h.mu.Unlock()

	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.terminate(CloseHubShutdown, "hub shutdown", Closed, true) })
	}
	wg.Wait()
	h.wg.Wait()
	h.cb.wait()
	if b := h.o.Broker; b != nil {
		return b.Close()
	}
	return nil
}

// goOwned runs f on a goroutine the hub waits for in Close.
func (h *Hub) goOwned(f func()) {
	h.wg.Go(f)
}

// dispatcher runs the OnStateChange callback on one goroutine at a time,
// started when there is work and gone when there is none, so a callback can
// neither stall a transition nor keep a goroutine alive on an idle hub.
type dispatcher struct {
	fn  func(*Conn, Transition)
	log interface {
		Error(msg string, args ...any)
	}

	mu      sync.Mutex
	pending []stateCall
	running bool
	wg      sync.WaitGroup
}

type stateCall struct {
	c *Conn
	t Transition
}

// fire queues a callback; it never blocks and may be called under locks.
func (d *dispatcher) fire(c *Conn, t Transition) {
	if d.fn == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending = append(d.pending, stateCall{c, t})
	if !d.running {
		d.running = true
		d.wg.Go(d.run)
	}
}

func (d *dispatcher) run() {
	for {
		d.mu.Lock()
		if len(d.pending) == 0 {
			d.running = false
			d.pending = nil
			d.mu.Unlock()
			return
		}
		call := d.pending[0]
		d.pending = d.pending[1:]
		d.mu.Unlock()
		d.call(call)
	}
}

func (d *dispatcher) call(sc stateCall) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("facade: OnStateChange panicked", "conn", sc.c.id, "from", sc.t.From, "to", sc.t.To, "panic", r)
		}
	}()
	d.fn(sc.c, sc.t)
}

func (d *dispatcher) wait() { d.wg.Wait() }

// unusedPool is a websocket.BufferPool that is never asked for a buffer,
// because the facade never writes data frames through gorilla. Setting it
// keeps gorilla from allocating or retaining a write buffer per connection.
type unusedPool struct{}

func (unusedPool) Get() any  { return nil }
func (unusedPool) Put(x any) {}

// now returns the hub's clock reading.
func (h *Hub) now() time.Time { return h.o.Now() }

// readBufferSize is the reader's buffer per connection. Clients send little
// (chat messages, acks), so 1 KiB instead of the HTTP server's 4 KiB
// bufio.Reader, which gorilla would otherwise keep: an idle connection costs
// 3 KiB less. Larger messages are still read whole, in more read calls.
const readBufferSize = 1024
