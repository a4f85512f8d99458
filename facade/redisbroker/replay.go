package redisbroker

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/wsunify/wsunify/facade"
)

// Replays run apart from the worker, so that live delivery never waits
// behind them: the worker queues a job (dispatch); one of the replayers
// reads the stream up to the target's cursor and, at that cursor, hands the
// events to the hub (handOver); the worker then records the outcome
// (replayed). Only the worker moves cursors; while a replayer hands over,
// the worker's delivery to that one target waits, no other.
const replayers = 2

// job is one connection's replay of one target. The worker fills its input
// and reads its output; a replayer runs it in between.
type job struct {
	ctx    context.Context // cancelled when the connection leaves or the broker closes
	cancel context.CancelFunc
	t      *target // the worker's; the replayer reads only the copies below
	c      *facade.Conn
	m      *member
	to     facade.Target
	who    string // whose replay it is, for the queue: "user:<id>" of the connection, or the target
	admits bool   // the replay of a user target: it admits a connection, and counts against the user's bound and rate
	key    string // the stream
	mark   string // the delivered mark's key

	from  string   // the client's last event ID ("" for none)
	floor streamID // the delivered mark this hub has not sent to Redis yet (zero: none)
	pos   streamID // the stream's newest ID when c joined
	seen  bool     // pos is known
	after streamID // a continuation: replay what follows after
	cont  bool     // this is a continuation
	upTo  streamID // the replay ends there: the target's cursor when it was read

	// Output, accumulated over a replay and its continuations.
	evs     []facade.Encoded
	wait    bool // the client saw an event past upTo: wait for the cursor to reach waitFor
	waitFor streamID
	err     error
}

// replayLoop is one replayer: it runs queued jobs and hands them back to the
// worker, until the broker closes.
func (w *worker) replayLoop() {
	b := w.b
	for {
		j := w.queue.take(b.quit)
		if j == nil {
			return
		}
		if j.ctx.Err() == nil {
			j.err = w.handOver(j)
		}
		w.queue.finish(j)
		select {
		case w.finished <- j:
		case <-b.quit:
			j.cancel()
			return
		}
	}
}

// handOver reads j's events and hands them to the hub at the target's
// cursor: when the worker moved the cursor past upTo meanwhile, it reads
// on to the new cursor first.
func (w *worker) handOver(j *job) error {
	t := j.t
	t.mu.Lock()
	j.upTo = t.cursor
	t.mu.Unlock()
	for {
		if err := w.runReplay(j); err != nil || j.wait {
			return err
		}
		t.mu.Lock()
		if t.cursor == j.upTo {
			w.b.local.Replay(j.c, j.to, j.evs)
			t.mu.Unlock()
			return nil
		}
		j.cont, j.after, j.upTo = true, j.upTo, t.cursor
		t.mu.Unlock()
	}
}

// call runs f bounded by OpTimeout and by the job's context.
func (j *job) call(b *Broker, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(j.ctx, b.o.OpTimeout)
	defer cancel()
	return f(ctx)
}

// xrange reads up to batch entries between start and end.
func (j *job) xrange(b *Broker, start, end string) ([]redis.XMessage, error) {
	var out []redis.XMessage
	err := j.call(b, func(ctx context.Context) (err error) {
		out, err = b.client.XRangeN(ctx, j.key, start, end, batch).Result()
		return err
	})
	return out, err
}

// runReplay reads the events j's connection missed, up to j.upTo, into
// j.evs. It starts after the client's last event ID if it gave one, else
// after the delivered mark: the events no ready connection received. It
// runs on a replayer and touches no state of the worker.
func (w *worker) runReplay(j *job) error {
	b := w.b
	start, resume := "("+j.after.String(), false
	if !j.cont {
		var err error
		if start, resume, err = w.replayStart(j); err != nil || j.wait {
			return err
		}
	}
	if j.upTo == (streamID{}) {
		return nil
	}
	// Entries past TTL are trimmed only when the next event comes; a replay
	// skips them as if they were.
	cutoff := uint64(max(b.local.Now().Add(-b.o.TTL).UnixMilli(), 0))
	for {
		entries, err := j.xrange(b, start, j.upTo.String())
		if err != nil {
			return err
		}
		more := len(entries) == batch
		if resume {
			if len(entries) == 0 || entries[0].ID != start {
				b.gaps.Add(1)
				b.log.Warn("redisbroker: resuming from an event no longer kept; events after it may be lost", "conn", j.c.ID(), "target", j.to.String(), "last_event_id", j.from)
			} else {
				entries = entries[1:]
			}
			resume = false
		}
		if more {
			start = "(" + entries[len(entries)-1].ID
		}
		for _, e := range entries {
			id, ev, err := decodeEntry(e)
			if err != nil {
				b.log.Error("redisbroker: dropped a malformed entry", "target", j.to.String(), "id", e.ID)
				continue
			}
			if id.ms < cutoff {
				b.expired.Add(1)
				continue
			}
			j.evs = append(j.evs, ev)
		}
		if !more {
			return nil
		}
	}
}

