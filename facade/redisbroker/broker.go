package redisbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsunify/wsunify/facade"
)

// ErrUnavailable reports that Redis could not be reached in time: the
// server is down, restarting or loading, the network to it is cut, or the
// call timed out. Alone, it means the event was not delivered: Redis never
// got it, and notifying it again delivers it once. With
// [ErrMaybeDelivered] it means Notify cannot tell. Match with errors.Is.
var ErrUnavailable = errors.New("redisbroker: redis unavailable")

// ErrMaybeDelivered comes with [ErrUnavailable] (or with the context's
// error) when the event may have been delivered: the broker sent it to
// Redis and the reply did not come back (a timeout, a connection or a
// server lost meanwhile). Redis runs that command once or not at all, so
// the event is delivered once or not at all; the broker never sends it
// again.
// A caller that notifies it again delivers it at least once, possibly
// twice; one that does not, at most once. Match with errors.Is.
var ErrMaybeDelivered = errors.New("redisbroker: the event may have been delivered")

// ErrClosed reports a call on a closed broker.
var ErrClosed = errors.New("redisbroker: broker closed")

// Options configures a Broker. The zero value of every field means its
// default; a nil *Options means all defaults.
type Options struct {
	// Prefix starts every key and channel name. Default "wsunify". Hubs
	// that must see each other share it.
	Prefix string

	// MaxEvents bounds the events kept per user or thread. When the oldest
	// kept event was never delivered to a ready connection, Notify refuses
	// a new one with a *facade.HoldError (its Limit is this count) instead
	// of dropping it. Default 1000.
	MaxEvents int

	// TTL bounds the age of kept events, both held ones and those kept for
	// a client that resumes. Default 2m.
	TTL time.Duration

	// PresenceTTL is how long a connection stays visible to other
	// instances after its instance stopped refreshing it (it crashed).
	// Refreshed every PresenceTTL/3. Default 15s.
	PresenceTTL time.Duration

	// OpTimeout bounds every Redis call. Default 2s.
	OpTimeout time.Duration

	// HealthInterval is how long the subscription may stay silent before
	// it is pinged; two unanswered pings and it is replaced. Default 1s.
	HealthInterval time.Duration

	// MaxBackoff bounds the wait between attempts to resubscribe after
	// Redis was lost. Default 1s.
	MaxBackoff time.Duration

	// ReplayQueue bounds the replays waiting on this instance: each
	// connection has one when it authenticates, and one per thread it
	// joins. ReplaysPerUser bounds the first kind of one user, running or
	// waiting, and ReplayRate limits them to so many a second after a
	// burst of ReplaysPerUser: they bound how fast one user's connections
	// are admitted. A connection beyond any of them is closed with
	// CloseTryAgainLater (1013, "try again later") and counted in
	// [Stats].Refused. Defaults 4096, 8 and 4.
	ReplayQueue    int
	ReplaysPerUser int
	ReplayRate     float64

	// Logger receives the broker's rare logs. Default the hub's.
	Logger *slog.Logger

	markDelay time.Duration // the mark batch's delay; flushDelay unless a test sets it
	beat      time.Duration // how often presence is renewed and the epochs checked: PresenceTTL/3, at least a millisecond
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Prefix == "" {
		r.Prefix = "wsunify"
	}
	if r.MaxEvents <= 0 {
		r.MaxEvents = 1000
	}
	if r.ReplayQueue <= 0 {
		r.ReplayQueue = 4096
	}
	if r.ReplaysPerUser <= 0 {
		r.ReplaysPerUser = 8
	}
	if r.ReplayRate <= 0 {
		r.ReplayRate = 4
	}
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&r.TTL, 2*time.Minute)
	set(&r.PresenceTTL, 15*time.Second)
	set(&r.OpTimeout, 2*time.Second)
	set(&r.HealthInterval, time.Second)
	set(&r.MaxBackoff, time.Second)
	set(&r.markDelay, flushDelay)
	// A PresenceTTL under 3ns (a unit left off) would make a ticker of
	// zero, which panics in the broker's goroutines.
	r.beat = max(r.PresenceTTL/3, time.Millisecond)
	return r
}

