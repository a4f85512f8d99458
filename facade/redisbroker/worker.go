package redisbroker

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsunify/wsunify/facade"
)

// op is a change the hub announced, queued for the worker.
type op struct {
	kind opKind
	c    *facade.Conn
	to   facade.Target
	from string // the client's last event ID, for a user join
}

type opKind uint8

const (
	opJoin opKind = iota + 1
	opLeave
)

// target is the worker's view of one user, thread or connection that has
// members on this hub.
type target struct {
	// mu is held by the worker to move cursor (writes) and by a replayer
	// to hand its events to the hub at the cursor; the worker reads cursor
	// without it. Taken before the hub's lock.
	mu sync.Mutex

	to        facade.Target
	channel   string
	stream    bool
	members   map[*facade.Conn]*member
	confirmed bool     // subscribed on the current subscription
	cursor    streamID // newest entry handed to the hub
	hasCursor bool
	ahead     int // members resuming from past the cursor, waiting for it
}

// member is one connection of a target.
type member struct {
	from    string   // the client's last event ID ("" for none)
	pos     streamID // the stream's newest ID when it joined (zero: empty)
	seen    bool     // pos is known
	ahead   bool     // from is past the cursor: it waits for the cursor to reach waitFor
	waitFor streamID
	job     *job // its replay, queued or running
	refused bool // no room for its replay: it is being closed
	done    bool // its replay has been delivered
}

// inbound is what a receiver goroutine hands the worker.
type inbound struct {
	gen int
	msg any
	err error
}

// worker is the one goroutine that talks to Redis for the hub's side:
// it owns the subscription, the targets, replays, marks and presence. Its
// fields are touched by it alone.
type worker struct {
	b       *Broker
	in      chan inbound
	feed    *feed // the current subscriptions; nil while Redis is lost
	gen     int
	backoff time.Duration
	retry   *time.Timer
	closing bool

	queue    *replayQueue
	finished chan *job // replays back from the replayers

	unflushed int         // deliveries since the last flush
	left      bool        // a connection left a user or thread since the last flush
	flushing  *time.Timer // armed while marks or presence wait to be sent

	targets   map[facade.Target]*target
	byChannel map[string]*target
	users     map[*facade.Conn]string                  // members' users, for presence
	marks     map[facade.Target]streamID               // delivered marks to raise: what sockets took
	inbox     map[facade.Target]streamID               // the broker's written marks, swapped in by takeWritten
	presence  []func(context.Context, redis.Pipeliner) // presence commands to send
}

func (w *worker) init(b *Broker) {
	w.b = b
	w.in = make(chan inbound, 1024)
	w.queue = newReplayQueue(b.o.ReplayQueue, b.o.ReplaysPerUser, b.o.ReplayRate, b.local.Now)
	w.finished = make(chan *job)
	w.targets = make(map[facade.Target]*target)
	w.byChannel = make(map[string]*target)
	w.users = make(map[*facade.Conn]string)
	w.marks = make(map[facade.Target]streamID)
	w.inbox = make(map[facade.Target]streamID)
}

// run is the worker's loop. It ends when the broker closes, after a last
// pass that removes this hub's presence.
func (w *worker) run() {
	b := w.b
	beat := time.NewTicker(b.o.beat)
	defer beat.Stop()
	for range replayers {
		b.wg.Go(w.replayLoop)
	}
	w.connect()
	for {
		var retry, flush <-chan time.Time
		if w.retry != nil {
			retry = w.retry.C
		}
		if w.flushing != nil {
			flush = w.flushing.C
		}
		select {
		case <-b.quit:
			w.closing = true
			w.disconnect() // first, so that leaving unsubscribes nothing
			w.applyOps()
			w.flush()
			if w.retry != nil {
				w.retry.Stop()
			}
			if w.flushing != nil {
				w.flushing.Stop()
			}
			return
		case <-b.wake:
			w.applyOps()
		case in := <-w.in:
			w.receive(in)
		case j := <-w.finished:
			w.replayed(j)
		case <-beat.C:
			w.refreshPresence()
		case <-retry:
			w.retry = nil
			if w.feed == nil {
				w.connect()
			} else {
				w.resubscribe()
			}
		case <-flush:
			w.flushing = nil
			w.flush()
		}
		switch {
		case w.unflushed >= flushEvery, w.left:
			w.flush()
		case w.flushing == nil && (len(w.marks) > 0 || len(w.presence) > 0 || b.hasWritten()):
			w.flushing = time.NewTimer(b.o.markDelay)
		}
	}
}

