package facade_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// Every copy Notify accepted is written, expired or undelivered, or still
// held or queued: the invariant Stats documents. After Hub.Close nothing is
// held or queued.
func requireAccounted(t *testing.T, h *facade.Hub) facade.Stats {
	t.Helper()
	require.NoError(t, h.Close())
	st := h.Stats()
	require.Zero(t, st.Held, "Close discards holds: %+v", st)
	require.Zero(t, st.Queued, "%+v", st)
	require.Equal(t, st.Accepted, st.Written+st.Expired+st.Undelivered, "every accepted copy is accounted for: %+v", st)
	return st
}

// notifySeqs sends events from..to-1 to user, each padded to pad bytes, and
// returns the seqs Notify refused (every refusal is a *HoldError).
func notifySeqs(t *testing.T, h *facade.Hub, user string, from, to, pad int) map[int]bool {
	t.Helper()
	refused := map[int]bool{}
	p := strings.Repeat("x", pad)
	for i := from; i < to; i++ {
		err := h.Notify(context.Background(), facade.ToUser(user), facade.Raw(map[string]any{"user": user, "seq": i, "pad": p}))
		if err != nil {
			require.ErrorIs(t, err, facade.ErrHoldFull)
			refused[i] = true
		}
	}
	return refused
}

// readSeqs reads until the connection ends and returns the seqs, and the
// close code (0 if none).
func readSeqs(t *testing.T, ws *websocket.Conn) ([]int, int) {
	t.Helper()
	var seqs []int
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(30*time.Second)))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return seqs, ce.Code
			}
			return seqs, 0
		}
		_, seq := seqOf(t, string(data))
		seqs = append(seqs, seq)
	}
}

// A client that reads at full speed is never cut for a burst, however far
// the Notify loop outruns the writer: 2 MB of small events, twice the
// queue bound, all arrive in order.
func TestFastClientSurvivesABurst(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet}, nil)
	ws, c := s.dial(t, "fast")
	ready(t, c, "u1")
	const n = 20000 // ~100 bytes each
	got := make(chan []int, 1)
	go func() {
		var seqs []int
		_ = ws.SetReadDeadline(time.Now().Add(60 * time.Second))
		for len(seqs) < n {
			_, data, err := ws.ReadMessage()
			if err != nil {
				break
			}
			_, seq := seqOf(t, string(data))
			seqs = append(seqs, seq)
		}
		got <- seqs
	}()
	refused := notifySeqs(t, s.hub, "u1", 0, n, 40)
	require.Empty(t, refused, "a 2 MB burst fits under the hard bound")
	seqs := <-got
	require.Len(t, seqs, n)
	for i, seq := range seqs {
		require.Equal(t, i, seq)
	}
	assert.Zero(t, s.hub.Stats().SlowConsumers)
	assert.Equal(t, facade.ProcessingReady, c.State())
	st := requireAccounted(t, s.hub)
	assert.EqualValues(t, n, st.Written)
}

// A burst beyond the hard bound to a reading client: the events the queue
// cannot take are refused to Notify's caller, counted Rejected; every other
// one arrives, in order. Nothing is skipped silently.
func TestBurstPastTheHardBoundIsRefusedNotDropped(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 256 << 10, HardQueueBytes: 1 << 20}, nil)
	ws, c := s.dial(t, "fast")
	ready(t, c, "u1")
	const n = 3000 // × 5 KB = 15 MB
	got := make(chan []int, 1)
	go func() {
		seqs, _ := readSeqs(t, ws)
		got <- seqs
	}()
	refused := notifySeqs(t, s.hub, "u1", 0, n, 5<<10)
	require.NoError(t, c.Close(websocket.CloseNormalClosure, "done")) // after what is queued
	seqs := <-got
	want := make([]int, 0, n)
	for i := range n {
		if !refused[i] {
			want = append(want, i)
		}
	}
	assert.Equal(t, want, seqs, "every event not refused arrives, in order")
	st := requireAccounted(t, s.hub)
	assert.EqualValues(t, len(refused), st.Rejected)
	assert.EqualValues(t, len(seqs), st.Written)
}