// Broker is a [facade.Broker] over Redis. Give one to each hub through
// [facade.HubOptions].Broker; hubs whose brokers share a Redis and a Prefix
// deliver each other's events. All methods are safe for concurrent use.
type Broker struct {
	client  redis.UniversalClient // bounded: every call ends at its context's deadline
	given   redis.UniversalClient // the caller's
	owned   bool                  // client is the broker's own, closed by Close
	bounded bool                  // client honours deadlines (false: a type boundedClient does not know)
	cluster bool                  // client is a *redis.ClusterClient: sharded channels
	o       Options
	log     *slog.Logger
	local   *facade.Local

	ctx     context.Context // cancelled by Close: calls in flight end
	cancel  context.CancelFunc
	quit    chan struct{} // closed by Close: the worker drains and stops
	closeBy time.Time     // set by Close before quit: the last flush's deadline
	wg      sync.WaitGroup
	closed  atomic.Bool

	opsMu sync.Mutex
	ops   []op
	wake  chan struct{}

	writtenMu sync.Mutex
	written   map[facade.Target]streamID // marks raised by Written, for the worker to take

	w      worker // owned by the worker goroutine
	epochs epochs // the worker's and the epoch watcher's

	published, unavailable, delivered, replayed, replays atomic.Uint64
	caughtUp, duplicates, resubscribes, gaps, expired    atomic.Uint64
	refused, wiped                                       atomic.Uint64
	up                                                   atomic.Bool
}

var (
	_ facade.Broker        = (*Broker)(nil)
	_ facade.WriteObserver = (*Broker)(nil)
)

// New returns a Broker on client, a *redis.Client or a *redis.ClusterClient
// (see Redis Cluster in the package doc). The broker does not own client:
// close it after the hub. Whatever its MaxRetries (or a cluster client's
// MaxRedirects), the broker never lets it send an event again after a lost
// reply, which could append it twice.
//
// OpTimeout bounds every call whatever the client's own timeouts: when
// client does not have ContextTimeoutEnabled (go-redis then ignores
// deadlines), the broker talks through a client of its own made from
// client's options with it set, with its own connections and without the
// hooks added to client; set ContextTimeoutEnabled to have it use client
// itself.
func New(client redis.UniversalClient, opts *Options) *Broker {
	o := opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	bc, owned, bounded := boundedClient(client)
	return &Broker{
		client:  bc,
		given:   client,
		owned:   owned,
		bounded: bounded,
		o:       o,
		cluster: isCluster(client),
		ctx:     ctx,
		cancel:  cancel,
		quit:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		written: make(map[facade.Target]streamID),
	}
}

// Start binds the broker to its hub and starts its worker. A Broker serves
// one hub; a second Start panics.
func (b *Broker) Start(l *facade.Local) {
	if b.local != nil {
		panic("redisbroker: a Broker serves one hub")
	}
	b.local = l
	b.log = b.o.Logger
	if b.log == nil {
		b.log = l.Logger()
	}
	if !b.bounded {
		b.log.Warn("redisbroker: a client type the broker cannot bound; OpTimeout holds only if it honours context deadlines", "type", fmt.Sprintf("%T", b.given))
	}
	b.w.init(b)
	b.epochs.init()
	b.wg.Go(b.w.run)
	b.wg.Go(b.watchEpochs)
}

// Publish sends ev to the target's connections on every instance. For a
// user or thread it appends ev to the target's stream and publishes it in
// one atomic step; for a connection on this instance it delivers at once;
// for another connection or a broadcast it publishes only.
//
// Errors: ErrUnavailable (errors.Is) when Redis cannot be reached within
// OpTimeout, with ErrMaybeDelivered when Redis may have taken ev anyway; a
// *facade.HoldError when the target's stream is full of undelivered
// events; facade.ErrUnknownTarget for a connection no instance has; ctx's
// error (with ErrMaybeDelivered as well, when it came after ev was sent);
// ErrClosed.
func (b *Broker) Publish(ctx context.Context, to facade.Target, ev facade.Encoded) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if to == facade.ToConn(to.ID()) && b.local.HasConn(to.ID()) {
		b.local.Deliver(to, ev)
		b.published.Add(1)
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, b.o.OpTimeout)
	defer cancel()
	payload := encodeEvent(ev)
	publish, numsub := b.pubsub()
	var err error
	switch {
	case hasStream(to):
		err = publishScript.run(cctx, b.client,
			[]string{b.streamKey(to), b.markKey(to)},
			b.channel(to), payload, b.o.MaxEvents, b.o.TTL.Milliseconds(), publish, numsub).Err()
		if redis.HasErrorPrefix(err, "WSUNIFY_HOLDFULL") {
			return fmt.Errorf("redisbroker: publish: %w", &facade.HoldError{Target: to, Bytes: len(ev.Body()) + len(ev.Legacy()), Limit: b.o.MaxEvents})
		}
	case to == facade.ToAll():
		err = b.publish(cctx, b.broadcastChannel(), " "+payload).Err()
	default:
		var n int64
		n, err = b.publish(cctx, b.channel(to), " "+payload).Int64()
		if err == nil && n == 0 {
			return fmt.Errorf("redisbroker: publish: %w: %v", facade.ErrUnknownTarget, to)
		}
	}
	if err != nil {
		return b.failure(ctx, "publish", err)
	}
	b.published.Add(1)
	return nil
}