// call runs f with the per-call timeout; once the broker is closing, with
// what is left of Close's one OpTimeout.
func (w *worker) call(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(w.b.ctx, w.b.o.OpTimeout)
	if w.closing {
		cancel()
		ctx, cancel = context.WithDeadline(context.Background(), w.b.closeBy)
	}
	defer cancel()
	return f(ctx)
}

// connect makes a new subscription to every channel the hub needs. Each
// confirmation that comes back makes the worker catch the target up.
func (w *worker) connect() {
	b := w.b
	chans := make([]string, 0, 1+len(w.byChannel))
	chans = append(chans, b.broadcastChannel())
	for ch := range w.byChannel {
		chans = append(chans, ch)
	}
	if cc, ok := b.client.(*redis.ClusterClient); ok {
		cc.ReloadState(b.ctx) // slots may have moved since the last subscription
	}
	f := newFeed(b.client, func() int { w.gen++; return w.gen })
	var made []*sub
	err := w.call(func(ctx context.Context) (err error) {
		made, err = f.subscribe(ctx, chans...)
		return err
	})
	if err != nil && f.cluster == nil {
		f.close()
		w.lost(err)
		return
	}
	w.feed = f
	w.refreshPresence() // Redis may have restarted empty
	b.forgetEpochKeys()
	_ = w.call(b.checkEpochs) // before the subscription is confirmed (Stats.Up)
	w.read(made)
	if err != nil {
		w.retryLater() // a cluster: the channels of masters out of reach wait
	}
}

// resubscribe subscribes a cluster feed's pending channels again.
func (w *worker) resubscribe() {
	b := w.b
	f := w.feed
	if len(f.pending) == 0 {
		return
	}
	f.cluster.ReloadState(b.ctx)
	chans := make([]string, 0, len(f.pending))
	for ch := range f.pending {
		chans = append(chans, ch)
	}
	var made []*sub
	err := w.call(func(ctx context.Context) (err error) {
		made, err = f.subscribe(ctx, chans...)
		return err
	})
	w.read(made)
	if err != nil {
		w.retryLater()
	}
}

// read starts a receiver for each new sub of the current feed.
func (w *worker) read(subs []*sub) {
	for _, s := range subs {
		w.b.wg.Go(func() { w.receiveLoop(s.gen, s.ps, s.stop) })
	}
}

// subscribe adds ch to the current feed. On a cluster, a channel whose
// master is out of reach waits for the next retry.
func (w *worker) subscribe(ch string) {
	var made []*sub
	err := w.call(func(ctx context.Context) (err error) {
		made, err = w.feed.subscribe(ctx, ch)
		return err
	})
	w.read(made)
	switch {
	case err == nil:
	case w.feed.cluster != nil:
		w.retryLater()
	default:
		w.lost(err)
	}
}

// failed handles a failed Redis call for t: on a single node the feed is
// lost; on a cluster only t's channel is subscribed again (after which t
// catches up), so that one master out of reach stops no other.
func (w *worker) failed(t *target, err error) {
	if w.feed == nil || w.feed.cluster == nil {
		w.lost(err)
		return
	}
	if w.b.ctx.Err() != nil {
		return
	}
	w.b.log.Warn("redisbroker: lost a Redis Cluster master; resubscribing its channel", "target", t.to.String(), "err", err)
	var gen int
	uerr := w.call(func(ctx context.Context) (err error) {
		gen, err = w.feed.unsubscribe(ctx, t.channel)
		return err
	})
	if uerr != nil {
		w.lostNode(gen, uerr)
	}
	w.feed.pending[t.channel] = struct{}{}
	t.confirmed = false
	w.retryLater()
}

