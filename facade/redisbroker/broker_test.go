package redisbroker_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// A Notify on one hub reaches the user's ready connections on every hub, in
// Notify order, byte for byte what the in-process hub writes: the legacy
// envelope by default, the numeric one by subprotocol, no event ID unless
// asked for.
func TestDeliversAcrossHubsInOrderByteForByte(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)
	onB := b.dial(t, dialOpts{user: "u1"})
	onA := a.dial(t, dialOpts{user: "u1"})
	numeric := b.dial(t, dialOpts{user: "u1", subprotocols: []string{facade.SubprotocolNumeric}})
	waitJoined(t, a, b)
	// Replayed, so subscribed: every event below is delivered live.
	waitReplays(t, a, 1)
	waitReplays(t, b, 2)

	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	var evs []facade.Event
	for i := range 100 {
		ev := facade.Event{Type: facade.ToolExecuting, RunID: "r1", UserID: "u1", Agent: "triage", Tool: "search", Data: map[string]any{"i": i}, Time: at}
		if i%2 == 1 {
			ev = facade.Raw(map[string]any{"seq": i})
		}
		evs = append(evs, ev)
		notify(t, a, facade.ToUser("u1"), ev)
	}
	for _, c := range []*client{onB, onA, numeric} {
		enc := facade.EncodingLegacy
		if c == numeric {
			enc = facade.EncodingNumeric
		}
		got := c.read(len(evs))
		for i, ev := range evs {
			want, err := facade.EncodeEvent(ev, enc, at)
			require.NoError(t, err)
			require.Equal(t, string(want), got[i].raw, "message %d", i)
		}
	}
	assert.Equal(t, uint64(len(evs)), a.hub.Stats().Notified)
	// Live, or caught up after a subscription the loaded machine let lapse.
	st := b.broker.Stats()
	assert.GreaterOrEqual(t, st.Delivered+st.CaughtUp, uint64(len(evs)))
}

// waitJoined waits until every hub's subscriptions are confirmed and their
// replays done, by sending a probe through a throwaway user.
func waitJoined(t *testing.T, ns ...*node) {
	t.Helper()
	for _, n := range ns {
		require.Eventually(t, func() bool { return n.broker.Stats().Up }, 5*time.Second, 5*time.Millisecond)
	}
}

// Threads, single connections and broadcasts cross hubs too; a connection
// that no hub has is a typed error.
func TestThreadsConnsAndBroadcastAcrossHubs(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)
	onB := b.dial(t, dialOpts{user: "u1", id: "conn-b"})
	onA := a.dial(t, dialOpts{user: "u2", id: "conn-a"})
	require.NoError(t, onB.c.JoinThread("t1"))
	waitJoined(t, a, b)

	notify(t, a, facade.ToThread("t1"), seqEvent(1))
	assert.Equal(t, []int{1}, seqs(onB.read(1)))

	require.Eventually(t, func() bool {
		return a.hub.Notify(context.Background(), facade.ToConn("conn-b"), seqEvent(2)) == nil
	}, 5*time.Second, 10*time.Millisecond, "the connection's channel is subscribed")
	assert.Equal(t, []int{2}, seqs(onB.read(1)))

	notify(t, b, facade.ToConn("conn-a"), seqEvent(3)) // through Redis
	assert.Equal(t, []int{3}, seqs(onA.read(1)))
	notify(t, a, facade.ToConn("conn-a"), seqEvent(4)) // local
	assert.Equal(t, []int{4}, seqs(onA.read(1)))

	notify(t, a, facade.ToAll(), seqEvent(5))
	assert.Equal(t, []int{5}, seqs(onA.read(1)))
	assert.Equal(t, []int{5}, seqs(onB.read(1)))

	err := a.hub.Notify(context.Background(), facade.ToConn("nobody"), seqEvent(6))
	require.ErrorIs(t, err, facade.ErrUnknownTarget)

	// A thread nobody has joined holds its events for the first joiner.
	notify(t, a, facade.ToThread("t2"), seqEvent(7))
	notify(t, a, facade.ToThread("t2"), seqEvent(8))
	require.NoError(t, onB.c.JoinThread("t2"))
	assert.Equal(t, []int{7, 8}, seqs(onB.read(2)))
}

