package redisbroker

import (
	"slices"
	"sync"

	"github.com/wsunify/wsunify/facade"
)

// replayQueue holds the replays waiting for a replayer, fairly: one FIFO
// per target, served in turn, at most one replay of a target at a time, so
// that a user who reconnects in a loop takes one turn in each round, never
// the others' share. It is bounded in total and per target: push refuses a
// replay beyond either bound. It knows nothing of Redis or of connections.
// Its methods are safe for concurrent use: the worker pushes and removes,
// replayers take and finish.
type replayQueue struct {
	max, perTarget int

	mu      sync.Mutex
	pending map[facade.Target][]*job
	turns   []facade.Target // targets with a waiting replay and none running, in turn order
	running map[facade.Target]bool
	n       int           // replays waiting
	signal  chan struct{} // a replay may be waiting
}

func newReplayQueue(max, perTarget int) *replayQueue {
	return &replayQueue{
		max:       max,
		perTarget: perTarget,
		pending:   make(map[facade.Target][]*job),
		running:   make(map[facade.Target]bool),
		signal:    make(chan struct{}, 1),
	}
}

// push queues j at the end of its target's FIFO; it reports false, queuing
// nothing, when the queue or the target is at its bound.
func (q *replayQueue) push(j *job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	to := j.to
	held := len(q.pending[to])
	if q.running[to] {
		held++
	}
	if q.n >= q.max || held >= q.perTarget {
		return false
	}
	q.pending[to] = append(q.pending[to], j)
	q.n++
	if !q.running[to] && len(q.pending[to]) == 1 {
		q.turns = append(q.turns, to)
	}
	q.wake()
	return true
}

// remove takes j out of the queue if it is still waiting; a running replay
// is stopped by its context instead.
func (q *replayQueue) remove(j *job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	js := q.pending[j.to]
	i := slices.Index(js, j)
	if i < 0 {
		return
	}
	q.n--
	if len(js) == 1 {
		delete(q.pending, j.to)
		if k := slices.Index(q.turns, j.to); k >= 0 {
			q.turns = slices.Delete(q.turns, k, k+1)
		}
		return
	}
	q.pending[j.to] = slices.Delete(js, i, i+1)
}

// take returns the next replay, in turn, marking its target running; it
// waits for one, and returns nil once quit is closed.
func (q *replayQueue) take(quit <-chan struct{}) *job {
	for {
		q.mu.Lock()
		if len(q.turns) > 0 {
			to := q.turns[0]
			q.turns = q.turns[1:]
			js := q.pending[to]
			j := js[0]
			if len(js) == 1 {
				delete(q.pending, to)
			} else {
				q.pending[to] = js[1:]
			}
			q.n--
			q.running[to] = true
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
	delete(q.running, j.to)
	if len(q.pending[j.to]) > 0 {
		q.turns = append(q.turns, j.to)
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