// lostNode handles the failure of one master's sub of a cluster feed: its
// channels wait for a new subscription, after a growing pause.
func (w *worker) lostNode(gen int, err error) {
	b := w.b
	chans, ok := w.feed.lose(gen)
	if !ok {
		return
	}
	if b.ctx.Err() == nil {
		b.resubscribes.Add(1)
		b.log.Warn("redisbroker: lost a Redis Cluster master; resubscribing its channels", "channels", len(chans), "err", err)
	}
	for _, ch := range chans {
		if t := w.byChannel[ch]; t != nil {
			t.confirmed = false
		}
	}
	w.retryLater()
}

// disconnect retires the current subscription.
func (w *worker) disconnect() {
	if w.feed == nil {
		return
	}
	w.feed.close()
	w.feed = nil
	w.b.up.Store(false)
	for _, t := range w.targets {
		t.confirmed = false
	}
}

// lost handles a failed subscription or Redis call: every target waits for
// a new subscription, made after a growing pause.
func (w *worker) lost(err error) {
	b := w.b
	count := w.feed != nil && b.ctx.Err() == nil
	w.disconnect() // first: Stats never shows the count with the old Up
	if count {
		b.resubscribes.Add(1)
		b.log.Warn("redisbroker: lost Redis; resubscribing", "err", err)
	}
	w.retryLater()
}

// retryLater arms the retry timer, after a pause growing up to MaxBackoff:
// a lost feed is made again, or a cluster feed's pending channels are
// subscribed again.
func (w *worker) retryLater() {
	if w.retry != nil {
		return
	}
	w.backoff = min(max(2*w.backoff, 50*time.Millisecond), w.b.o.MaxBackoff)
	w.retry = time.NewTimer(w.backoff)
}

// receiveLoop reads one subscription and hands its messages to the worker.
// A subscription silent for HealthInterval is pinged; when two pings in a
// row go unanswered, or on any error, it reports the loss and ends.
func (w *worker) receiveLoop(gen int, ps *redis.PubSub, stop <-chan struct{}) {
	b := w.b
	unanswered := 0
	for {
		// The deadline bounds what go-redis does before it waits (it may
		// connect again); the wait itself is HealthInterval.
		ctx, cancel := context.WithTimeout(b.ctx, b.o.HealthInterval+b.o.OpTimeout)
		msg, err := ps.ReceiveTimeout(ctx, b.o.HealthInterval)
		cancel()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && unanswered < 2 {
				unanswered++
				ctx, cancel := context.WithTimeout(b.ctx, b.o.OpTimeout)
				err = ps.Ping(ctx)
				cancel()
				if err == nil {
					continue
				}
			}
			select {
			case w.in <- inbound{gen: gen, err: err}:
			case <-stop:
			}
			return
		}
		unanswered = 0
		if _, pong := msg.(*redis.Pong); pong {
			continue
		}
		select {
		case w.in <- inbound{gen: gen, msg: msg}:
		case <-stop:
			return
		}
	}
}

// receive handles one message of the current subscription.
func (w *worker) receive(in inbound) {
	if w.feed == nil || !w.feed.live(in.gen) {
		return // from a retired subscription
	}
	if in.err != nil {
		if w.feed.cluster != nil {
			w.lostNode(in.gen, in.err)
		} else {
			w.lost(in.err)
		}
		return
	}
	switch m := in.msg.(type) {
	case *redis.Subscription:
		if m.Kind != "subscribe" && m.Kind != "ssubscribe" {
			return
		}
		w.b.up.Store(true)
		w.backoff = 0
		if t := w.byChannel[m.Channel]; t != nil && !t.confirmed {
			t.confirmed = true
			if err := w.catchUp(t); err != nil {
				w.failed(t, err)
			}
		}
	case *redis.Message:
		w.live(m)
	}
}

