package redisbroker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// The queue serves targets in turn, one replay of a target at a time, so a
// user with many replays waiting takes one turn per round; it refuses a
// replay beyond its total or per-target bound, or beyond the target's rate,
// and a removed replay is never served.
func TestReplayQueueIsFairAndBounded(t *testing.T) {
	t.Parallel()
	clock := time.Unix(0, 0)
	q := newReplayQueue(6, 3, 1, func() time.Time { return clock })
	flood, u1, u2 := facade.ToUser("flood"), facade.ToUser("u1"), facade.ToUser("u2")
	newJob := func(to facade.Target) *job { return &job{to: to, who: to.String(), admits: true} }
	f1, f2, f3 := newJob(flood), newJob(flood), newJob(flood)
	a, b := newJob(u1), newJob(u2)
	for _, j := range []*job{f1, f2, f3, a, b} {
		require.True(t, q.push(j))
	}
	assert.False(t, q.push(newJob(flood)), "the target is at its bound")
	c := newJob(u1)
	require.True(t, q.push(c))
	assert.False(t, q.push(newJob(u2)), "the queue is at its bound")
	assert.Equal(t, 6, q.len())

	quit := make(chan struct{})
	close(quit) // take never waits here: a replay is always ready
	assert.Same(t, f1, q.take(quit))
	assert.Same(t, a, q.take(quit))
	assert.Same(t, b, q.take(quit))
	assert.Nil(t, q.take(quit), "every target with waiting replays has one running")
	q.finish(f1)
	q.remove(f2) // its connection left
	assert.Same(t, f3, q.take(quit))
	q.finish(a)
	assert.Same(t, c, q.take(quit))
	assert.Equal(t, 0, q.len())
	clock = clock.Add(time.Second) // one token for each target
	assert.True(t, q.push(newJob(flood)), "room again")
	assert.False(t, q.push(newJob(flood)), "no token left")
	clock = clock.Add(time.Second)
	assert.True(t, q.push(newJob(flood)), "a token a second")

	// The replays of the threads a user's connections join are limited by
	// the queue's bound alone; they take the user's turns.
	for range 4 {
		require.True(t, q.push(&job{to: facade.ToThread("t"), who: flood.String()}))
	}
	assert.Equal(t, 6, q.len())
	assert.False(t, q.push(newJob(u1)), "the queue is full")
}
