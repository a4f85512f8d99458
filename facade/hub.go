package facade

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
// Notify's route to live connections holds Hub.mu shared (route.go), so
// publishers to distinct targets do not wait for each other; everything
// that changes the registry or a hold holds it exclusive.
type Hub struct {
	o        HubOptions
	upgrader websocket.Upgrader
	cb       dispatcher
	flush    flusher

	mu      sync.RWMutex
	closed  bool
	seq     atomic.Uint64 // Notify order; taken under mu, shared or exclusive
	conns   map[string]*Conn
	users   map[string][]*Conn // authenticated live connections
	threads map[string][]*Conn // joined live connections
	holds   map[Target]*queue.Queue[*message]

	wg sync.WaitGroup // readers, writers and terminations of every conn

	idPrefix string
	nextID   atomic.Uint64

	notified, accepted, written, rejected, expired, undelivered atomic.Uint64
	slow, readyTimeouts, failed, brokerErrors                   atomic.Uint64
}

var _ Notifier = (*Hub)(nil)

// NewHub returns a Hub configured by opts; nil means defaults. Options
// that contradict each other (see [HubOptions.Validate]) do not stop it:
// an earlier version accepted them, so NewHub logs the problem at Error on
// the hub's Logger and uses the nearest options that work (a negative
// duration or bound is its default, a PingInterval not under PongTimeout
// becomes half of it, a HardQueueBytes under MaxQueueBytes becomes
// MaxQueueBytes). Call Validate first to refuse them instead.
func NewHub(opts *HubOptions) *Hub {
	o := opts.withDefaults()
	if err := opts.Validate(); err != nil {
		o.Logger.Error("facade: hub options corrected", "err", err,
			"PingInterval", o.PingInterval, "PongTimeout", o.PongTimeout, "HardQueueBytes", o.HardQueueBytes)
	}
	h := &Hub{
		o:        o,
		conns:    make(map[string]*Conn),
		users:    make(map[string][]*Conn),
		threads:  make(map[string][]*Conn),
		holds:    make(map[Target]*queue.Queue[*message]),
		idPrefix: randomPrefix(),
	}
	h.cb = dispatcher{fn: o.OnStateChange, log: o.Logger}
	h.flush.init(h)
	h.upgrader = websocket.Upgrader{
		CheckOrigin:     o.CheckOrigin,
		Subprotocols:    supportedSubprotocols,
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

// localConnIDs returns the IDs of the user's connections on this hub.
func (h *Hub) localConnIDs(userID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.users[userID]))
	for _, c := range h.users[userID] {
		ids = append(ids, c.id)
	}
	slices.Sort(ids)
	return ids
}

// unregisterLocked removes c from every index; called with hub.mu held.
// The broker learns that c left only when its writer has let go (finish),
// so that no Written for c follows c's Leave.
func (h *Hub) unregisterLocked(c *Conn) {
	delete(h.conns, c.id)
	h.flush.conns.Store(int32(len(h.conns)))
	if len(h.conns) == 0 {
		h.flush.letParkedGo()
	}
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

// Close closes every connection with CloseHubShutdown (1001), waits for
// their goroutines and the state callbacks, closes the Broker, if any, and
// refuses further use with ErrHubClosed. Events still held, and those the
// connections give back as they close, are discarded (Stats.Undelivered).
// It is idempotent. A hub that is never closed still lets its goroutines
// go by themselves: a connection's when it ends, a writer goroutine of the
// hub's a second after its last work, at once when the hub has no
// connection left (so a test that checks for leaked goroutines, closing
// its connections but not the hub, passes).
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return nil
	}
	h.closed = true
	h.flush.close() // its goroutines exit once out of work, not lingering for more
	conns := make([]*Conn, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.discardHoldsLocked()
	h.mu.Unlock()

	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.terminate(causeShutdown) })
	}
	wg.Wait()
	h.wg.Wait()
	h.mu.Lock()
	h.discardHoldsLocked() // what the connections gave back
	h.mu.Unlock()
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
