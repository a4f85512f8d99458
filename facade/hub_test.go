package facade_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
)

func TestNothingWrittenBeforeReady(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	ws, c := s.dial(t, "c1")

	notify(t, s.hub, facade.ToConn("c1"), seqEvent("u1", 0))
	require.NoError(t, c.Authenticate("u1"))
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 1))
	require.NoError(t, c.ServicesReady())
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 2))

	assert.Zero(t, s.hub.Stats().Written, "nothing may reach the wire before Ready")
	assert.Equal(t, 3, s.hub.Stats().Queued)

	require.NoError(t, c.Ready())
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 3))
	for i, msg := range readN(t, ws, 4) {
		_, seq := seqOf(t, msg)
		assert.Equal(t, i, seq, "held events first, in Notify order")
	}
}

func TestHeldForUserWithoutConnection(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	for i := range 5 {
		notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", i))
	}
	st := s.hub.Stats()
	assert.Equal(t, 5, st.Held)
	assert.False(t, s.hub.Connected("u1"))

	ws, c := s.dial(t, "c1")
	require.NoError(t, c.Authenticate("u1"))
	assert.True(t, s.hub.Connected("u1"))
	assert.Equal(t, []string{"c1"}, s.hub.ConnIDs("u1"))
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 5))
	require.NoError(t, c.ServicesReady())
	require.NoError(t, c.Ready())
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 6))

	for i, msg := range readN(t, ws, 7) {
		_, seq := seqOf(t, msg)
		assert.Equal(t, i, seq)
	}
	assert.Zero(t, s.hub.Stats().Held)
}

func TestHoldBoundIsATypedError(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{HoldBytes: 100}, nil)
	ctx := context.Background()
	big := facade.Raw(map[string]string{"pad": strings.Repeat("x", 60)})
	require.NoError(t, s.hub.Notify(ctx, facade.ToUser("u1"), big))
	err := s.hub.Notify(ctx, facade.ToUser("u1"), big)
	require.ErrorIs(t, err, facade.ErrHoldFull)
	var he *facade.HoldError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, facade.ToUser("u1"), he.Target)
	assert.Equal(t, 100, he.Limit)
	st := s.hub.Stats()
	assert.EqualValues(t, 1, st.Rejected)
	assert.Equal(t, 1, st.Held, "the first event is still held")
}

func TestHoldAgeBound(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := newServer(t, &facade.HubOptions{HoldTTL: time.Minute, Now: clock}, nil)

	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 0))
	advance(45 * time.Second)
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 1))
	advance(30 * time.Second) // event 0 is now 75s old, event 1 30s

	st := s.hub.Stats()
	assert.EqualValues(t, 1, st.Expired, "expiry is counted, never silent")
	assert.Equal(t, 1, st.Held)

	ws, c := s.dial(t, "c1")
	ready(t, c, "u1")
	_, seq := seqOf(t, readN(t, ws, 1)[0])
	assert.Equal(t, 1, seq)
}

func TestIllegalTransitionsAreRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	_, c := s.dial(t, "c1")

	tests := []struct {
		name string
		step func() error
	}{
		{"ready before auth", c.Ready},
		{"services before auth", c.ServicesReady},
	}
	for _, tt := range tests {
		err := tt.step()
		require.ErrorIs(t, err, facade.ErrIllegalTransition, tt.name)
		var te *facade.TransitionError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, facade.Accepted, te.From)
		assert.Equal(t, facade.Accepted, c.State(), "a refused transition changes nothing")
	}
	require.NoError(t, c.Authenticate("u1"))
	require.ErrorIs(t, c.Authenticate("u1"), facade.ErrIllegalTransition, "no second authentication")
	require.ErrorIs(t, c.Ready(), facade.ErrIllegalTransition)
	assert.Len(t, c.History(), 2, "Connecting→Accepted, Accepted→Authenticated")
}

func TestSkipStepsOptsOut(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, &facade.AcceptOptions{SkipSteps: true})
	ws, c := s.dial(t, "c1")
	require.NoError(t, c.Ready())
	notify(t, s.hub, facade.ToConn("c1"), seqEvent("", 7))
	_, seq := seqOf(t, readN(t, ws, 1)[0])
	assert.Equal(t, 7, seq)
	require.ErrorIs(t, c.Authenticate("u1"), facade.ErrIllegalTransition, "no going back")
}