// live delivers one published event, unless the hub has it already.
func (w *worker) live(m *redis.Message) {
	b := w.b
	id, payload, ok := splitPayload(m.Payload)
	if !ok {
		b.log.Error("redisbroker: malformed message", "channel", m.Channel)
		return
	}
	to := facade.ToAll()
	t := w.byChannel[m.Channel]
	if t != nil {
		to = t.to
	} else if m.Channel != b.broadcastChannel() {
		return // a target this hub left
	}
	var sid streamID
	if t != nil && t.stream && !t.confirmed {
		return // from before a resubscription: the catch-up covers it
	}
	if t != nil && t.stream {
		if sid, ok = parseID(id); !ok {
			b.log.Error("redisbroker: malformed event ID", "channel", m.Channel, "id", id)
			return
		}
		if !t.cursor.less(sid) {
			b.duplicates.Add(1)
			return
		}
	}
	ev, err := decodeEvent(id, payload)
	if err != nil {
		b.log.Error("redisbroker: dropped a malformed event", "channel", m.Channel, "err", err)
		return
	}
	if t != nil && t.stream {
		w.advance(t, sid, &ev)
	} else {
		b.local.Deliver(to, ev)
	}
	b.delivered.Add(1)
	w.unflushed++
	if t != nil && t.stream {
		w.caughtUpTo(t)
	}
}

// caughtUpTo replays to the members that resume from an event this hub had
// not delivered yet, once the cursor has reached it.
func (w *worker) caughtUpTo(t *target) {
	if t.ahead == 0 {
		return
	}
	for c, m := range t.members {
		if m.ahead && !t.cursor.less(m.waitFor) {
			m.ahead = false
			t.ahead--
			w.dispatch(t, c, m)
		}
	}
}

// catchUp runs when t's subscription is confirmed. The first time, it
// takes the stream's newest ID as the point live delivery starts from; after
// a lost subscription, it delivers what was added meanwhile. Then it replays
// to the members that joined meanwhile.
func (w *worker) catchUp(t *target) error {
	if !t.stream {
		return nil
	}
	b := w.b
	key := b.streamKey(t.to)
	for _, m := range t.members {
		// Joined while Redis was lost: it gets what this hub delivers from
		// now on, even if another connection's socket takes it first and
		// raises the mark.
		if !m.seen && t.hasCursor {
			m.pos, m.seen = t.cursor, true
		}
	}
	if !t.hasCursor {
		var last []redis.XMessage
		err := w.call(func(ctx context.Context) (err error) {
			last, err = b.client.XRevRangeN(ctx, key, "+", "-", 1).Result()
			return err
		})
		if err != nil {
			return err
		}
		if len(last) > 0 {
			id, _ := parseID(last[0].ID)
			w.advance(t, id, nil)
		}
		t.hasCursor = true
	} else {
		// Inclusive of the cursor, to tell whether it is still kept.
		start := t.cursor.String()
		if t.cursor == (streamID{}) {
			start = "-"
		}
		for first := true; ; first = false {
			entries, err := w.xrange(key, start, "+")
			if err != nil {
				return err
			}
			if first && t.cursor != (streamID{}) {
				if len(entries) > 0 && entries[0].ID == start {
					entries = entries[1:]
				} else if w.lostCursor(t, len(entries) > 0) {
					start = "-" // a stream the cursor was never in: all of it is new
					continue
				}
			}
			if len(entries) == 0 {
				break
			}
			for _, e := range entries {
				w.deliverEntry(t, e)
			}
			start = "(" + t.cursor.String()
		}
	}
	for c, m := range t.members {
		if !m.ahead {
			w.dispatch(t, c, m)
		}
	}
	return nil
}

// lostCursor handles a catch-up of t that found the stream without t's
// cursor, the newest event this hub delivered. When the stream goes on past
// it (more, true), the events between were trimmed: some may be lost. When
// nothing at or after it is left, the stream vanished: with a cursor
// younger than TTL, the stream did not expire but was lost (a Redis or a
// master restarted without persistence, a flush, a failover), and so may be
// an event Notify accepted just before; an older one may have expired
// unread. Either way the gap is counted in Stats.Gaps and logged with the
// target, once: the cursor is reset to the start of the stream as it is
// now, so a later catch-up does not find the same gap again. It reports
// whether the stream must be read from its start (it vanished).
func (w *worker) lostCursor(t *target, more bool) (fromStart bool) {
	b := w.b
	was := t.cursor
	after := was.String()
	if more {
		b.gaps.Add(1)
		b.log.Warn("redisbroker: caught up after events no longer kept; some may be lost", "target", t.to.String(), "after", after)
		return false
	}
	w.advance(t, streamID{}, nil)
	if b.local.Now().Add(-b.o.TTL).UnixMilli() < int64(was.ms) {
		b.gaps.Add(1)
		b.log.Warn("redisbroker: the stream vanished (Redis lost it); events after the last one delivered may be lost", "target", t.to.String(), "after", after)
	}
	return true
}

