package redisbroker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/redisbroker"
)

// assertUnavailable checks that a Notify while Redis is out of reach fails
// fast, typed, and counted.
func assertUnavailable(t *testing.T, n *node) {
	t.Helper()
	hubErrs, brokerErrs := n.hub.Stats().BrokerErrors, n.broker.Stats().Unavailable
	start := time.Now()
	err := n.hub.Notify(context.Background(), facade.ToUser("somebody"), seqEvent(0))
	require.ErrorIs(t, err, redisbroker.ErrUnavailable)
	assert.Less(t, time.Since(start), 2*time.Second, "bounded by OpTimeout")
	assert.Greater(t, n.hub.Stats().BrokerErrors, hubErrs)
	assert.Greater(t, n.broker.Stats().Unavailable, brokerErrs)
}

// Redis restarts (and, without persistence, forgets everything): Notify
// fails with ErrUnavailable while it is down; once it is back, connected
// clients get every event Notify accepted, once, in order, and presence is
// restored.
func TestRedisRestart(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)
	c := b.dial(t, dialOpts{user: "u1", ids: true})
	waitReplays(t, b, 1)
	for i := 1; i <= 5; i++ {
		notify(t, a, facade.ToUser("u1"), seqEvent(i))
	}
	require.Equal(t, span(1, 5), seqs(c.read(5)))
	require.Eventually(t, func() bool { return a.hub.Connected("u1") }, 5*time.Second, 10*time.Millisecond)

	r.stop()
	assertUnavailable(t, a)
	start := time.Now()
	assert.False(t, a.hub.Connected("u1"), "a knows only its own connections while Redis is down")
	assert.Less(t, time.Since(start), 2*time.Second)
	require.Eventually(t, func() bool { return !b.broker.Stats().Up }, 5*time.Second, 10*time.Millisecond)
	// A client that connects meanwhile is accepted at once and is served
	// when Redis is back.
	start = time.Now()
	during := b.dial(t, dialOpts{user: "u1"})
	assert.Less(t, time.Since(start), time.Second)

	r.start()
	s := newSent(facade.ToUser("u1"))
	for i := 6; i <= 50; i++ {
		s.notify(t, a, i)
	}
	last := s.fence(t, a, 51)
	s.check(t, seqs(c.readThrough(last)), "connected before")
	s.check(t, seqs(during.readThrough(last)), "connected while Redis was down")
	c.silent(300 * time.Millisecond)
	during.silent(0)
	assert.GreaterOrEqual(t, b.broker.Stats().Resubscribes, uint64(1))
	require.Eventually(t, func() bool { return a.hub.Connected("u1") }, 5*time.Second, 10*time.Millisecond, "presence is renewed")
}

// The network between one hub and Redis is cut, then paused (connections
// open, nothing flowing), while another hub streams to a client of the
// first: the client gets every event once and in order; the cut-off hub's
// own Notify calls fail typed meanwhile.
func TestNetworkCutAndPauseLoseNothing(t *testing.T) {
	r := startRedis(t)
	p := newProxy(t, r.Addr())
	a, b := newNode(t, r.Addr(), nil), newNode(t, p.Addr(), nil)
	c := b.dial(t, dialOpts{user: "u1", ids: true})
	waitReplays(t, b, 1)

	const total = 1500
	var wg sync.WaitGroup
	var pubErr error
	progress := make(chan int, total)
	wg.Go(func() {
		for i := 1; i <= total; i++ {
			if err := a.hub.Notify(context.Background(), facade.ToUser("u1"), seqEvent(i)); err != nil {
				pubErr = err
				return
			}
			progress <- i
			time.Sleep(2 * time.Millisecond)
		}
	})
	waitFor := func(n int) {
		for i := range progress {
			if i >= n {
				return
			}
		}
	}

	waitFor(200)
	p.Cut()
	assertUnavailable(t, b)
	time.Sleep(time.Second)
	p.Restore()

	waitFor(800)
	p.Pause()
	assertUnavailable(t, b)
	time.Sleep(time.Second)
	p.Restore()

	wg.Wait()
	require.NoError(t, pubErr)
	got := c.read(total)
	assert.Equal(t, span(1, total), seqs(got))
	c.silent(300 * time.Millisecond)
	st := b.broker.Stats()
	assert.GreaterOrEqual(t, st.Resubscribes, uint64(2), "both faults were noticed")
	assert.Positive(t, st.CaughtUp, "what was missed came from the stream")
}

