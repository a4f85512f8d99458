package redisbroker_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/redisbroker"
)

// The cross-instance behaviour on a 3-master Redis Cluster, with users on
// every shard: events held for absent users, live delivery in order,
// resuming on another hub from the last event ID, presence, events for a
// thread and a connection, and broadcasts. Pub/sub is sharded: no node has a classic
// channel, and each user's channel is on the node that owns its keys.
func TestClusterAcrossHubs(t *testing.T) {
	c := startCluster(t)
	a, b := newNodeOn(t, c.client(t), nil), newNodeOn(t, c.client(t), nil)
	shards := c.usersOnEveryShard(t, 2)
	users := slices.Concat(shards...)

	// Held: nobody is connected yet.
	for _, u := range users {
		for i := 1; i <= 3; i++ {
			notify(t, a, facade.ToUser(u), seqEvent(i))
		}
	}
	clients := make(map[string]*client)
	for _, u := range users {
		clients[u] = b.dial(t, dialOpts{user: u, ids: true})
		require.Equal(t, span(1, 3), seqs(clients[u].read(3)), "held for %s", u)
	}
	waitReplays(t, b, uint64(len(users)))

	// Live, from the other hub.
	for i := 4; i <= 10; i++ {
		for _, u := range users {
			notify(t, a, facade.ToUser(u), seqEvent(i))
		}
	}
	last := make(map[string]string)
	for _, u := range users {
		got := clients[u].read(7)
		require.Equal(t, span(4, 10), seqs(got), "live for %s", u)
		last[u] = got[len(got)-1].ID
	}

	// Presence, seen from the other hub.
	for _, u := range users {
		require.Eventually(t, func() bool { return a.hub.Connected(u) }, 5*time.Second, 10*time.Millisecond, u)
		assert.Equal(t, []string{clients[u].c.ID()}, a.hub.ConnIDs(u))
	}

	// Sharded pub/sub: each user channel lives on the master of its keys.
	for i, n := range c.nodes {
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr()})
		classic, err := rdb.PubSubChannels(context.Background(), "*").Result()
		require.NoError(t, err)
		assert.Empty(t, classic, "node %s has classic channels", n.Addr())
		sharded, err := rdb.PubSubShardChannels(context.Background(), "*").Result()
		require.NoError(t, err)
		for _, u := range shards[i] {
			assert.Contains(t, sharded, "wsunify:{user:"+u+"}:c")
		}
		_ = rdb.Close()
	}

	// Resume on the other hub from the last event ID.
	for _, u := range users {
		clients[u].ws.Close()
		<-clients[u].end
	}
	for i := 11; i <= 15; i++ {
		for _, u := range users {
			notify(t, b, facade.ToUser(u), seqEvent(i))
		}
	}
	for _, u := range users {
		again := a.dial(t, dialOpts{user: u, ids: true, lastEventID: last[u]})
		assert.Equal(t, span(11, 15), seqs(again.read(5)), "resumed %s", u)
		again.silent(0)
		clients[u] = again
	}
	for _, u := range users {
		clients[u].silent(100 * time.Millisecond)
	}

	// A thread's and a connection's events and broadcasts cross hubs too.
	onB := b.dial(t, dialOpts{user: "someone", id: "conn-on-b"})
	require.NoError(t, onB.c.JoinThread("t1"))
	waitReplays(t, b, uint64(len(users)+2))
	notify(t, a, facade.ToThread("t1"), seqEvent(99))
	assert.Equal(t, []int{99}, seqs(onB.read(1)))
	require.Eventually(t, func() bool {
		return a.hub.Notify(context.Background(), facade.ToConn("conn-on-b"), seqEvent(100)) == nil
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []int{100}, seqs(onB.read(1)))
	notify(t, b, facade.ToAll(), seqEvent(200))
	for _, u := range users {
		assert.Equal(t, []int{200}, seqs(clients[u].read(1)), "broadcast to %s", u)
	}
}

