package redisbroker_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/redisbroker"
)

// One user reconnects in a loop, each time resuming from the start of a
// full stream (1000 events of 1 KB to replay), as a client stuck in a
// reconnect loop does. Meanwhile other users of the same instance get live
// events: their p99 latency stays within floodSlack of the quiet baseline,
// the heap stays bounded, the replays of closed connections are dropped, and
// the backlog is gone as soon as the flood stops. (With one worker doing
// every replay, the p99 was 0.8 s at this rate, and grew with the flood.)
//
// The flood's clients share the machine with the instance: what they cost
// it is CPU no broker can give back. Under the race detector, which slows
// every step several times, the flood is a third as fast and the slack
// four times the target. Other work on the machine is not the broker's
// either: an attempt it disturbed is measured again, up to three times; a
// broker whose live delivery waits behind replays fails them all.
func TestReconnectFloodOfOneUserKeepsOthersLive(t *testing.T) {
	floodSlack := 50 * time.Millisecond // the target
	floodRate := 300                    // reconnects per second, at most
	if raceEnabled {
		floodSlack *= 4
		floodRate /= 3
	}
	const (
		heapBound   = 64 << 20 // growth of the live heap during the flood
		users       = 16
		flooders    = 4
		maxFlood    = 1500 // reconnects
		rounds      = 3
		attempts    = 3
		floodFor    = time.Second
		quietFor    = time.Second
		eventsEvery = 2 * time.Millisecond
	)
	r := startRedis(t)
	a, b := newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)
	srv := readyServer(b.hub)
	t.Cleanup(srv.Close)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/?user="
	pad := strings.Repeat("x", 1000)
	for i := range 1000 {
		notify(t, a, facade.ToUser("flood"), facade.Raw(stamp{S: i, X: pad}))
	}

	var mu sync.Mutex
	lat := [2][]time.Duration{} // by phase: quiet, flood
	var readers sync.WaitGroup
	wss := make([]*websocket.Conn, users)
	for i := range users {
		ws, _, err := websocket.DefaultDialer.Dial(url+"u"+strconv.Itoa(i), nil)
		require.NoError(t, err)
		wss[i] = ws
		readers.Go(func() {
			for {
				var m stamp
				if err := ws.ReadJSON(&m); err != nil {
					return
				}
				d := time.Duration(time.Now().UnixNano() - m.T)
				mu.Lock()
				lat[m.P] = append(lat[m.P], d)
				mu.Unlock()
			}
		})
	}
	t.Cleanup(func() {
		for _, ws := range wss {
			ws.Close()
		}
		readers.Wait()
	})
	require.Eventually(t, func() bool { return b.broker.Stats().Replays >= users }, 10*time.Second, 5*time.Millisecond)

	// publish sends live events round-robin to the users, for d.
	publish := func(phase int, d time.Duration) {
		tick := time.NewTicker(eventsEvery)
		defer tick.Stop()
		for i, end := 0, time.Now().Add(d); time.Now().Before(end); i++ {
			<-tick.C
			ev := facade.Raw(stamp{P: phase, S: i, T: time.Now().UnixNano()})
			require.NoError(t, a.hub.Notify(context.Background(), facade.ToUser("u"+strconv.Itoa(i%users)), ev))
		}
	}
	p99 := func(phase int) (time.Duration, time.Duration, int) {
		mu.Lock()
		defer mu.Unlock()
		ds := slices.Clone(lat[phase])
		slices.Sort(ds)
		if len(ds) == 0 {
			return 0, 0, 0
		}
		return ds[len(ds)/2], ds[len(ds)*99/100], len(ds)
	}

	// attempt measures rounds of quiet and flood, alternating so that the
	// load of the machine weighs on both alike, and reports whether the
	// targets were met.
	attempt := func() bool {
		mu.Lock()
		lat = [2][]time.Duration{}
		mu.Unlock()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		baseHeap := ms.HeapAlloc
		before := b.broker.Stats()
		var dials, failed atomic.Int64
		var peakHeap atomic.Uint64
		for range rounds {
			publish(0, quietFor)
			stop := make(chan struct{})
			var flood sync.WaitGroup
			pace := time.NewTicker(time.Second / time.Duration(floodRate))
			for range flooders {
				flood.Go(func() {
					for {
						select {
						case <-stop:
							return
						case <-pace.C:
						}
						if dials.Add(1) > maxFlood {
							return
						}
						ws, _, err := websocket.DefaultDialer.Dial(url+"flood&last_event_id=0-0", nil)
						if err != nil {
							failed.Add(1)
							continue
						}
						ws.Close()
					}
				})
			}
			flood.Go(func() {
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						var ms runtime.MemStats
						runtime.ReadMemStats(&ms)
						if ms.HeapAlloc > peakHeap.Load() {
							peakHeap.Store(ms.HeapAlloc)
						}
					}
				}
			})
			publish(1, floodFor)
			close(stop)
			flood.Wait()
			pace.Stop()
		}
		st := b.broker.Stats()
		q50, q99, qn := p99(0)
		f50, f99, fn := p99(1)
		growth := int64(peakHeap.Load()) - int64(baseHeap)
		n := min(dials.Load(), maxFlood)
		replays := st.Replays - before.Replays
		t.Logf("quiet: %d events p50 %v p99 %v; flood: %d reconnects (%d failed), %d events p50 %v p99 %v; heap %d MiB, peak +%d MiB; replays %d done, %d refused",
			qn, q50, q99, n, failed.Load(), fn, f50, f99, baseHeap>>20, growth>>20, replays, st.Refused-before.Refused)
		require.Less(t, growth, int64(heapBound), "heap growth during the flood")
		require.Less(t, replays, uint64(n)/2, "replays of closed connections are dropped")
		return f99 <= q99+floodSlack
	}
	met := false
	for range attempts {
		if met = attempt(); met {
			break
		}
	}
	assert.True(t, met, "live p99 during the flood within %v of the quiet baseline, in none of %d attempts", floodSlack, attempts)
	require.Eventually(t, func() bool { return b.broker.Stats().Queued == 0 }, 10*time.Second, 10*time.Millisecond, "the backlog is gone with the flood")

	// The instance still serves the user that flooded it, in full, once
	// its client waits before it reconnects, as 1013 asks.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws, _, err := websocket.DefaultDialer.Dial(url+"flood&last_event_id=0-0", nil)
		require.NoError(t, err)
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m stamp
		err = ws.ReadJSON(&m)
		if websocket.IsCloseError(err, redisbroker.CloseTryAgainLater) && time.Now().Before(deadline) {
			ws.Close()
			time.Sleep(300 * time.Millisecond)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, 0, m.S)
		for i := 1; i < 1000; i++ {
			require.NoError(t, ws.ReadJSON(&m))
			require.Equal(t, i, m.S)
		}
		ws.Close()
		return
	}
}