// Many publishers on several hubs, many receivers on others: every
// receiver gets every event once, each publisher's in its Notify order.
func TestManyPublishersKeepTheirOrderOnEveryHub(t *testing.T) {
	r := startRedis(t)
	hubs := []*node{newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)}
	clients := []*client{
		hubs[0].dial(t, dialOpts{user: "u1"}),
		hubs[2].dial(t, dialOpts{user: "u1"}),
		hubs[2].dial(t, dialOpts{user: "u1"}),
	}
	waitReplays(t, hubs[0], 1)
	waitReplays(t, hubs[2], 2)

	const pubs, each = 6, 200
	var wg sync.WaitGroup
	errs := make(chan error, pubs)
	for p := range pubs {
		n := hubs[p%2] // publishers on hubs 0 and 1
		wg.Go(func() {
			for i := range each {
				if err := n.hub.Notify(context.Background(), facade.ToUser("u1"), facade.Raw(map[string]any{"seq": p*each + i})); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, c := range clients {
		next := make([]int, pubs)
		for _, e := range c.read(pubs * each) {
			p, i := e.Seq/each, e.Seq%each
			require.Equal(t, next[p], i, "publisher %d out of order", p)
			next[p]++
		}
		c.silent(100 * time.Millisecond)
	}
}

// Events for a user with no ready connection anywhere are held in Redis and
// delivered, in order, to the first connection that is ready, on any hub;
// once delivered they are not delivered again to a later connection.
func TestHeldUntilAConnectionIsReadyOnAnyHub(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)
	for i := 1; i <= 10; i++ {
		notify(t, a, facade.ToUser("u1"), seqEvent(i))
	}

	// Connected but not ready: nothing is written yet.
	first := b.dial(t, dialOpts{})
	require.NoError(t, first.c.Authenticate("u1"))
	require.NoError(t, first.c.ServicesReady())
	first.silent(200 * time.Millisecond)
	require.NoError(t, first.c.Ready())
	assert.Equal(t, span(1, 10), seqs(first.read(10)))

	notify(t, a, facade.ToUser("u1"), seqEvent(11))
	assert.Equal(t, []int{11}, seqs(first.read(1)))

	// A second connection, on the other hub, gets only what comes next:
	// the held events were delivered.
	require.Eventually(t, func() bool { return heldMarked(t, r, facade.ToUser("u1")) }, 5*time.Second, 10*time.Millisecond)
	second := a.dial(t, dialOpts{user: "u1"})
	waitReplays(t, a, 1)
	notify(t, b, facade.ToUser("u1"), seqEvent(12))
	assert.Equal(t, []int{12}, seqs(second.read(1)))
	assert.Equal(t, []int{12}, seqs(first.read(1)))
}

// heldMarked reports whether the user's delivered mark is at the stream's
// newest entry.
func heldMarked(t *testing.T, r *redisServer, to facade.Target) bool {
	rdb := newClient(t, r.Addr())
	ctx := context.Background()
	mark, _ := rdb.Get(ctx, "wsunify:{"+to.String()+"}:d").Result()
	last, err := rdb.XRevRangeN(ctx, "wsunify:{"+to.String()+"}:s", "+", "-", 1).Result()
	return err == nil && len(last) == 1 && mark == last[0].ID
}

// waitReplays waits until n's broker has completed want replays in all.
func waitReplays(t *testing.T, n *node, want uint64) {
	t.Helper()
	require.Eventually(t, func() bool { return n.broker.Stats().Replays >= want }, 5*time.Second, 5*time.Millisecond)
}

// A client that reconnects to another hub with the ID of the last event it
// saw gets exactly the events after it: none lost, none twice.
func TestResumeOnAnotherHubFromLastEventID(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)
	c := a.dial(t, dialOpts{user: "u1", ids: true})
	waitJoined(t, a, b)
	for i := 1; i <= 5; i++ {
		notify(t, b, facade.ToUser("u1"), seqEvent(i))
	}
	got := c.read(5)
	require.Equal(t, span(1, 5), seqs(got))
	for _, e := range got {
		require.NotEmpty(t, e.ID, e.raw)
	}
	last := got[4].ID
	// More come while it is away than one read of the stream returns.
	require.NoError(t, c.ws.Close())
	<-c.c.Done()
	const away = 700
	for i := 6; i <= away; i++ {
		notify(t, b, facade.ToUser("u1"), seqEvent(i))
	}

	back := b.dial(t, dialOpts{user: "u1", ids: true, lastEventID: last})
	got = back.read(away - 5)
	assert.Equal(t, span(6, away), seqs(got))
	notify(t, a, facade.ToUser("u1"), seqEvent(away+1))
	got = back.read(1)
	assert.Equal(t, []int{away + 1}, seqs(got))
	back.silent(100 * time.Millisecond)
	assert.Zero(t, b.broker.Stats().Gaps)
}

// A client that resumes from an event no longer kept gets what is kept,
// and the loss is counted, not silent.
func TestResumeFromAnEventNoLongerKeptIsCounted(t *testing.T) {
	r := startRedis(t)
	o := testOptions()
	o.MaxEvents = 5
	a := newNode(t, r.Addr(), o)
	stays := a.dial(t, dialOpts{user: "u1"})
	leaves := a.dial(t, dialOpts{user: "u1", ids: true})
	waitReplays(t, a, 2)
	for i := 1; i <= 3; i++ {
		notify(t, a, facade.ToUser("u1"), seqEvent(i))
	}
	got := leaves.read(3)
	require.NoError(t, leaves.ws.Close())
	<-leaves.c.Done()
	for i := 4; i <= 20; i++ { // the stream keeps 5: the other connection listens
		notify(t, a, facade.ToUser("u1"), seqEvent(i))
	}
	require.Equal(t, span(1, 20), seqs(stays.read(20)))

	back := a.dial(t, dialOpts{user: "u1", ids: true, lastEventID: got[2].ID})
	assert.Equal(t, span(16, 20), seqs(back.read(5)))
	assert.Equal(t, uint64(1), a.broker.Stats().Gaps)
}

// A client may resume on a hub whose live feed is behind the hub it left:
// it then waits for the events it already saw, rather than get them twice.
// A last event ID the stream never had replays nothing and is counted.
func TestResumeOnAHubThatIsBehind(t *testing.T) {
	r := startRedis(t)
	p := newProxy(t, r.Addr())
	a, b := newNode(t, r.Addr(), nil), newNode(t, p.Addr(), nil)
	left := a.dial(t, dialOpts{user: "u1", ids: true})
	other := b.dial(t, dialOpts{user: "u1"}) // b follows u1 already
	waitReplays(t, a, 1)
	waitReplays(t, b, 1)

	p.PauseSubscriptions() // b's feed stalls; its commands still work
	notify(t, a, facade.ToUser("u1"), seqEvent(1))
	notify(t, a, facade.ToUser("u1"), seqEvent(2))
	seen := left.read(2)
	back := b.dial(t, dialOpts{user: "u1", ids: true, lastEventID: seen[1].ID})
	waitFor := time.Now().Add(100 * time.Millisecond)
	for b.broker.Stats().Replays < 2 && time.Now().Before(waitFor) {
		time.Sleep(5 * time.Millisecond)
	}
	p.Restore()

	assert.Equal(t, []int{1, 2}, seqs(other.read(2)))
	notify(t, a, facade.ToUser("u1"), seqEvent(3))
	assert.Equal(t, []int{3}, seqs(back.read(1)), "1 and 2 were seen before")
	assert.Equal(t, []int{3}, seqs(other.read(1)))
	assert.Zero(t, b.broker.Stats().Gaps)

	bogus := b.dial(t, dialOpts{user: "u1", lastEventID: "99999999999999-0"})
	waitReplays(t, b, 3)
	notify(t, a, facade.ToUser("u1"), seqEvent(4))
	assert.Equal(t, []int{4}, seqs(bogus.read(1)))
	assert.Equal(t, uint64(1), b.broker.Stats().Gaps)
}

// With IDs opted in, each event carries "event_id" as its first member; the
// rest of the envelope is unchanged.
func TestEventIDsOnTheWireAreOptIn(t *testing.T) {
	r := startRedis(t)
	a := newNode(t, r.Addr(), nil)
	with := a.dial(t, dialOpts{user: "u1", ids: true})
	without := a.dial(t, dialOpts{user: "u1"})
	waitJoined(t, a)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	evs := []facade.Event{
		{Type: facade.AgentStarted, RunID: "r1", Agent: "triage", Time: at},
		facade.Raw(map[string]any{"a": 1}),
		facade.Raw(map[string]any{}),
		facade.Raw([]int{1, 2}), // not an object: no room for an ID
		facade.Critical("agent_death", map[string]any{"why": "oom"}),
	}
	evs[4].Time = at
	for _, ev := range evs {
		notify(t, a, facade.ToUser("u1"), ev)
	}
	plain := without.read(len(evs))
	ided := with.read(len(evs))
	for i, ev := range evs {
		want, err := facade.EncodeEvent(ev, facade.EncodingLegacy, at)
		require.NoError(t, err)
		assert.Equal(t, string(want), plain[i].raw)
		if i == 3 {
			assert.Equal(t, string(want), ided[i].raw)
			continue
		}
		var withID, base map[string]any
		require.NoError(t, json.Unmarshal([]byte(ided[i].raw), &withID), ided[i].raw)
		require.NoError(t, json.Unmarshal(want, &base))
		require.NotEmpty(t, ided[i].ID)
		delete(withID, "event_id")
		assert.Equal(t, base, withID)
		assert.Regexp(t, `^\{("type":[^,]+,)?"event_id":"\d+-\d+"`, ided[i].raw)
	}
}

// The hold is bounded: past MaxEvents undelivered events, Notify returns a
// typed error and the hub counts it.
func TestHoldBoundIsATypedError(t *testing.T) {
	r := startRedis(t)
	o := testOptions()
	o.MaxEvents = 5
	a := newNode(t, r.Addr(), o)
	for i := 1; i <= 5; i++ {
		notify(t, a, facade.ToUser("u1"), seqEvent(i))
	}
	err := a.hub.Notify(context.Background(), facade.ToUser("u1"), seqEvent(6))
	var he *facade.HoldError
	require.ErrorAs(t, err, &he)
	require.ErrorIs(t, err, facade.ErrHoldFull)
	assert.Equal(t, 5, he.Limit)
	assert.Equal(t, uint64(1), a.hub.Stats().Rejected)

	c := a.dial(t, dialOpts{user: "u1"})
	assert.Equal(t, span(1, 5), seqs(c.read(5)))
	// Delivered, they no longer count against the bound.
	require.Eventually(t, func() bool {
		return a.hub.Notify(context.Background(), facade.ToUser("u1"), seqEvent(6)) == nil
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []int{6}, seqs(c.read(1)))
}

// Connected and ConnIDs see connections on every hub, and stop seeing them
// when they close.
func TestPresenceAcrossHubs(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)
	assert.False(t, a.hub.Connected("u1"))
	c := b.dial(t, dialOpts{user: "u1", id: "b1"})
	d := a.dial(t, dialOpts{user: "u1", id: "a1"})
	require.Eventually(t, func() bool {
		return len(a.hub.ConnIDs("u1")) == 2 && len(b.hub.ConnIDs("u1")) == 2
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []string{"a1", "b1"}, a.hub.ConnIDs("u1"))
	assert.Equal(t, []string{"a1", "b1"}, b.hub.ConnIDs("u1"))

	require.NoError(t, d.c.Close(websocket.CloseNormalClosure, ""))
	require.NoError(t, c.c.Close(websocket.CloseNormalClosure, ""))
	require.Eventually(t, func() bool { return !a.hub.Connected("u1") && !b.hub.Connected("u1") }, 5*time.Second, 10*time.Millisecond)
	assert.Empty(t, a.hub.ConnIDs("u1"))
}

// An instance that dies without cleaning up disappears from presence once
// PresenceTTL has passed.
func TestPresenceOfACrashedInstanceExpires(t *testing.T) {
	r := startRedis(t)
	o := testOptions()
	o.PresenceTTL = 2 * time.Second
	p := newProxy(t, r.Addr())
	a, b := newNode(t, r.Addr(), o), newNode(t, p.Addr(), o)
	b.dial(t, dialOpts{user: "u1", id: "b1"})
	require.Eventually(t, func() bool { return a.hub.Connected("u1") }, 5*time.Second, 10*time.Millisecond)

	// b loses Redis for good, then dies: it cannot remove its presence.
	p.Cut()
	b.close()
	assert.True(t, a.hub.Connected("u1"), "still shown until the TTL")
	require.Eventually(t, func() bool { return !a.hub.Connected("u1") }, 5*time.Second, 20*time.Millisecond)
	assert.Empty(t, a.hub.ConnIDs("u1"))
}

// A Broker serves one hub: giving it to a second is a programming error
// caught at once.
func TestABrokerServesOneHub(t *testing.T) {
	r := startRedis(t)
	a := newNode(t, r.Addr(), nil)
	require.PanicsWithValue(t, "redisbroker: a Broker serves one hub", func() {
		facade.NewHub(&facade.HubOptions{Broker: a.broker, Logger: quiet})
	})
}

// Held events age out: one older than TTL is not delivered, and is counted.
func TestHeldEventsAgeOut(t *testing.T) {
	r := startRedis(t)
	o := testOptions()
	o.TTL = time.Second
	a := newNode(t, r.Addr(), o)
	notify(t, a, facade.ToUser("u1"), seqEvent(1))
	time.Sleep(600 * time.Millisecond)
	notify(t, a, facade.ToUser("u1"), seqEvent(2))
	time.Sleep(500 * time.Millisecond) // 1 is past the TTL, 2 is not

	c := a.dial(t, dialOpts{user: "u1"})
	assert.Equal(t, []int{2}, seqs(c.read(1)))
	c.silent(100 * time.Millisecond)
	assert.Equal(t, uint64(1), a.broker.Stats().Expired)
}

// A PresenceTTL too short to divide into renewals (2ns: a unit left off)
// still gives a broker that runs and delivers, not a panic in one of its
// goroutines.
func TestATinyPresenceTTLStillDelivers(t *testing.T) {
	r := startRedis(t)
	o := testOptions()
	o.PresenceTTL = 2
	a := newNode(t, r.Addr(), o)
	c := a.dial(t, dialOpts{user: "u1"})
	waitJoined(t, a)
	notify(t, a, facade.ToUser("u1"), seqEvent(1))
	assert.Equal(t, []int{1}, seqs(c.read(1)))
}
