package redisbroker_test

import (
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