// Replays beyond ReplaysPerUser are refused with 1013 "try again later"
// and counted; a replay whose connection closed before it ran is dropped;
// the others are served. Redis's replies to XRANGE are held meanwhile, so
// that the first replay stays running and the next waits behind it; the
// rest of the traffic flows.
func TestReplaysBeyondTheBoundAreRefusedWithTryAgainLater(t *testing.T) {
	r := startRedis(t)
	p := newProxy(t, r.Addr())
	o := testOptions()
	o.OpTimeout = 10 * time.Second // the held XRANGE is not a failure
	o.ReplaysPerUser = 2
	o.ReplayRate = 1000 // the bound, not the rate, refuses here
	pub, n := newNode(t, r.Addr(), nil), newNode(t, p.Addr(), o)
	first := n.dial(t, dialOpts{user: "u1", ids: true})
	waitReplays(t, n, 1)
	for i := 1; i <= 10; i++ {
		notify(t, pub, facade.ToUser("u1"), seqEvent(i))
	}
	require.Equal(t, span(1, 10), seqs(first.read(10)))

	p.PauseCommand("xrange")
	running := n.dial(t, dialOpts{user: "u1", lastEventID: "0-0"})
	waiting := n.dial(t, dialOpts{user: "u1", lastEventID: "0-0"})
	require.Eventually(t, func() bool { return n.broker.Stats().Queued == 1 }, 5*time.Second, 5*time.Millisecond)
	refused := n.dial(t, dialOpts{user: "u1", lastEventID: "0-0"})
	select {
	case <-refused.end:
	case <-time.After(5 * time.Second):
		t.Fatalf("the replay beyond the bound was not refused: %+v", n.broker.Stats())
	}
	_, _, err := refused.ws.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, redisbroker.CloseTryAgainLater), "%v", err)
	assert.Equal(t, uint64(1), n.broker.Stats().Refused)

	waiting.ws.Close()
	require.Eventually(t, func() bool { return n.broker.Stats().Queued == 0 }, 5*time.Second, 5*time.Millisecond, "the closed connection's replay is dropped")
	notify(t, pub, facade.ToUser("u1"), seqEvent(11)) // live delivery goes on meanwhile
	assert.Equal(t, []int{11}, seqs(first.read(1)))
	p.Restore()
	assert.Equal(t, span(1, 11), seqs(running.read(11)))
	running.silent(200 * time.Millisecond)
	assert.Equal(t, uint64(2), n.broker.Stats().Replays, "first and running; not waiting")
}

// The bounds admit connections, not replays: a user whose connections each
// join many threads, reconnecting a few times in a row, is not refused.
func TestAUserInManyThreadsIsNotRefused(t *testing.T) {
	r := startRedis(t)
	a, b := newNode(t, r.Addr(), nil), newNode(t, r.Addr(), nil)
	const threads = 20
	for round := range 3 {
		// The same threads each round, rejoined at once: each replays
		// only what came after the last round's connection's socket took,
		// though b sends its marks to Redis in batches.
		thread := func(i int) string { return fmt.Sprintf("t%d", i) }
		for i := range threads { // held for the next joiner
			notify(t, a, facade.ToThread(thread(i)), seqEvent(round*threads+i))
		}
		c := b.dial(t, dialOpts{user: "u1"})
		for i := range threads {
			require.NoError(t, c.c.JoinThread(thread(i)))
		}
		got := seqs(c.read(threads))
		slices.Sort(got)
		assert.Equal(t, span(round*threads, round*threads+threads-1), got)
		c.ws.Close()
		<-c.end
		<-c.c.Done() // the hub saw it go: it writes it nothing more
	}
	assert.Zero(t, b.broker.Stats().Refused)
}
