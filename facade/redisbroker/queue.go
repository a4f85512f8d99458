package redisbroker

import (
	"slices"
	"sync"
	"time"
)

// replayQueue holds the replays waiting for a replayer, fairly. Replays
// are grouped by whose they are (job.who: the connection's user, or the
// target when it has none): one FIFO per group, served in turn, at most one
// replay of a group at a time, so that a user who reconnects in a loop
// takes one turn in each round, never the others' share. It is bounded in
// total; and per group, the replays that admit a connection (a user's: one
// per connection) are bounded and rate-limited (a token bucket of perUser
// tokens, refilled at rate per second), while the replays of the threads
// its connections join are not: push refuses a replay beyond any of them.
// It knows nothing of Redis or of connections.
// Its methods are safe for concurrent use: the worker pushes and removes,
// replayers take and finish.
type replayQueue struct {
	max, perUser int
	rate         float64 // tokens per second
	now          func() time.Time

	mu      sync.Mutex
	pending map[string][]*job
	turns   []string // groups with a waiting replay and none running, in turn order
	running map[string]*job
	n       int           // replays waiting
	signal  chan struct{} // a replay may be waiting
	buckets map[string]*bucket
}

// bucket is a group's tokens, as of at.
type bucket struct {
	tokens float64
	at     time.Time
}

func newReplayQueue(max, perUser int, rate float64, now func() time.Time) *replayQueue {
	return &replayQueue{
		max:     max,
		perUser: perUser,
		rate:    rate,
		now:     now,
		pending: make(map[string][]*job),
		running: make(map[string]*job),
		signal:  make(chan struct{}, 1),
		buckets: make(map[string]*bucket),
	}
}

// take1 takes a token of who's bucket, if it has one.
func (q *replayQueue) take1(who string) bool {
	now := q.now()
	full := float64(q.perUser)
	if len(q.buckets) > 4*q.max { // forget the buckets that are full again
		for t, b := range q.buckets {
			if b.tokens+now.Sub(b.at).Seconds()*q.rate >= full {
				delete(q.buckets, t)
			}
		}
	}
	b := q.buckets[who]
	if b == nil {
		b = &bucket{tokens: full, at: now}
		q.buckets[who] = b
	}
	b.tokens = min(full, b.tokens+now.Sub(b.at).Seconds()*q.rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// push queues j at the end of its group's FIFO; it reports false, queuing
// nothing, when the queue is full, or when j admits a connection (see
// job.admits) and its group is at its bound or has no token left.
func (q *replayQueue) push(j *job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	who := j.who
	if q.n >= q.max {
		return false
	}
	if j.admits {
		held := 0
		for _, x := range q.pending[who] {
			if x.admits {
				held++
			}
		}
		if r := q.running[who]; r != nil && r.admits {
			held++
		}
		if held >= q.perUser || !q.take1(who) {
			return false
		}
	}
	q.pending[who] = append(q.pending[who], j)
	q.n++
	if q.running[who] == nil && len(q.pending[who]) == 1 {
		q.turns = append(q.turns, who)
	}
	q.wake()
	return true
}

// remove takes j out of the queue if it is still waiting; a running replay
// is stopped by its context instead.
func (q *replayQueue) remove(j *job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	js := q.pending[j.who]
	i := slices.Index(js, j)
	if i < 0 {
		return
	}
	q.n--
	if len(js) == 1 {
		delete(q.pending, j.who)
		if k := slices.Index(q.turns, j.who); k >= 0 {
			q.turns = slices.Delete(q.turns, k, k+1)
		}
		return
	}
	q.pending[j.who] = slices.Delete(js, i, i+1)
}

// take returns the next replay, in turn, marking its target running; it
// waits for one, and returns nil once quit is closed.
func (q *replayQueue) take(quit <-chan struct{}) *job {
	for {
		q.mu.Lock()
		if len(q.turns) > 0 {
			who := q.turns[0]
			q.turns = q.turns[1:]
			js := q.pending[who]
			j := js[0]
			if len(js) == 1 {
				delete(q.pending, who)
			} else {
				q.pending[who] = js[1:]
			}
			q.n--
			q.running[who] = j
			if len(q.turns) > 0 {
				q.wake()
			}
			q.mu.Unlock()
			return j
		}
		q.mu.Unlock()
		select {
		case <-q.signal:
		case <-quit:
			return nil
		}
	}
}

// finish ends the running replay of j's target: its next one may run.
func (q *replayQueue) finish(j *job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.running, j.who)
	if len(q.pending[j.who]) > 0 {
		q.turns = append(q.turns, j.who)
		q.wake()
	}
}

// len returns how many replays wait.
func (q *replayQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

func (q *replayQueue) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}