func TestCanTransitionTable(t *testing.T) {
	t.Parallel()
	all := []facade.State{facade.Connecting, facade.Accepted, facade.Authenticated, facade.ServicesReady,
		facade.ProcessingReady, facade.Closing, facade.Closed, facade.Failed}
	for _, from := range all {
		for _, to := range all {
			got := facade.CanTransition(from, to, false)
			want := (to == from+1 && to <= facade.ProcessingReady) ||
				(from.Live() && (to == facade.Closing || to == facade.Closed || to == facade.Failed)) ||
				(from == facade.Closing && (to == facade.Closed || to == facade.Failed))
			assert.Equal(t, want, got, "%v → %v", from, to)
		}
	}
	var zero facade.State
	assert.False(t, facade.CanTransition(zero, facade.Accepted, true), "the zero State is invalid")
}

func TestConcurrentTransitionsStayLegal(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	for round := range 20 {
		_, c := s.dial(t, fmt.Sprintf("c%d", round))
		steps := []func() error{
			func() error { return c.Authenticate(fmt.Sprintf("u%d", round)) },
			c.ServicesReady, c.Ready, c.ServicesReady, c.Ready,
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range 5 {
			wg.Go(func() {
				// each goroutine tries every step until one succeeds or all fail
				for j := range steps {
					if steps[(i+j)%len(steps)]() == nil {
						mu.Lock()
						ok++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		h := c.History()
		assert.Equal(t, ok+1, len(h), "history grows by one per successful transition")
		prev := facade.Connecting
		for _, tr := range h {
			assert.Equal(t, prev, tr.From, "history is a chain")
			assert.True(t, facade.CanTransition(tr.From, tr.To, false), "%v → %v", tr.From, tr.To)
			prev = tr.To
		}
		assert.Equal(t, facade.ProcessingReady, c.State())
	}
}

func TestPanickingCallbackDoesNotBreakTheMachine(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []facade.State
	s := newServer(t, &facade.HubOptions{Logger: quiet, OnStateChange: func(c *facade.Conn, tr facade.Transition) {
		mu.Lock()
		seen = append(seen, tr.To)
		mu.Unlock()
		panic("callback bug")
	}}, nil)
	ws, c := s.dial(t, "c1")
	ready(t, c, "u1")
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 1))
	readN(t, ws, 1)
	require.NoError(t, c.Close(websocket.CloseNormalClosure, "bye"))
	require.NoError(t, s.hub.Close()) // waits for the callbacks
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []facade.State{facade.Accepted, facade.Authenticated, facade.ServicesReady,
		facade.ProcessingReady, facade.Closing, facade.Closed}, seen)
}

func TestBlockingCallbackDoesNotStallTheMachine(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := newServer(t, &facade.HubOptions{OnStateChange: func(*facade.Conn, facade.Transition) { <-release }}, nil)
	defer close(release) // before the hub's Close, which waits for callbacks
	ws, c := s.dial(t, "c1")
	ready(t, c, "u1")
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 1))
	readN(t, ws, 1)
	assert.Equal(t, facade.ProcessingReady, c.State())
}

func TestMessagesDuringSlowAcceptArriveAfterReadyInOrder(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	const n = 200
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() { // an agent emitting throughout the handshake
		i := 0
		defer func() { sent <- i }()
		for ; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i == n {
				<-stop
				return
			}
			notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", i))
			time.Sleep(100 * time.Microsecond)
		}
	}()
	ws, c := s.dial(t, "c1")
	time.Sleep(2 * time.Millisecond) // slow auth
	require.NoError(t, c.Authenticate("u1"))
	time.Sleep(2 * time.Millisecond) // slow service setup
	require.NoError(t, c.ServicesReady())
	require.NoError(t, c.Ready())
	close(stop)
	total := <-sent
	for i, msg := range readN(t, ws, total) {
		_, seq := seqOf(t, msg)
		require.Equal(t, i, seq, "every event, in order")
	}
}

