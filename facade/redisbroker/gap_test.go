package redisbroker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// A Redis without persistence is killed and restarted: it lost every
// stream, and with them possibly an event it acknowledged just before the
// crash. A hub that followed a stream with an event delivered counts the
// gap once per stream (Stats.Gaps), whether its catch-up finds the stream
// gone ("vanished") or already restarted by new events ("restarted"); a
// stream it had seen nothing of is no gap. Later events arrive once, and a
// later resubscription without a restart counts nothing more.
func TestRedisRestartWithoutPersistenceCountsEachLostStreamOnce(t *testing.T) {
	for _, tc := range []struct {
		name         string
		publishFirst bool // events are published after the restart, before the hub's catch-up
	}{{"vanished", false}, {"restarted", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRedis(t)
			p := newProxy(t, r.Addr())
			// pub's Notify calls wait long enough that none times out
			// with its outcome unknown, on a loaded machine too: a Redis
			// that is down refuses them at once.
			po := testOptions()
			po.OpTimeout = 10 * time.Second
			pub := newNode(t, r.Addr(), po)
			a := newNode(t, p.Addr(), nil) // the hub whose gaps are counted
			c1 := a.dial(t, dialOpts{user: "u1"})
			require.NoError(t, c1.c.JoinThread("t1"))
			c2 := a.dial(t, dialOpts{user: "u2"})
			require.NoError(t, c2.c.JoinThread("t2")) // nothing is ever delivered before the crash
			waitReplays(t, a, 4)
			notify(t, pub, facade.ToUser("u1"), seqEvent(1))
			notify(t, pub, facade.ToThread("t1"), seqEvent(2))
			notify(t, pub, facade.ToUser("u2"), seqEvent(3))
			assert.Equal(t, []int{1, 2}, sorted(c1.read(2)))
			assert.Equal(t, []int{3}, seqs(c2.read(1)))

			round := func(first int) {
				t.Helper()
				for i, to := range []facade.Target{facade.ToUser("u1"), facade.ToThread("t1"), facade.ToUser("u2"), facade.ToThread("t2")} {
					require.True(t, notifyUntilOK(t, pub, to, seqEvent(first+i)), "Redis took %v for sure", to)
				}
			}
			resubscribes := a.broker.Stats().Resubscribes
			if tc.publishFirst {
				p.Cut()
				r.stop()
				r.start()
				round(4)
				p.Restore()
			} else {
				r.stop()
				r.start()
				require.Eventually(t, func() bool { return a.broker.Stats().Gaps == 3 }, 20*time.Second, 10*time.Millisecond,
					"the hub caught up with three lost streams")
				round(4)
			}
			assert.Equal(t, []int{4, 5}, sorted(c1.read(2)))
			assert.Equal(t, []int{6, 7}, sorted(c2.read(2)))
			assert.Equal(t, uint64(3), a.broker.Stats().Gaps, "u1, t1 and u2 lost their streams; t2 had nothing")
			assert.Greater(t, a.broker.Stats().Resubscribes, resubscribes)

			// A cut without a restart: the streams are there, nothing is lost.
			resubscribes = a.broker.Stats().Resubscribes
			p.Cut()
			require.Eventually(t, func() bool { return a.broker.Stats().Resubscribes > resubscribes }, 10*time.Second, 10*time.Millisecond)
			p.Restore()
			round(8)
			assert.Equal(t, []int{8, 9}, sorted(c1.read(2)))
			assert.Equal(t, []int{10, 11}, sorted(c2.read(2)))
			c1.silent(100 * time.Millisecond)
			c2.silent(0)
			assert.Equal(t, uint64(3), a.broker.Stats().Gaps)
			assert.Zero(t, pub.broker.Stats().Gaps, "the publishing hub follows no stream")
		})
	}
}

// sorted returns the sequence numbers of events of several targets, whose
// relative order is not defined, in increasing order.
func sorted(es []event) []int {
	s := seqs(es)
	slices.Sort(s)
	return s
}

// Events held for a user connected nowhere live in Redis alone, and no
// instance follows the user's stream, so no catch-up finds their loss.
// When Redis restarts without persistence, each instance that knew it
// before finds that it lost its data, counts it once in Stats.Wiped and
// logs it; the user who connects then gets nothing. With appendfsync
// always, the events are kept and delivered, and nothing is counted. An
// instance started after the restart knew nothing before it: it counts
// nothing.
func TestHeldEventsLostInARestartAreCounted(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		lost bool
	}{
		{"without persistence", nil, true},
		{"appendfsync always", []string{"--appendonly", "yes", "--appendfsync", "always"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRedisOn(t, freePort(t), tc.args...)
			a := newNode(t, r.Addr(), nil)
			require.Eventually(t, func() bool { return a.broker.Stats().Up }, 10*time.Second, 10*time.Millisecond)
			for i := 1; i <= 3; i++ {
				notify(t, a, facade.ToUser("u1"), seqEvent(i))
			}
			r.stop()
			r.start()
			// a has made its subscription again: it has looked at Redis
			// since the restart. (Up is read after the count, which a
			// raises once its old subscription is down.)
			require.Eventually(t, func() bool { return a.broker.Stats().Resubscribes > 0 && a.broker.Stats().Up }, 20*time.Second, 10*time.Millisecond)
			b := newNode(t, r.Addr(), nil)
			c := b.dial(t, dialOpts{user: "u1"})
			waitReplays(t, b, 1)
			if tc.lost {
				assert.Equal(t, uint64(1), a.broker.Stats().Wiped, "a found the loss")
				c.silent(100 * time.Millisecond)
			} else {
				assert.Equal(t, span(1, 3), seqs(c.read(3)), "kept and delivered")
				assert.Zero(t, a.broker.Stats().Wiped)
			}
			notify(t, a, facade.ToUser("u1"), seqEvent(4))
			assert.Equal(t, []int{4}, seqs(c.read(1)))
			assert.Zero(t, b.broker.Stats().Wiped, "b started after the restart")
		})
	}
}