// A hub is killed mid-stream: its client reconnects to another hub with the
// last event ID it saw and gets the rest, with nothing lost or repeated.
func TestHubKilledMidStreamClientResumesElsewhere(t *testing.T) {
	r := startRedis(t)
	a, b, c := newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)
	cl := b.dial(t, dialOpts{user: "u1", ids: true})
	waitReplays(t, b, 1)

	const total = 1000
	var wg sync.WaitGroup
	var pubErr error
	wg.Go(func() {
		for i := 1; i <= total; i++ {
			if err := a.hub.Notify(context.Background(), facade.ToUser("u1"), seqEvent(i)); err != nil {
				pubErr = err
				return
			}
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	first := cl.read(100)
	b.close() // the instance dies: its sockets drop, its hub stops
	first = append(first, cl.readUntilEnd()...)
	last := first[len(first)-1]
	require.NotEmpty(t, last.ID)

	again := c.dial(t, dialOpts{user: "u1", ids: true, lastEventID: last.ID})
	wg.Wait()
	require.NoError(t, pubErr)
	rest := again.read(total - len(first))
	assert.Equal(t, span(1, total), append(seqs(first), seqs(rest)...))
	again.silent(300 * time.Millisecond)
	require.Eventually(t, func() bool { return len(a.hub.ConnIDs("u1")) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []string{again.c.ID()}, a.hub.ConnIDs("u1"))
}

// Closing a hub while Redis is unreachable ends in bounded time, with every
// goroutine stopped (the package's TestMain checks for leaks).
func TestCloseWhileRedisIsDownIsBounded(t *testing.T) {
	r := startRedis(t)
	a := newNode(t, r.Addr(), nil)
	a.dial(t, dialOpts{user: "u1"})
	waitReplays(t, a, 1)
	r.stop()
	start := time.Now()
	a.close()
	assert.Less(t, time.Since(start), 3*time.Second)
	err := a.hub.Notify(context.Background(), facade.ToUser("u1"), seqEvent(1))
	assert.True(t, errors.Is(err, facade.ErrHubClosed), "%v", err)
}

// OpTimeout is a bound whatever the client's own timeouts: with Redis
// frozen by SIGSTOP (connections open, nothing answered), Notify,
// Hub.Connected and Hub.ConnIDs each return within OpTimeout plus
// boundSlack, concurrent calls too, and Hub.Close within one OpTimeout plus
// boundSlack. The clients are the one the package doc shows (go-redis then
// ignores deadlines and waits its 5s read timeout), one with no timeouts at
// all, one with ContextTimeoutEnabled, which the broker uses as is, and a
// cluster client as the doc shows, one of whose masters is frozen.
func TestOpTimeoutBoundsEveryCallWhileRedisIsFrozen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(addr string) *redis.Client
	}{
		{"documented", func(addr string) *redis.Client {
			return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		}},
		{"no timeouts", func(addr string) *redis.Client {
			return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Minute, ReadTimeout: -1, WriteTimeout: -1, PoolTimeout: time.Minute})
		}},
		{"context timeouts", func(addr string) *redis.Client {
			return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRedis(t)
			rdb := tc.client(r.Addr())
			t.Cleanup(func() { _ = rdb.Close() })
			assertBoundedWhileFrozen(t, rdb, r, "u1", "u2")
		})
	}
	t.Run("cluster", func(t *testing.T) {
		c := startCluster(t)
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{c.nodes[0].Addr()}, MaxRetries: -1})
		t.Cleanup(func() { _ = rdb.Close() })
		users := c.usersOnEveryShard(t, 2)[0]
		assertBoundedWhileFrozen(t, rdb, c.nodes[0], users[0], users[1])
	})
}

// assertBoundedWhileFrozen connects user to a hub on rdb, freezes r, which
// holds the keys of user and of other, and times every call.
func assertBoundedWhileFrozen(t *testing.T, rdb redis.UniversalClient, r *redisServer, user, other string) {
	const opTimeout = 300 * time.Millisecond
	const boundSlack = 500 * time.Millisecond // scheduling under -race and a loaded machine
	o := testOptions()
	o.OpTimeout = opTimeout
	n := newNodeOn(t, rdb, o)
	n.dial(t, dialOpts{user: user})
	waitReplays(t, n, 1)
	require.Eventually(t, func() bool { return n.hub.Connected(user) }, 5*time.Second, 10*time.Millisecond)

	r.freeze()
	within := func(what string, f func()) {
		t.Helper()
		start := time.Now()
		f()
		took := time.Since(start)
		t.Logf("%s: %v", what, took)
		assert.LessOrEqual(t, took, opTimeout+boundSlack, "%s took %v, OpTimeout %v", what, took, opTimeout)
	}
	for range 3 {
		within("Notify user", func() {
			err := n.hub.Notify(context.Background(), facade.ToUser(user), seqEvent(1))
			assert.ErrorIs(t, err, redisbroker.ErrUnavailable)
		})
		within("Notify conn", func() {
			err := n.hub.Notify(context.Background(), facade.ToConn("elsewhere"), seqEvent(1))
			if !errors.Is(err, facade.ErrUnknownTarget) { // on a cluster, a master that answers may own its slot
				assert.ErrorIs(t, err, redisbroker.ErrUnavailable)
			}
		})
		within("Notify broadcast", func() { _ = n.hub.Notify(context.Background(), facade.ToAll(), seqEvent(1)) })
		within("Connected", func() { assert.False(t, n.hub.Connected(other)) })
		within("ConnIDs", func() { assert.Len(t, n.hub.ConnIDs(user), 1) })
	}
	// More calls at once than the pool has connections.
	within("64 concurrent Notify", func() {
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() { _ = n.hub.Notify(context.Background(), facade.ToUser(user), seqEvent(i)) })
		}
		wg.Wait()
	})
	// A connection that joins meanwhile gives the worker calls to make.
	n.dial(t, dialOpts{user: user, lastEventID: "0-0"})
	within("Close", n.close)
}