// TestHeldForUserAndThreadArriveInNotifyOrder: events held for a user and
// for a thread it joins, interleaved, reach its connection in Notify
// order once it is ready, the two holds merged (the bundled chat page's
// run_started, to the thread, between its user's events).
func TestHeldForUserAndThreadArriveInNotifyOrder(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	const n = 12
	for i := range n {
		to := facade.ToUser("u1")
		if i%3 == 1 {
			to = facade.ToThread("t1")
		}
		notify(t, s.hub, to, seqEvent("u1", i))
	}
	ws, c := s.dial(t, "c1")
	require.NoError(t, c.Authenticate("u1"))
	require.NoError(t, c.JoinThread("t1"))
	require.NoError(t, c.ServicesReady())
	require.NoError(t, c.Ready())
	for i, msg := range readN(t, ws, n) {
		_, seq := seqOf(t, msg)
		require.Equal(t, i, seq, "every held event, in Notify order")
	}
}

func TestUsersReceiveOnlyTheirOwnEvents(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	clients := map[string]*websocket.Conn{}
	for _, u := range []string{"alice", "bob", "carol"} {
		ws, c := s.dial(t, "c-"+u)
		ready(t, c, u)
		clients[u] = ws
	}
	for i := range 10 {
		for _, u := range []string{"alice", "bob", "carol"} {
			notify(t, s.hub, facade.ToUser(u), seqEvent(u, i))
		}
	}
	for u, ws := range clients {
		for i, msg := range readN(t, ws, 10) {
			who, seq := seqOf(t, msg)
			assert.Equal(t, u, who)
			assert.Equal(t, i, seq)
		}
	}
}

func TestManyUsersConnectingWhileAgentsEmit(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	const users, events = 25, 40
	var emit sync.WaitGroup
	for u := range users {
		emit.Go(func() {
			for i := range events {
				notify(t, s.hub, facade.ToUser(fmt.Sprint("u", u)), seqEvent(fmt.Sprint("u", u), i))
			}
		})
	}
	var conn sync.WaitGroup
	for u := range users {
		conn.Go(func() {
			// the handler authenticates the connection and makes it ready
			q := wstest.Query{ID: fmt.Sprint("c", u), User: fmt.Sprint("u", u)}
			ws, _, err := websocket.DefaultDialer.Dial(s.URL(q), nil)
			if !assert.NoError(t, err) {
				return
			}
			defer ws.Close()
			emit.Wait()
			for i, msg := range readN(t, ws, events) {
				who, seq := seqOf(t, msg)
				assert.Equal(t, fmt.Sprint("u", u), who)
				assert.Equal(t, i, seq)
			}
		})
	}
	conn.Wait()
	assert.Zero(t, s.hub.Stats().Held)
}

func TestWaitReadyWakesOnReady(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	_, c := s.dial(t, "c1")
	woke := make(chan error, 1)
	go func() { woke <- c.WaitReady(context.Background()) }()
	select {
	case <-woke:
		t.Fatal("WaitReady returned before Ready")
	case <-time.After(20 * time.Millisecond):
	}
	ready(t, c, "u1")
	require.NoError(t, <-woke)

	ctx, cancel := context.WithCancel(context.Background())
	_, c2 := s.dial(t, "c2")
	go func() { woke <- c2.WaitReady(ctx) }()
	cancel()
	require.ErrorIs(t, <-woke, context.Canceled)
	go func() { woke <- c2.WaitReady(context.Background()) }()
	require.NoError(t, c2.Close(websocket.CloseNormalClosure, ""))
	require.ErrorIs(t, <-woke, facade.ErrNotReady)
}

func TestSlowClientDoesNotStallNotify(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 64 << 10, SlowConsumerAfter: 100 * time.Millisecond, WriteTimeout: 500 * time.Millisecond}, nil)
	_, slow := s.dial(t, "slow")
	ready(t, slow, "slow")
	fast, fc := s.dial(t, "fast")
	ready(t, fc, "fast")

	payload := facade.Raw(map[string]string{"pad": strings.Repeat("x", 8<<10)})
	// A client that never reads: once its socket takes nothing more and its
	// queue is past the bound for SlowConsumerAfter, the next event closes it.
	for done := false; !done; {
		err := s.hub.Notify(context.Background(), facade.ToUser("slow"), payload)
		if err != nil {
			// past the hard bound, or once closed and the hold is full
			require.ErrorIs(t, err, facade.ErrHoldFull)
			time.Sleep(5 * time.Millisecond)
		}
		select {
		case <-slow.Done():
			done = true
		default:
		}
	}
	assert.Equal(t, facade.Failed, slow.State())
	st := s.hub.Stats()
	assert.EqualValues(t, 1, st.SlowConsumers)
	assert.Positive(t, st.Held, "what it did not get is held for its next connection")

	notify(t, s.hub, facade.ToUser("fast"), seqEvent("fast", 1))
	_, seq := seqOf(t, readN(t, fast, 1)[0])
	assert.Equal(t, 1, seq, "other connections are unaffected")
}

