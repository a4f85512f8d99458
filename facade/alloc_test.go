package facade_test

// Allocations of the hot path: Notify to one ready user and a fan-out to
// many. Clients here are raw TCP readers that parse frames into a fixed
// buffer and allocate nothing, so what is counted is the server: the
// runtime counts every goroutine's allocations, the clients' included.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// frameReader reads the server's frames from a raw client connection and
// sends one value on got per text frame, without allocating per frame.
type frameReader struct {
	nc  net.Conn
	got chan struct{}
}

func newFrameReader(nc net.Conn, got chan struct{}) *frameReader {
	r := &frameReader{nc: nc, got: got}
	go r.run()
	return r
}

func (r *frameReader) run() {
	br := bufio.NewReaderSize(r.nc, 64<<10)
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return
		}
		op, n := hdr[0]&0x0f, int64(hdr[1]&0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(br, hdr[:2]); err != nil {
				return
			}
			n = int64(hdr[0])<<8 | int64(hdr[1])
		case 127:
			if _, err := io.ReadFull(br, hdr[:8]); err != nil {
				return
			}
			n = 0
			for _, b := range hdr {
				n = n<<8 | int64(b)
			}
		}
		if _, err := br.Discard(int(n)); err != nil {
			return
		}
		if op == 0x1 {
			r.got <- struct{}{}
		}
	}
}

// hotPath is a hub with n ready raw clients of user "u1".
type hotPath struct {
	hub *facade.Hub
	got chan struct{}
	n   int
	ev  facade.Event
}

func newHotPath(tb testing.TB, n int) *hotPath {
	s := newServer(tb, &facade.HubOptions{Logger: quiet, MaxConnsPerUser: n}, nil)
	hp := &hotPath{hub: s.hub, got: make(chan struct{}, n), n: n}
	addr := s.srv.Listener.Addr().String()
	for i := range n {
		nc := rawClient(tb, addr, fmt.Sprint("h", i), "")
		tb.Cleanup(func() { nc.Close() })
		ready(tb, s.next(tb), "u1")
		newFrameReader(nc, hp.got)
	}
	// Built once: the caller's event is not the hub's allocation.
	hp.ev = facade.Event{Type: facade.ProgressUpdate, RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: map[string]any{"step": "one"}, Time: time.Now()}
	return hp
}

// notify sends one event to every client and waits until each has it.
func (hp *hotPath) notify(tb testing.TB) {
	if err := hp.hub.Notify(context.Background(), facade.ToUser("u1"), hp.ev); err != nil {
		tb.Fatal(err)
	}
	for range hp.n {
		<-hp.got
	}
}

// BenchmarkNotifyReadyUser is Notify to a user with one ready, idle
// connection, until the client has the frame.
func BenchmarkNotifyReadyUser(b *testing.B) {
	hp := newHotPath(b, 1)
	hp.notify(b) // warm: the first write makes what later ones reuse
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		hp.notify(b)
	}
}

// BenchmarkFanoutN is one Notify to a user with N ready, idle connections,
// until every client has the frame; allocs/op divided by N is the cost per
// receiver.
func BenchmarkFanoutN(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			hp := newHotPath(b, n)
			hp.notify(b)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				hp.notify(b)
			}
			b.StopTimer()
		})
	}
}

// TestHotPathAllocs holds the hot path to its allocation budget: at most
// one allocation per Notify to a ready user (the encoded message), a typed
// event or a Raw legacy struct (its compiled encoder allocates nothing), and
// none per receiver of a fan-out. Allocation counts are deterministic, but
// under the race detector sync.Pool drops about half of what is put back,
// so there (as in CI, whose test command has -race) the budget is looser:
// a few per Notify, one per receiver at most — still a fifth of what the
// hot path cost before (10 per Notify, 5 per receiver).
func TestHotPathAllocs(t *testing.T) {
	// A legacy message as the peers harness sends it: a struct holding a
	// pre-encoded payload, built once (its boxing is the caller's).
	type pub struct {
		Data json.RawMessage `json:"data"`
	}
	type push struct {
		Channel string `json:"channel"`
		Pub     pub    `json:"pub"`
	}
	legacy := facade.Raw(struct {
		Push push `json:"push"`
	}{Push: push{Channel: "bench", Pub: pub{Data: json.RawMessage(`{"seq":1,"title":"Build finished"}`)}}})
	for _, tc := range []struct {
		name           string
		receivers      int
		ev             *facade.Event // nil: a typed event
		max, underRace float64
	}{
		{name: "ready user", receivers: 1, max: 1, underRace: 5},
		{name: "ready user, Raw struct", receivers: 1, ev: &legacy, max: 1, underRace: 5},
		{name: "fan-out to 200", receivers: 200, max: 1, underRace: 200}, // the message, none per receiver
	} {
		t.Run(tc.name, func(t *testing.T) {
			hp := newHotPath(t, tc.receivers)
			if tc.ev != nil {
				hp.ev = *tc.ev
			}
			hp.notify(t)
			got := testing.AllocsPerRun(200, func() { hp.notify(t) })
			budget := tc.max
			if raceEnabled {
				budget = tc.underRace
			}
			require.LessOrEqual(t, got, budget, "allocations per Notify to %d ready receivers", tc.receivers)
		})
	}
}

// TestStreamAllocs holds a stream to one client to one allocation per
// event, its message: a burst queues into the array the last burst left
// and is written through a buffer the flusher kept, so neither grows anew
// per burst (they did: 1,011 allocations per 1,000 events).
func TestStreamAllocs(t *testing.T) {
	hp := newHotPath(t, 1)
	const burst = 1000
	run := func() {
		for range burst {
			if err := hp.hub.Notify(context.Background(), facade.ToUser("u1"), hp.ev); err != nil {
				t.Fatal(err)
			}
		}
		for range burst {
			<-hp.got
		}
	}
	run()
	got := testing.AllocsPerRun(20, run)
	budget := float64(burst + 3) // the messages, and a little the runtime's
	if raceEnabled {
		budget = 3 * burst // sync.Pool drops much of what is put back
	}
	require.LessOrEqual(t, got, budget, "allocations per burst of %d events to one client", burst)
}
