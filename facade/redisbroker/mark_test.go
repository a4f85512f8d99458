package redisbroker_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/redisbroker"
	"github.com/wsunify/wsunify/internal/wstest"
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

// A thread's member that stops reading is closed as a slow consumer with
// events delivered to it that its socket never took: they are not marked,
// so the next connection to join the thread gets exactly what followed the
// last event its predecessor's client had.
func TestEventsASocketNeverTookAreReplayedToTheNextJoiner(t *testing.T) {
	r := startRedis(t)
	o := testOptions()
	o.MaxEvents = 5000
	a := newNodeWith(t, newClient(t, r.Addr()), o, &facade.HubOptions{
		MaxQueueBytes: 64 << 10, HardQueueBytes: 256 << 10, SlowConsumerAfter: 100 * time.Millisecond})
	th := facade.ToThread("t1")

	ws, slow := a.Gorilla(t, wstest.Query{User: "u1", Threads: []string{"t1"}}) // never read until it is closed
	waitReplays(t, a, 2)
	pad := strings.Repeat("x", 16<<10)
	const most = 2000 // ~32 MB: far more than the socket's buffers and the queue's bound
	n := 0
	for n < most && a.hub.Stats().SlowConsumers == 0 {
		n++
		notify(t, a, th, facade.Raw(map[string]any{"seq": n, "pad": pad}))
	}
	require.EqualValues(t, 1, a.hub.Stats().SlowConsumers, "closed as a slow consumer within %d events", n)

	// What its client gets (reading lets the close frame out) is what its
	// socket took.
	var got []int
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			require.True(t, websocket.IsCloseError(err, facade.CloseSlowConsumer), "%v", err)
			break
		}
		var e event
		require.NoError(t, json.Unmarshal(data, &e))
		got = append(got, e.Seq)
	}
	<-slow.Done()
	require.NotEmpty(t, got)
	require.True(t, slices.IsSorted(got), "in order: %v", got)
	assert.EqualValues(t, len(got), a.hub.Stats().Written)
	// (Events its full queue refused are missing from got, not from the
	// stream.)
	last := got[len(got)-1]
	require.Less(t, last, n, "events were left on the closed connection")

	notify(t, a, th, facade.Raw(map[string]any{"seq": n + 1}))
	next := a.dial(t, dialOpts{user: "u2"})
	require.NoError(t, next.c.JoinThread("t1"))
	assert.Equal(t, span(last+1, n+1), seqs(next.read(n+1-last)))
	next.silent(100 * time.Millisecond)
}

// A client that closes its connection has the mark of what its socket took
// sent to Redis as soon as its instance sees it go, not with the next mark
// batch: once its close handshake is done and that one round trip made, a
// connection of its user on another instance gets nothing twice. The batch
// here outlasts the test, so only the leave can have sent the mark.
func TestAClientThatClosesHasItsMarkSentAtOnce(t *testing.T) {
	r := startRedis(t)
	o := testOptions()
	redisbroker.SetMarkDelay(o, time.Hour)
	a, b := newNode(t, r.Addr(), o), newNode(t, r.Addr(), nil)
	u1 := facade.ToUser("u1")

	first := a.dial(t, dialOpts{user: "u1"})
	waitReplays(t, a, 1)
	for i := 1; i <= 5; i++ {
		notify(t, a, u1, seqEvent(i))
	}
	assert.Equal(t, span(1, 5), seqs(first.read(5)))
	require.NoError(t, first.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")))
	<-first.end // the instance echoed the close
	require.Eventually(t, func() bool { return heldMarked(t, r, u1) }, 10*time.Second, 10*time.Millisecond, "the mark reached Redis")

	second := b.dial(t, dialOpts{user: "u1"})
	waitReplays(t, b, 1)
	notify(t, b, u1, seqEvent(6))
	assert.Equal(t, []int{6}, seqs(second.read(1)))
	second.silent(100 * time.Millisecond)
}