// The timeout is far above a dial and Authenticate on a loaded machine
// (with 50 ms, -race beside other tests, the conn had failed before the
// test authenticated it).
func TestReadyTimeoutFailsAndGivesEventsBack(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{ReadyTimeout: 2 * time.Second}, nil)
	ws, c := s.dial(t, "c1")
	require.NoError(t, c.Authenticate("u1"))
	for i := range 3 {
		notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", i))
	}
	<-c.Done()
	assert.Equal(t, facade.Failed, c.State())
	_, _, err := ws.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, facade.CloseReadyTimeout), "got %v", err)

	st := s.hub.Stats()
	assert.EqualValues(t, 1, st.ReadyTimeouts)
	assert.Equal(t, 3, st.Held, "the failed connection's events are held again")

	ws2, c2 := s.dial(t, "c2")
	ready(t, c2, "u1")
	for i, msg := range readN(t, ws2, 3) {
		_, seq := seqOf(t, msg)
		assert.Equal(t, i, seq)
	}
}

func TestGiveBackReachesOtherConnections(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	_, a := s.dial(t, "a")
	require.NoError(t, a.Authenticate("u1"))
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 0)) // only a has it
	wsb, b := s.dial(t, "b")
	require.NoError(t, b.Authenticate("u1"))
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 1)) // both have it
	require.NoError(t, a.Close(websocket.CloseNormalClosure, "gone before ready"))
	require.NoError(t, b.ServicesReady())
	require.NoError(t, b.Ready())
	for i, msg := range readN(t, wsb, 2) {
		_, seq := seqOf(t, msg)
		assert.Equal(t, i, seq, "b gets what only a had, in order, and nothing twice")
	}
}

func TestThreadsAndBroadcast(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	notify(t, s.hub, facade.ToThread("t1"), seqEvent("t1", 0)) // held for the thread
	ws1, c1 := s.dial(t, "c1")
	require.NoError(t, c1.Authenticate("u1"))
	require.NoError(t, c1.JoinThread("t1"))
	require.NoError(t, c1.JoinThread("t1"))
	ws2, c2 := s.dial(t, "c2")
	ready(t, c2, "u2")
	require.NoError(t, c1.ServicesReady())
	require.NoError(t, c1.Ready())
	notify(t, s.hub, facade.ToThread("t1"), seqEvent("t1", 1))
	notify(t, s.hub, facade.ToAll(), seqEvent("all", 2))

	got1 := readN(t, ws1, 3)
	for i, msg := range got1 {
		_, seq := seqOf(t, msg)
		assert.Equal(t, i, seq)
	}
	who, seq := seqOf(t, readN(t, ws2, 1)[0])
	assert.Equal(t, "all", who, "u2 is not in the thread")
	assert.Equal(t, 2, seq)
}

func TestBadTargetsAndClosedHub(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	ctx := context.Background()
	ev := seqEvent("x", 1)
	require.ErrorIs(t, s.hub.Notify(ctx, facade.ToConn("nope"), ev), facade.ErrUnknownTarget)
	require.ErrorIs(t, s.hub.Notify(ctx, facade.Target{}, ev), facade.ErrInvalidTarget)
	require.ErrorIs(t, s.hub.Notify(ctx, facade.ToUser(""), ev), facade.ErrInvalidTarget)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, s.hub.Notify(cctx, facade.ToUser("u"), ev), context.Canceled)
	err := s.hub.Notify(ctx, facade.ToUser("u"), facade.Raw(func() {}))
	require.Error(t, err, "non-marshalable payload")
	assert.Zero(t, s.hub.Stats().Held, "nothing half-queued")

	require.NoError(t, s.hub.Close())
	require.NoError(t, s.hub.Close(), "idempotent")
	require.ErrorIs(t, s.hub.Notify(ctx, facade.ToUser("u"), ev), facade.ErrHubClosed)
	_, _, err = websocket.DefaultDialer.Dial(s.url("late"), nil)
	require.Error(t, err, "a closed hub accepts nobody")
}