// replayStart returns where j's replay starts: at the client's last event
// (inclusive, with resume, to tell whether it is still kept); after upTo
// when the client gave an event the stream does not have; else after the
// delivered mark (Redis's, or the one this hub has not sent yet if it is
// newer: j.floor), or after where the stream stood when c joined if that
// is earlier. It sets j.wait when the client saw an event past upTo, which
// this hub has not delivered yet: the replay waits until the cursor
// reaches that event, or c would get it twice.
func (w *worker) replayStart(j *job) (start string, resume bool, err error) {
	b := w.b
	if j.from != "" {
		from, ok := parseID(j.from)
		switch {
		case !ok:
			b.log.Warn("redisbroker: ignoring a malformed last event ID", "conn", j.c.ID(), "id", j.from)
		case !j.upTo.less(from):
			return from.String(), true, nil
		default:
			var entries []redis.XMessage
			if entries, err = j.xrange(b, from.String(), from.String()); err != nil {
				return "", false, err
			}
			if len(entries) == 1 {
				j.wait, j.waitFor = true, from
				return "", false, nil
			}
			b.gaps.Add(1)
			b.log.Warn("redisbroker: resuming from an unknown event; replaying nothing", "conn", j.c.ID(), "target", j.to.String(), "last_event_id", j.from)
			return "(" + j.upTo.String(), false, nil
		}
	}
	var mark string
	err = j.call(b, func(ctx context.Context) (err error) {
		mark, err = b.client.Get(ctx, j.mark).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	})
	if err != nil {
		return "", false, err
	}
	id, ok := parseID(mark)
	if j.floor != (streamID{}) && (!ok || id.less(j.floor)) {
		id, ok = j.floor, true // a socket here took it; the batch is on its way
	}
	switch {
	case !ok:
		return "-", false, nil // nothing was ever delivered
	case !j.seen || id.less(j.pos):
		return "(" + id.String(), false, nil
	case j.pos == (streamID{}):
		return "-", false, nil
	}
	// What came after c joined was not held for another connection: c
	// gets it too.
	return "(" + j.pos.String(), false, nil
}

// dispatch queues the replay of t to c. When the queue or t is at its
// bound, c is refused: closed with 1013 "try again later", counted in
// Stats.Refused.
func (w *worker) dispatch(t *target, c *facade.Conn, m *member) {
	b := w.b
	if m.refused || m.job != nil || m.done {
		return
	}
	w.takeWritten() // the replay starts after what this hub's sockets took
	ctx, cancel := context.WithCancel(b.ctx)
	who := t.to.String()
	if user, ok := w.users[c]; ok {
		who = facade.ToUser(user).String()
	}
	j := &job{
		ctx: ctx, cancel: cancel, t: t, c: c, m: m, to: t.to, who: who, admits: t.to == facade.ToUser(t.to.ID()),
		key: b.streamKey(t.to), mark: b.markKey(t.to),
		from: m.from, floor: w.marks[t.to], pos: m.pos, seen: m.seen,
	}
	if !w.queue.push(j) {
		cancel()
		w.refuse(c, m)
		return
	}
	m.job = j
}

// refuse closes c, which this instance has no room to replay to, with 1013
// "try again later": its client reconnects later, or elsewhere. The close
// runs on a goroutine of its own, as it waits for c's writer.
func (w *worker) refuse(c *facade.Conn, m *member) {
	b := w.b
	m.refused = true
	b.refused.Add(1)
	b.wg.Go(func() { _ = c.Close(CloseTryAgainLater, "try again later") })
}

// CloseTryAgainLater is the close code of a connection refused because
// this instance's replays are at their bound (see [Options].ReplayQueue).
const CloseTryAgainLater = 1013

// replayed takes a job back from a replayer and records its outcome:
// nothing when its connection left meanwhile; a new subscription when
// Redis failed (whose catch-up queues the replay again); a wait for the
// cursor when the client is ahead of this hub; else a replay done (its
// events raise the delivered mark as the connection's socket takes them).
func (w *worker) replayed(j *job) {
	b := w.b
	t, m := j.t, j.m
	j.cancel()
	if t.members[j.c] != m || m.job != j {
		return // the connection left: its work is dropped
	}
	m.job = nil
	switch {
	case j.err != nil:
		if b.ctx.Err() == nil {
			w.failed(t, j.err)
		}
	case j.wait:
		m.ahead, m.waitFor = true, j.waitFor
		t.ahead++
		w.caughtUpTo(t)
	default:
		m.done = true
		b.replayed.Add(uint64(len(j.evs)))
		b.replays.Add(1)
	}
}

// drop forgets m's replay, queued or running: its connection left.
func (w *worker) drop(m *member) {
	if m.job == nil {
		return
	}
	w.queue.remove(m.job)
	m.job.cancel()
	m.job = nil
}