// A Redis that restarts after a crash from its last RDB snapshot (its
// default configuration) still has the epoch's token, but not what was
// written after the snapshot: events held for a user connected nowhere are
// lost. An instance that checked Redis after the snapshot finds that it
// went back in time and counts it once in Stats.Wiped. A Redis that saves
// as it shuts down goes back nowhere: nothing is counted and the held
// events are delivered.
func TestARestartFromAnOlderSnapshotIsCounted(t *testing.T) {
	for _, tc := range []struct {
		name string
		lost bool
	}{
		{"crash after the snapshot", true},
		{"shutdown that saves", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRedisOn(t, freePort(t))
			ctx := context.Background()
			rdb := newClient(t, r.Addr())
			a := newNode(t, r.Addr(), nil)
			require.Eventually(t, func() bool { return a.broker.Stats().Up }, 10*time.Second, 10*time.Millisecond)
			notify(t, a, facade.ToUser("u1"), seqEvent(1))
			require.NoError(t, rdb.Save(ctx).Err())
			gen, err := rdb.Get(ctx, "wsunify:{epoch:0}:g").Int64()
			require.NoError(t, err, "a has checked the epoch")
			require.Eventually(t, func() bool {
				g, err := rdb.Get(ctx, "wsunify:{epoch:0}:g").Int64()
				return err == nil && g > gen
			}, 10*time.Second, 10*time.Millisecond, "a checks again after the snapshot")
			for i := 2; i <= 3; i++ {
				notify(t, a, facade.ToUser("u1"), seqEvent(i))
			}
			if !tc.lost {
				// SHUTDOWN SAVE: redis-server saves and exits; it answers
				// with the connection closing.
				_ = rdb.ShutdownSave(ctx).Err()
			}
			r.stop()
			r.start()
			require.Eventually(t, func() bool { return a.broker.Stats().Resubscribes > 0 && a.broker.Stats().Up }, 20*time.Second, 10*time.Millisecond)
			b := newNode(t, r.Addr(), nil)
			c := b.dial(t, dialOpts{user: "u1"})
			waitReplays(t, b, 1)
			if tc.lost {
				assert.Equal(t, []int{1}, seqs(c.read(1)), "what the snapshot had")
				c.silent(100 * time.Millisecond)
				require.Eventually(t, func() bool { return a.broker.Stats().Wiped == 1 }, 20*time.Second, 10*time.Millisecond, "a found the loss")
			} else {
				assert.Equal(t, span(1, 3), seqs(c.read(3)), "kept and delivered")
			}
			// Two more of a's checks: the loss is counted once, and a
			// Redis that kept everything is never taken for one that
			// went back.
			g0, err := rdb.Get(ctx, "wsunify:{epoch:0}:g").Int64()
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				g, err := rdb.Get(ctx, "wsunify:{epoch:0}:g").Int64()
				return err == nil && g >= g0+3
			}, 10*time.Second, 10*time.Millisecond)
			want := uint64(0)
			if tc.lost {
				want = 1
			}
			assert.Equal(t, want, a.broker.Stats().Wiped)
			assert.Zero(t, b.broker.Stats().Wiped, "b started after the restart")
		})
	}
}

// On a Redis Cluster, a master restarted without persistence is found out
// by an instance with no connection of its targets, and no subscription
// on it, at its next presence renewal.
func TestClusterMasterLosingItsDataIsCounted(t *testing.T) {
	c := startCluster(t)
	cc := c.client(t)
	a := newNodeOn(t, cc, nil)
	require.Eventually(t, func() bool { return a.broker.Stats().Up }, 10*time.Second, 10*time.Millisecond)
	all, err := cc.MasterForKey(context.Background(), "wsunify:{all}:c")
	require.NoError(t, err)
	i := slices.IndexFunc(c.nodes, func(n *redisServer) bool { return n.Addr() != all.Options().Addr })
	user := c.usersOnEveryShard(t, 1)[i][0]
	for n := 1; n <= 3; n++ {
		notify(t, a, facade.ToUser(user), seqEvent(n))
	}
	c.nodes[i].stop()
	c.nodes[i].start()
	c.waitOK(t)
	require.Eventually(t, func() bool { return a.broker.Stats().Wiped == 1 }, 20*time.Second, 10*time.Millisecond)
	assert.Zero(t, a.broker.Stats().Resubscribes, "a had no subscription on that master")
	b := newNodeOn(t, c.client(t), nil)
	cl := b.dial(t, dialOpts{user: user})
	waitReplays(t, b, 1)
	cl.silent(100 * time.Millisecond)
	assert.Equal(t, uint64(1), a.broker.Stats().Wiped, "counted once")
}