// A master of the cluster is killed (SIGKILL) and restarted while a hub
// streams to users on every shard: Notify fails with ErrUnavailable for
// that shard's users while it is down, and connected clients get every
// event Redis kept, once and in order; users on the other shards are served
// live throughout; presence comes back.
//
// What Redis kept depends on its persistence. Redis sends a command's reply
// before it sends what the command published (it writes its clients in
// reverse order of their replies), so a master killed right after it
// acknowledged an event may never have sent it to its subscribers.
// With appendfsync always that event is on disk before the reply: the
// master restarts with it and the catch-up must deliver it, so the kill
// lands mid-stream. Without persistence the master restarts empty, and
// such an event is lost with it, as the package documents; the kill then
// lands once the client has every event accepted so far, and the catch-up
// must deliver what follows from a stream that never had its cursor, and
// count the gap.
func TestClusterNodeRestartMidStreamLosesNothingKept(t *testing.T) {
	t.Run("appendfsync always", func(t *testing.T) {
		clusterNodeRestart(t, false, "--appendonly", "yes", "--appendfsync", "always")
	})
	t.Run("without persistence", func(t *testing.T) { clusterNodeRestart(t, true) })
}

// clusterNodeRestart is the test above on a cluster started with args;
// quiesce makes the kill wait for the client to have every event accepted.
func clusterNodeRestart(t *testing.T, quiesce bool, args ...string) {
	c := startCluster(t, args...)
	a, b := newNodeOn(t, c.client(t), nil), newNodeOn(t, c.client(t), nil)
	users := slices.Concat(c.usersOnEveryShard(t, 1)...)
	clients := make([]*client, len(users))
	for i, u := range users {
		clients[i] = b.dial(t, dialOpts{user: u, ids: true})
	}
	waitReplays(t, b, uint64(len(users)))

	const total, kill = 300, 50
	var wg sync.WaitGroup
	progress := make([]chan int, len(users)) // the events Redis took for sure, of each user
	sends := make([]*sent, len(users))
	fences := make([]int, len(users))
	paused := make(chan struct{}) // when quiesce, the first shard's publisher closes it at kill
	resume := make(chan struct{}) // and waits for it
	for i, u := range users {
		progress[i] = make(chan int, total)
		sends[i] = newSent(facade.ToUser(u))
		wg.Go(func() {
			for n := 1; n <= total; n++ {
				// A Notify that cannot tell whether Redis took its event
				// (a reply lost to the kill, or to a timeout under load)
				// is not sent again: that event may be missing, never
				// twice.
				if sends[i].notify(t, a, n) {
					progress[i] <- n
				}
				if i == 0 && n == kill && quiesce {
					close(paused)
					<-resume
				}
				time.Sleep(2 * time.Millisecond)
			}
			fences[i] = sends[i].fence(t, a, total+1)
		})
	}
	waitFor := func(ch chan int, n int) int {
		for i := range ch {
			if i >= n {
				return i
			}
		}
		return 0
	}
	got := make([][]event, len(users))
	if quiesce {
		// Every event Redis took before the kill has reached the client:
		// those it took for sure, and any it took unsure before them.
		<-paused
		last := 0
		for len(progress[0]) > 0 {
			last = <-progress[0]
		}
		require.Positive(t, last, "Redis took none of the first %d events for sure", kill)
		got[0] = clients[0].readThrough(last)
	} else {
		waitFor(progress[0], kill)
	}
	c.nodes[0].stop()
	close(resume)
	// The other shards go on while the first is down: published and
	// delivered live.
	for i := 1; i < len(users); i++ {
		got[i] = clients[i].readThrough(waitFor(progress[i], 150))
	}
	err := a.hub.Notify(context.Background(), facade.ToUser(users[0]), seqEvent(0))
	require.ErrorIs(t, err, redisbroker.ErrUnavailable)
	c.nodes[0].start()
	c.waitOK(t)

	wg.Wait()
	if !quiesce {
		kept, err := c.client(t).XLen(context.Background(), "wsunify:{"+facade.ToUser(users[0]).String()+"}:s").Result()
		require.NoError(t, err)
		require.GreaterOrEqual(t, kept, int64(len(sends[0].seqs)-len(sends[0].maybe)), "the master kept its stream across the restart: every event it took for sure")
	}
	for i, u := range users {
		got[i] = append(got[i], clients[i].readThrough(fences[i])...)
		sends[i].check(t, seqs(got[i]), "user "+u)
		clients[i].silent(100 * time.Millisecond)
	}
	require.Eventually(t, func() bool { return a.hub.Connected(users[0]) }, 10*time.Second, 20*time.Millisecond, "presence is renewed")
	// The restarted master lost the first user's stream, and maybe an
	// event with it, only without persistence: b counts that gap once.
	var gaps uint64
	if quiesce {
		gaps = 1
	}
	assert.Equal(t, gaps, b.broker.Stats().Gaps, "gaps counted by the receiving hub")
}
