package redisbroker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/redisbroker"
)

// A failed Notify says what became of its event. One whose command reached
// Redis and whose reply was lost fails with ErrUnavailable and
// ErrMaybeDelivered: the event is delivered once, never twice. One whose
// command a broken connection stopped on its way fails the same way, and
// is delivered not at all: the broker cannot tell the two apart. One that
// could not reach Redis fails with ErrUnavailable alone: nothing is
// delivered, and notifying it again delivers it once.
func TestAFailedNotifySaysWhetherItMayBeDelivered(t *testing.T) {
	r := startRedis(t)
	p := newProxy(t, r.Addr())
	lossy, direct := newNode(t, p.Addr(), nil), newNode(t, r.Addr(), nil)
	recv := newNode(t, r.Addr(), nil)
	c := recv.dial(t, dialOpts{user: "u1"})
	waitReplays(t, recv, 1)
	u1 := facade.ToUser("u1")
	notify(t, lossy, u1, seqEvent(1)) // Redis has the script: the next Notify is one EVALSHA
	assert.Equal(t, []int{1}, seqs(c.read(1)))

	p.LoseReply("evalsha")
	err := lossy.hub.Notify(context.Background(), u1, seqEvent(2))
	require.ErrorIs(t, err, redisbroker.ErrUnavailable)
	require.ErrorIs(t, err, redisbroker.ErrMaybeDelivered)
	assert.Equal(t, []int{2}, seqs(c.read(1)), "Redis took it: delivered once")

	p.Refuse("evalsha")
	err = lossy.hub.Notify(context.Background(), u1, seqEvent(3))
	require.ErrorIs(t, err, redisbroker.ErrUnavailable)
	require.ErrorIs(t, err, redisbroker.ErrMaybeDelivered)
	p.Restore()
	notify(t, lossy, u1, seqEvent(4))
	assert.Equal(t, []int{4}, seqs(c.read(1)), "Redis never got 3: not delivered")

	r.stop()
	err = direct.hub.Notify(context.Background(), u1, seqEvent(5))
	require.ErrorIs(t, err, redisbroker.ErrUnavailable)
	assert.False(t, errors.Is(err, redisbroker.ErrMaybeDelivered), "Redis never got it: %v", err)
	r.start()
	require.True(t, notifyUntilOK(t, direct, u1, seqEvent(5)), "a Redis that answers takes it")
	assert.Equal(t, []int{5}, seqs(c.read(1)), "notified again: delivered once")
	c.silent(100 * time.Millisecond)
}

// notifyUntilOK notifies ev as a careful caller does. While Notify fails
// with ErrUnavailable alone (Redis never got the event), it notifies it
// again, until Redis is back. When Notify cannot tell whether Redis took it
// (ErrMaybeDelivered), it does not send it again, so the event is delivered
// at most once. It reports whether Redis took the event for sure; any other
// error fails the test.
func notifyUntilOK(t *testing.T, n *node, to facade.Target, ev facade.Event) (sure bool) {
	t.Helper()
	// A restarted cluster master answers CLUSTERDOWN until the cluster
	// agrees it is back, which takes seconds on a loaded machine.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := n.hub.Notify(context.Background(), to, ev)
		if err == nil {
			return true
		}
		require.ErrorIs(t, err, redisbroker.ErrUnavailable)
		if errors.Is(err, redisbroker.ErrMaybeDelivered) {
			t.Logf("notify %v: %v", to, err)
			return false
		}
		require.True(t, time.Now().Before(deadline), "Redis never came back: %v", err)
		time.Sleep(20 * time.Millisecond)
	}
}

// sent is what a test's Notify calls told it of the numbered events it
// sent to one target: their order, and those that may be delivered or not.
type sent struct {
	to    facade.Target
	seqs  []int
	maybe map[int]bool
}

func newSent(to facade.Target) *sent { return &sent{to: to, maybe: make(map[int]bool)} }

// notify sends the event numbered seq with notifyUntilOK and records what
// became of it; it reports whether Redis took it for sure.
func (s *sent) notify(t *testing.T, n *node, seq int) (sure bool) {
	t.Helper()
	s.seqs = append(s.seqs, seq)
	if !notifyUntilOK(t, n, s.to, seqEvent(seq)) {
		s.maybe[seq] = true
		return false
	}
	return true
}

// fence sends events numbered from seq on until Redis takes one for sure,
// and returns its number: a client that has it has every event sent before
// it that it will ever get.
func (s *sent) fence(t *testing.T, n *node, seq int) int {
	t.Helper()
	for !s.notify(t, n, seq) {
		seq++
	}
	return seq
}

// check asserts that got is what was sent, in order, each event once, but
// for those whose Notify could not tell, which may be missing.
func (s *sent) check(t *testing.T, got []int, msg string) {
	t.Helper()
	j := 0
	for _, g := range got {
		for j < len(s.seqs) && s.seqs[j] != g {
			require.True(t, s.maybe[s.seqs[j]], "%s: %d was taken by Redis and never delivered (got %v)", msg, s.seqs[j], got)
			j++
		}
		require.Less(t, j, len(s.seqs), "%s: %d delivered twice, out of order or never sent (got %v)", msg, g, got)
		j++
	}
	for ; j < len(s.seqs); j++ {
		require.True(t, s.maybe[s.seqs[j]], "%s: %d was taken by Redis and never delivered (got %v)", msg, s.seqs[j], got)
	}
}

// readThrough waits for c's events up to and including the one numbered
// seq, failing after a generous deadline.
func (c *client) readThrough(seq int) []event {
	c.tb.Helper()
	var out []event
	for len(out) == 0 || out[len(out)-1].Seq != seq {
		out = append(out, c.read(1)...)
	}
	return out
}