// Marks and presence are sent together, flushDelay after the first change,
// or at once after flushEvery deliveries, so that neither costs a Redis
// call per event and the mark does not lag far behind a steady stream. The
// marks are those writes raised (Broker.Written), taken at each flush. A
// replay on this hub does not wait for them: it starts after the
// newest of Redis's mark and the one this hub has not sent yet (dispatch).
// When a connection leaves a user or a thread they are sent at once (with
// the other leaves of the same pass), so that a client that closes and
// reconnects on another instance finds there the mark of what its socket
// took, unless it gets there within that one round trip to Redis.
const (
	flushDelay = 10 * time.Millisecond
	flushEvery = 256
)

// batch is how many stream entries one XRANGE returns.
const batch = 512

// xrange reads up to batch entries between start and end.
func (w *worker) xrange(key, start, end string) ([]redis.XMessage, error) {
	var out []redis.XMessage
	err := w.call(func(ctx context.Context) (err error) {
		out, err = w.b.client.XRangeN(ctx, key, start, end, batch).Result()
		return err
	})
	return out, err
}

// decodeEntry rebuilds the event of a stream entry.
func decodeEntry(e redis.XMessage) (streamID, facade.Encoded, error) {
	id, ok := parseID(e.ID)
	s, isString := e.Values["e"].(string)
	if !ok || !isString {
		return streamID{}, facade.Encoded{}, errMalformed
	}
	ev, err := decodeEvent(e.ID, s)
	return id, ev, err
}

// advance moves t's cursor to id and hands ev, if any, to the hub, in one
// step under t.mu: a replayer hands its events over between two steps,
// never inside one. Only the worker moves cursors.
func (w *worker) advance(t *target, id streamID, ev *facade.Encoded) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ev != nil {
		w.b.local.Deliver(t.to, *ev)
	}
	t.cursor = id
}

// deliverEntry hands a caught-up entry to the hub's members of t.
func (w *worker) deliverEntry(t *target, e redis.XMessage) {
	b := w.b
	id, ev, err := decodeEntry(e)
	if err != nil {
		b.log.Error("redisbroker: dropped a malformed entry", "target", t.to.String(), "id", e.ID)
		if id, ok := parseID(e.ID); ok && t.cursor.less(id) {
			w.advance(t, id, nil)
		}
		return
	}
	if !t.cursor.less(id) {
		return
	}
	w.advance(t, id, &ev)
	b.caughtUp.Add(1)
	w.caughtUpTo(t)
}

// raiseMark queues the delivered mark of to to be raised to id: a socket
// took the event id. The mark is that of the target, whether this hub
// still has members of it or not.
func (w *worker) raiseMark(to facade.Target, id streamID) {
	if cur, ok := w.marks[to]; !ok || cur.less(id) {
		w.marks[to] = id
	}
}

// takeWritten queues the marks that writes raised (Broker.Written).
func (w *worker) takeWritten() {
	b := w.b
	b.writtenMu.Lock()
	b.written, w.inbox = w.inbox, b.written
	b.writtenMu.Unlock()
	for to, id := range w.inbox {
		w.raiseMark(to, id)
	}
	clear(w.inbox)
}

// applyOps applies the changes the hub announced, in order.
func (w *worker) applyOps() {
	b := w.b
	b.opsMu.Lock()
	ops := b.ops
	b.ops = nil
	b.opsMu.Unlock()
	for _, o := range ops {
		switch o.kind {
		case opJoin:
			w.join(o.c, o.to, o.from)
		case opLeave:
			w.leave(o.c, o.to)
		}
	}
}

