package redisbroker_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// A thread's delivered mark reaches Redis in batches. A connection that
// joins the thread on the same instance before the batch is written gets
// the events after what the last connection's socket took: none of those
// twice, none of the later ones missed. The proxy keeps every mark from
// Redis until the end, so the whole test runs within one mark batch; once
// the marks flow, a connection on another instance gets nothing twice
// either.
func TestAThreadRejoinedWithinAMarkBatchGetsNothingTwice(t *testing.T) {
	r := startRedis(t)
	p := newProxy(t, r.Addr())
	a := newNode(t, p.Addr(), nil)
	p.RefuseMarks()
	th := facade.ToThread("t1")

	first := a.dial(t, dialOpts{user: "u1"})
	require.NoError(t, first.c.JoinThread("t1"))
	waitReplays(t, a, 2) // the user's, then the thread's (empty)
	for i := 1; i <= 5; i++ {
		notify(t, a, th, seqEvent(i))
	}
	assert.Equal(t, span(1, 5), seqs(first.read(5)))
	require.NoError(t, first.ws.Close())
	<-first.end
	<-first.c.Done()

	// Nobody has the thread: these wait for the next connection.
	notify(t, a, th, seqEvent(6))
	notify(t, a, th, seqEvent(7))

	second := a.dial(t, dialOpts{user: "u1"})
	require.NoError(t, second.c.JoinThread("t1"))
	waitReplays(t, a, 4)
	notify(t, a, th, seqEvent(8))
	assert.Equal(t, span(6, 8), seqs(second.read(3)))
	second.silent(100 * time.Millisecond)

	// The marks reach Redis: a connection on another instance gets only
	// what comes next.
	p.Restore()
	require.Eventually(t, func() bool { return heldMarked(t, r, th) }, 10*time.Second, 10*time.Millisecond)
	b := newNode(t, r.Addr(), nil)
	third := b.dial(t, dialOpts{user: "u2"})
	require.NoError(t, third.c.JoinThread("t1"))
	waitReplays(t, b, 2)
	notify(t, b, th, seqEvent(9))
	assert.Equal(t, []int{9}, seqs(third.read(1)))
	assert.Equal(t, []int{9}, seqs(second.read(1)))
	third.silent(100 * time.Millisecond)
}