func TestTooManyConnsPerUser(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{MaxConnsPerUser: 2}, nil)
	for i := range 2 {
		_, c := s.dial(t, fmt.Sprint("c", i))
		require.NoError(t, c.Authenticate("u1"))
	}
	_, c := s.dial(t, "c3")
	require.ErrorIs(t, c.Authenticate("u1"), facade.ErrTooManyConns)
	assert.Equal(t, facade.Accepted, c.State())
}

func TestCloseIsIdempotentAndUnregisters(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	ws, c := s.dial(t, "c1")
	ready(t, c, "u1")
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 0))
	require.NoError(t, c.Close(websocket.CloseNormalClosure, "bye"))
	require.NoError(t, c.Close(websocket.CloseNormalClosure, "again"))
	assert.Equal(t, facade.Closed, c.State())
	assert.False(t, s.hub.Connected("u1"))
	readN(t, ws, 1) // queued data goes out before the close frame
	_, _, err := ws.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, websocket.CloseNormalClosure), "got %v", err)
	require.ErrorIs(t, s.hub.Notify(context.Background(), facade.ToConn("c1"), seqEvent("u1", 1)), facade.ErrUnknownTarget)
}

func TestInboundMessagesWaitForReady(t *testing.T) {
	t.Parallel()
	got := make(chan facade.State, 4)
	s := newServer(t, nil, &facade.AcceptOptions{OnMessage: func(ctx context.Context, c *facade.Conn, typ int, data []byte) {
		got <- c.State()
	}})
	ws, c := s.dial(t, "c1")
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`{"hello":1}`)))
	require.NoError(t, c.Authenticate("u1"))
	select {
	case <-got:
		t.Fatal("a client message reached the application before Ready")
	case <-time.After(20 * time.Millisecond):
	}
	require.NoError(t, c.ServicesReady())
	require.NoError(t, c.Ready())
	assert.Equal(t, facade.ProcessingReady, <-got)
}

func TestMalformedAndOversizedFramesCloseOnlyThatConnection(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{MaxMessageBytes: 1024}, nil)
	good, gc := s.dial(t, "good")
	ready(t, gc, "good")

	tests := []struct {
		name string
		send func(ws *websocket.Conn) error
		code int
	}{
		{"oversized", func(ws *websocket.Conn) error {
			return ws.WriteMessage(websocket.TextMessage, make([]byte, 4096))
		}, websocket.CloseMessageTooBig},
		{"unmasked frame", func(ws *websocket.Conn) error {
			_, err := ws.UnderlyingConn().Write([]byte{0x81, 0x02, 'h', 'i'}) // clients must mask
			return err
		}, websocket.CloseProtocolError},
		{"reserved opcode", func(ws *websocket.Conn) error {
			_, err := ws.UnderlyingConn().Write([]byte{0x83, 0x80, 1, 2, 3, 4})
			return err
		}, websocket.CloseProtocolError},
	}
	for i, tt := range tests {
		id := fmt.Sprint("bad", i)
		ws, c := s.dial(t, id)
		ready(t, c, id)
		require.NoError(t, tt.send(ws), tt.name)
		_, _, err := ws.ReadMessage()
		assert.True(t, websocket.IsCloseError(err, tt.code), "%s: got %v", tt.name, err)
		<-c.Done()
		assert.Equal(t, facade.Failed, c.State(), tt.name)
	}
	notify(t, s.hub, facade.ToUser("good"), seqEvent("good", 9))
	_, seq := seqOf(t, readN(t, good, 1)[0])
	assert.Equal(t, 9, seq)
}

func TestClientCloseEndsClosed(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	ws, c := s.dial(t, "c1")
	ready(t, c, "u1")
	require.NoError(t, ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")))
	<-c.Done()
	assert.Equal(t, facade.Closed, c.State())
	assert.False(t, s.hub.Connected("u1"))
	require.True(t, errors.Is(s.hub.Notify(context.Background(), facade.ToConn("c1"), seqEvent("", 1)), facade.ErrUnknownTarget))
}
