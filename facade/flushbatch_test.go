package facade_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
)

// A fan-out to more connections than a flusher takes at once (three
// chunks), one of whose clients does not read and has a small receive
// buffer, so the flusher's send to it comes back short or with EAGAIN and
// the rest of the frame moves to the connection's goroutine: every reading
// client gets every event whole and in order through the strict frame
// parser, and so does the stalled one once it reads. Then one client goes
// away without a close while events keep coming: its connection ends, and
// the others get everything that follows. Both ways the flusher writes:
// one io_uring_enter per chunk, and one write per socket (what it does
// where io_uring is refused, and on other platforms).
func TestFlusherBatchDeliversEveryByte(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"io_uring", "write per socket"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if name == "io_uring" && !facade.IOURingWorks() {
				t.Skip("io_uring is refused on this machine: the flusher writes each socket, the other case")
			}
			s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 64 << 20, HardQueueBytes: 64 << 20, WriteTimeout: 30 * time.Second}, nil)
			facade.WriteEachSocket(s.hub, name != "io_uring")
			const clients, stalled, gone, events, more = 70, 33, 5, 30, 6
			cs := make([]*wstest.Client, clients)
			var goneConn *facade.Conn
			for i := range cs {
				o := &wstest.Options{}
				if i == stalled {
					o.ReadBuffer = 4096
				}
				var c *facade.Conn
				cs[i], c = s.Strict(t, wstest.Query{ID: fmt.Sprint("c", i)}, o)
				ready(t, c, fmt.Sprint("u", i))
				if i == gone {
					goneConn = c
				}
			}
			cs[stalled].Pause()
			for i := range events {
				require.NoError(t, s.hub.Notify(context.Background(), facade.ToAll(), strictEvent("all", i)))
			}
			readAll := func(from, n int, skip ...int) {
				t.Helper()
				var wg sync.WaitGroup
				errs := make([]error, clients)
				for i, c := range cs {
					if slices.Contains(skip, i) {
						continue
					}
					wg.Go(func() { errs[i] = readStrictFrom(c, from, n) })
				}
				wg.Wait()
				for i, err := range errs {
					require.NoError(t, err, "client %d", i)
				}
			}
			readAll(0, events, stalled)
			cs[stalled].Resume()
			require.NoError(t, readStrictFrom(cs[stalled], 0, events), "the stalled client")

			_ = cs[gone].Close() // no close frame: the TCP connection just ends
			for i := events; i < events+more; i++ {
				require.NoError(t, s.hub.Notify(context.Background(), facade.ToAll(), strictEvent("all", i)))
			}
			readAll(events, more, gone)
			select {
			case <-goneConn.Done():
			case <-time.After(30 * time.Second):
				t.Fatal("the connection of the client that went away did not end")
			}
			for i, c := range cs {
				if i != gone {
					require.NoError(t, c.Err(), "client %d", i)
				}
			}
		})
	}
}

// readSeqs reads n messages from c and checks their seqs are from..from+n-1.
func readStrictFrom(c *wstest.Client, from, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := from; i < from+n; i++ {
		m, err := c.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		var ev struct {
			Seq int `json:"seq"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			return err
		}
		if ev.Seq != i {
			return fmt.Errorf("message %d has seq %d", i, ev.Seq)
		}
	}
	return nil
}

// A flusher goroutine out of work parks instead of exiting; the next
// Notify wakes it rather than starting another, it leaves by itself once
// it has waited a second for nothing, and the hub's Close lets it go at
// once.
func TestFlusherParksBetweenEventsAndLeaves(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet}, nil)
	ws, c := s.dial(t, "c1")
	ready(t, c, "u1")
	parked := func(what string) {
		t.Helper()
		require.Eventually(t, func() bool {
			running, parked := facade.Flushers(s.hub)
			return running == 1 && parked == 1
		}, 10*time.Second, time.Millisecond, what)
	}
	for i := range 3 {
		notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", i))
		_, seq := seqOf(t, readN(t, ws, 1)[0])
		require.Equal(t, i, seq)
		parked(fmt.Sprintf("after event %d the one flusher is parked", i))
	}
	require.Eventually(t, func() bool {
		running, _ := facade.Flushers(s.hub)
		return running == 0
	}, 30*time.Second, 10*time.Millisecond, "the parked flusher leaves after its linger")
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 3))
	_, seq := seqOf(t, readN(t, ws, 1)[0])
	require.Equal(t, 3, seq, "a new flusher starts after the last one left")
	parked("parked again")
	require.NoError(t, s.hub.Close())
	running, parked0 := facade.Flushers(s.hub)
	require.Equal(t, 0, running, "Close waited for the parked flusher to leave")
	require.Equal(t, 0, parked0)
}