// A client that stops reading is closed as a slow consumer once its queue
// is past the bound and its socket took nothing for SlowConsumerAfter;
// after that it gets nothing but the close. What it did not get is held,
// and its next connection receives it: across both connections every event
// arrives once, in order, or was refused to Notify's caller.
func TestPausedClientReconnectsAfterSlowConsumerClose(t *testing.T) {
	t.Parallel()
	s, ws, c := pausedClient(t)
	refused := map[int]bool{}
	i := 0
	for ; ; i++ { // the client reads nothing meanwhile
		for k := range notifySeqs(t, s.hub, "u1", i, i+1, 8<<10) {
			refused[k] = true
			time.Sleep(2 * time.Millisecond)
		}
		if c.State() != facade.ProcessingReady {
			break
		}
	}
	first := readSlowClosed(t, s.hub, ws, c)
	more := notifySeqs(t, s.hub, "u1", i+1, i+11, 100) // held too
	require.Empty(t, more)
	all := append(first, readReconnected(t, s, "u1")...)
	var want []int
	for k := 0; k <= i+10; k++ {
		if !refused[k] {
			want = append(want, k)
		}
	}
	require.Equal(t, want, all, "once each, in order, across the reconnect")
	st := requireAccounted(t, s.hub)
	assert.EqualValues(t, len(refused), st.Rejected)
}

// pausedClient is a hub with a small queue bound and a ready client of
// user "u1", which the test does not read yet.
func pausedClient(t *testing.T) (*server, *websocket.Conn, *facade.Conn) {
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 64 << 10, HardQueueBytes: 256 << 10,
		SlowConsumerAfter: 100 * time.Millisecond, HoldBytes: 64 << 20}, nil)
	ws, c := s.dial(t, "paused")
	ready(t, c, "u1")
	return s, ws, c
}

// readSlowClosed reads what a connection closed as a slow consumer got
// before its close frame, and checks that it was closed so, once.
func readSlowClosed(t *testing.T, h *facade.Hub, ws *websocket.Conn, c *facade.Conn) []int {
	t.Helper()
	seqs, code := readSeqs(t, ws) // reading again lets the close frame out
	assert.Equal(t, facade.CloseSlowConsumer, code)
	<-c.Done()
	assert.EqualValues(t, 1, h.Stats().SlowConsumers)
	return seqs
}

// readReconnected connects user again and reads what it is given (what
// was held for it) for 100 ms, until it closes.
func readReconnected(t *testing.T, s *server, user string) []int {
	t.Helper()
	ws, c := s.dial(t, "again")
	ready(t, c, user)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = c.Close(websocket.CloseNormalClosure, "")
	}()
	seqs, _ := readSeqs(t, ws)
	return seqs
}

// Publishers side by side (Notify routes under the hub's lock held
// shared) find the same stalled connection: it is closed once, as a slow
// consumer; every event is written once, or refused with a *HoldError —
// none lost, none twice — and each publisher's events arrive in its order,
// across the reconnect.
func TestConcurrentPublishersCloseASlowConsumerOnce(t *testing.T) {
	t.Parallel()
	s, ws, c := pausedClient(t)
	const publishers, stride = 8, 1 << 20
	var mu sync.Mutex
	refused := map[int]bool{}
	sent := make([]int, publishers)
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			after := 0 // events sent once the connection is closed: held
			for i := 0; after < 10; i++ {
				if c.State() != facade.ProcessingReady {
					after++
				}
				seq := p*stride + i
				err := s.hub.Notify(context.Background(), facade.ToUser("u1"),
					facade.Raw(map[string]any{"user": "u1", "seq": seq, "pad": strings.Repeat("x", 8<<10)}))
				sent[p] = i + 1
				if err != nil {
					if !assert.ErrorIs(t, err, facade.ErrHoldFull) {
						return
					}
					mu.Lock()
					refused[seq] = true
					mu.Unlock()
					time.Sleep(2 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	first := readSlowClosed(t, s.hub, ws, c)
	got := make([][]int, publishers)
	for _, seq := range append(first, readReconnected(t, s, "u1")...) {
		got[seq/stride] = append(got[seq/stride], seq)
	}
	for p := range publishers {
		var want []int
		for i := range sent[p] {
			if seq := p*stride + i; !refused[seq] {
				want = append(want, seq)
			}
		}
		require.Equal(t, want, got[p], "publisher %d: once each, in order, across the reconnect", p)
	}
	st := requireAccounted(t, s.hub)
	assert.EqualValues(t, len(refused), st.Rejected)
}