// publish publishes msg on ch, sharded on a cluster, never twice.
func (b *Broker) publish(ctx context.Context, ch, msg string) *redis.Cmd {
	publish, _ := b.pubsub()
	return once(ctx, b.client, publish, ch, msg)
}

// failure types a Redis error: the caller's own cancellation as it is, a
// reply from a working server as a plain error, anything else (network,
// timeout, a server restarting) as ErrUnavailable; either of the first and
// the last with ErrMaybeDelivered when the command may have run.
func (b *Broker) failure(ctx context.Context, op string, err error) error {
	maybe := maybeRan(err)
	if ctx.Err() != nil {
		if maybe {
			return fmt.Errorf("redisbroker: %s: %w (%w)", op, ctx.Err(), ErrMaybeDelivered)
		}
		return fmt.Errorf("redisbroker: %s: %w", op, ctx.Err())
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && !transient(err) {
		return fmt.Errorf("redisbroker: %s: %w", op, err)
	}
	b.unavailable.Add(1)
	if maybe {
		return fmt.Errorf("%w: %s: %w (%w)", ErrUnavailable, op, err, ErrMaybeDelivered)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// maybeRan reports whether a failed command may have run on Redis: it may
// have been sent, and its reply was lost. It is known not to have run when
// Redis answered with an error (the publish script refuses before it
// writes), or when the call failed before the command left: no connection
// could be made or had from the pool (a dial error; the deadline or a
// cancellation met while waiting for one, which go-redis returns as the
// context's bare error, where a deadline met while reading the reply is a
// network error), the client was closed, or writing it failed (Redis runs
// no partial command).
func maybeRan(err error) bool {
	var rerr redis.Error
	var oerr *net.OpError
	switch {
	case errors.As(err, &rerr):
		return false
	case errors.As(err, &oerr):
		return oerr.Op != "dial" && oerr.Op != "write"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrClosed):
		return false
	}
	return true
}

// transient reports the server replies that mean "not now".
func transient(err error) bool {
	for _, p := range []string{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// Join queues the subscription, the replay and the presence of c; it never
// blocks. Users and threads are replayed: c receives their events once
// the broker has sent it those it missed — after lastEventID if the client
// gave one, else those no ready connection received.
func (b *Broker) Join(c *facade.Conn, to facade.Target, lastEventID string) bool {
	b.enqueue(op{kind: opJoin, c: c, to: to, from: lastEventID})
	return hasStream(to)
}

// Leave queues the end of c's membership of to; it never blocks.
func (b *Broker) Leave(c *facade.Conn, to facade.Target) {
	b.enqueue(op{kind: opLeave, c: c, to: to})
}

// Ready does nothing: the delivered mark follows what sockets took
// (Written), not readiness.
func (b *Broker) Ready(*facade.Conn) {}

// Written raises to's delivered mark to id, for the worker's next flush: a
// client's socket took the event id whole. It never blocks. The writes of
// one flush period, of any connections and targets, cost the worker one
// wake (to arm the flush) and one raise per target.
func (b *Broker) Written(_ *facade.Conn, to facade.Target, id string) {
	sid, ok := parseID(id)
	if !ok {
		return
	}
	b.writtenMu.Lock()
	first := len(b.written) == 0
	if cur, had := b.written[to]; !had || cur.less(sid) {
		b.written[to] = sid
	}
	b.writtenMu.Unlock()
	if first {
		b.wakeWorker()
	}
}

// hasWritten reports whether writes raised marks the worker has not taken.
func (b *Broker) hasWritten() bool {
	b.writtenMu.Lock()
	defer b.writtenMu.Unlock()
	return len(b.written) > 0
}

func (b *Broker) enqueue(o op) {
	b.opsMu.Lock()
	b.ops = append(b.ops, o)
	b.opsMu.Unlock()
	b.wakeWorker()
}

func (b *Broker) wakeWorker() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Connected reports whether the user has a live authenticated connection on
// any instance: here, or in the presence set with an unexpired score. When
// Redis cannot answer within OpTimeout it answers for this instance alone.
func (b *Broker) Connected(userID string) bool {
	if len(b.local.ConnIDs(userID)) > 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.o.OpTimeout)
	defer cancel()
	n, err := b.client.ZCount(ctx, b.presenceKey(userID), b.nowScore(), "+inf").Result()
	if err != nil {
		b.log.Warn("redisbroker: presence unavailable; answering for this instance", "err", err)
		return false
	}
	return n > 0
}

// ConnIDs returns the IDs of the user's live authenticated connections on
// every instance, sorted; this instance's alone when Redis cannot answer.
func (b *Broker) ConnIDs(userID string) []string {
	ids := b.local.ConnIDs(userID)
	ctx, cancel := context.WithTimeout(b.ctx, b.o.OpTimeout)
	defer cancel()
	remote, err := b.client.ZRangeByScore(ctx, b.presenceKey(userID), &redis.ZRangeBy{Min: b.nowScore(), Max: "+inf"}).Result()
	if err != nil {
		b.log.Warn("redisbroker: presence unavailable; answering for this instance", "err", err)
		return ids
	}
	ids = append(ids, remote...)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// nowScore is the exclusive lower bound of live presence scores.
func (b *Broker) nowScore() string {
	return "(" + strconv.FormatInt(b.local.Now().UnixMilli(), 10)
}

// Stats is a snapshot of a broker's counters.
type Stats struct {
	Up           bool   // the subscription is connected
	Published    uint64 // events published
	Unavailable  uint64 // calls that failed with ErrUnavailable
	Delivered    uint64 // live events handed to this hub
	Replays      uint64 // joining connections that got their replay (maybe empty)
	Replayed     uint64 // events replayed to joining connections
	CaughtUp     uint64 // events fetched from streams after the subscription was lost
	Duplicates   uint64 // live events dropped because this hub already had them
	Resubscribes uint64 // times the subscription was lost and made again
	Gaps         uint64 // resumes and catch-ups from an event no longer kept, or of a stream Redis lost: events after it may be lost (logged with the target)
	Expired      uint64 // kept events a replay skipped because they were older than TTL
	Refused      uint64 // connections closed with 1013: no room for their replay
	Wiped        uint64 // times Redis, or a master of a cluster, was found to have lost its data: what it held for targets no instance followed is lost (logged)
	Queued       int    // replays waiting now
}

// Stats returns a snapshot of the counters.
func (b *Broker) Stats() Stats {
	return Stats{
		Up:           b.up.Load(),
		Published:    b.published.Load(),
		Unavailable:  b.unavailable.Load(),
		Delivered:    b.delivered.Load(),
		Replays:      b.replays.Load(),
		Replayed:     b.replayed.Load(),
		CaughtUp:     b.caughtUp.Load(),
		Duplicates:   b.duplicates.Load(),
		Resubscribes: b.resubscribes.Load(),
		Gaps:         b.gaps.Load(),
		Expired:      b.expired.Load(),
		Refused:      b.refused.Load(),
		Wiped:        b.wiped.Load(),
		Queued:       b.queued(),
	}
}

// Close stops the broker: calls in flight end, the worker removes this
// instance's presence and every goroutine ends, all within one OpTimeout.
// It is idempotent; the hub calls it from Hub.Close.
func (b *Broker) Close() error {
	if b.closed.Swap(true) {
		b.wg.Wait()
		return nil
	}
	b.closeBy = time.Now().Add(b.o.OpTimeout)
	b.cancel()
	close(b.quit)
	b.wg.Wait()
	if b.owned {
		_ = b.client.Close()
	}
	return nil
}

// queued returns how many replays wait (none before Start).
func (b *Broker) queued() int {
	if b.w.queue == nil {
		return 0
	}
	return b.w.queue.len()
}