func (w *worker) join(c *facade.Conn, to facade.Target, from string) {
	b := w.b
	t := w.targets[to]
	if t == nil {
		t = &target{to: to, channel: b.channel(to), stream: hasStream(to), members: make(map[*facade.Conn]*member)}
		w.targets[to] = t
		w.byChannel[t.channel] = t
		if w.feed != nil {
			w.subscribe(t.channel)
		}
	}
	m := &member{from: from, done: !t.stream}
	t.members[c] = m
	if t.stream && from == "" {
		// Where the stream stood when c joined: c must get what follows, even
		// if another connection gets it first and raises the mark. While
		// Redis is lost, nobody waits for it here: the replay starts from the
		// mark.
		switch {
		case t.confirmed:
			m.pos, m.seen = t.cursor, true
		case w.feed != nil:
			err := w.call(func(ctx context.Context) error {
				last, err := b.client.XRevRangeN(ctx, b.streamKey(to), "+", "-", 1).Result()
				if len(last) > 0 {
					m.pos, _ = parseID(last[0].ID)
				}
				m.seen = err == nil
				return err
			})
			if err != nil {
				b.log.Warn("redisbroker: could not read the stream position of a joining connection", "conn", c.ID(), "err", err)
			}
		}
	}
	if to == facade.ToUser(to.ID()) {
		w.users[c] = to.ID()
		w.presence = append(w.presence, w.presenceAdd(to.ID(), c.ID()))
	}
	if t.stream && t.confirmed {
		w.dispatch(t, c, m)
	}
}

func (w *worker) leave(c *facade.Conn, to facade.Target) {
	b := w.b
	if user, ok := w.users[c]; ok && to == facade.ToUser(user) {
		delete(w.users, c)
		key := b.presenceKey(user)
		w.presence = append(w.presence, func(ctx context.Context, p redis.Pipeliner) { p.ZRem(ctx, key, c.ID()) })
	}
	t := w.targets[to]
	if t == nil {
		return
	}
	if m := t.members[c]; m != nil {
		if m.ahead {
			t.ahead--
		}
		w.drop(m)
		w.left = w.left || t.stream
	}
	delete(t.members, c)
	if len(t.members) > 0 {
		return
	}
	delete(w.targets, to)
	delete(w.byChannel, t.channel)
	if w.feed != nil {
		var gen int
		err := w.call(func(ctx context.Context) (err error) {
			gen, err = w.feed.unsubscribe(ctx, t.channel)
			return err
		})
		switch {
		case err == nil:
		case w.feed.cluster != nil:
			w.lostNode(gen, err)
		default:
			w.lost(err)
		}
	}
}

// presenceAdd returns the commands that show connID as the user's until
// PresenceTTL from now.
func (w *worker) presenceAdd(user, connID string) func(context.Context, redis.Pipeliner) {
	b := w.b
	key := b.presenceKey(user)
	now := b.local.Now()
	score := float64(now.Add(b.o.PresenceTTL).UnixMilli())
	return func(ctx context.Context, p redis.Pipeliner) {
		p.ZAdd(ctx, key, redis.Z{Score: score, Member: connID})
		p.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatInt(now.UnixMilli(), 10))
		p.PExpire(ctx, key, 2*b.o.PresenceTTL)
	}
}

// refreshPresence renews the presence of every member user connection;
// it also drops expired entries, those of crashed instances.
func (w *worker) refreshPresence() {
	for c, user := range w.users {
		w.presence = append(w.presence, w.presenceAdd(user, c.ID()))
	}
}

// flush sends the queued marks and presence commands in one pipeline.
// Marks that fail are kept for the next flush; presence is renewed by the
// next refresh anyway. While Redis is known lost it waits, except for the
// last flush of Close.
func (w *worker) flush() {
	w.unflushed, w.left = 0, false
	w.takeWritten()
	if len(w.marks) == 0 && len(w.presence) == 0 {
		return
	}
	if w.feed == nil && !w.closing {
		w.presence = w.presence[:0] // renewed on reconnection
		return
	}
	b := w.b
	err := w.call(func(ctx context.Context) error {
		_, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for to, id := range w.marks {
				markScript.Eval(ctx, p, []string{b.markKey(to)}, id.String(), b.o.TTL.Milliseconds())
			}
			for _, f := range w.presence {
				f(ctx, p)
			}
			return nil
		})
		return err
	})
	w.presence = w.presence[:0]
	if err != nil {
		b.log.Warn("redisbroker: could not record deliveries and presence; will retry", "err", err)
		return
	}
	clear(w.marks)
}
