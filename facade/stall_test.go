package facade_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// pingFrame is a masked client ping (mask key zero) with payload p.
func pingFrame(p string) []byte {
	return append([]byte{0x89, 0x80 | byte(len(p)), 0, 0, 0, 0}, p...)
}

// A client that pings without pause and never reads, while its socket is
// full, does not delay anyone else: its pongs wait for its own writer, not
// on a lock the shared flusher needs. When a pong held the connection's
// lock the others waited seconds (up to WriteTimeout); now their median
// is a few ms above the control (the first half of the events, before the
// flood), well under 50 ms on a quiet machine. The flood itself takes CPU
// from the readers, and the suite runs beside other packages' tests, so
// the bound is 250 ms or five times the control's median, whichever is
// more: five times the 50 ms target, still far below the defect's seconds.
func TestPingingClientThatNeverReadsDelaysNoOne(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 64 << 20, HardQueueBytes: 64 << 20}, nil)
	nc := rawClient(t, s.srv.Listener.Addr().String(), "pinger", "")
	defer nc.Close()
	pc := s.next(t)
	ready(t, pc, "pinger")
	var flooding atomic.Bool
	stop := make(chan struct{})
	var pinging sync.WaitGroup
	pinging.Go(func() {
		frame := pingFrame(strings.Repeat("p", 125))
		for {
			select {
			case <-stop:
				return
			default:
			}
			if !flooding.Load() {
				time.Sleep(time.Millisecond)
				continue
			}
			_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := nc.Write(frame); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return
			}
		}
	})
	defer func() { close(stop); pinging.Wait() }()
	// ~2.4 MB: the kernel takes it all, so its writer is idle when the
	// flood's pongs fill what is left of its buffers.
	burst(t, s.hub, "pinger", 0, 300)

	const readers, events = 4, 60
	type arrival struct{ seq, ms int }
	arrivals := make(chan arrival, readers*events)
	for r := range readers {
		ws, c := s.dial(t, fmt.Sprint("r", r))
		ready(t, c, fmt.Sprint("r", r))
		go func() {
			for range events {
				_, data, err := ws.ReadMessage()
				if err != nil {
					return
				}
				var m struct {
					Seq  int   `json:"seq"`
					Sent int64 `json:"sent"`
				}
				if json.Unmarshal(data, &m) == nil {
					arrivals <- arrival{m.Seq, int(time.Since(time.Unix(0, m.Sent)).Milliseconds())}
				}
			}
		}()
	}
	for i := range events {
		flooding.Store(i >= events/2) // the second half: the pinger floods
		// everyone, the pinger included: a fan-out through the flusher
		err := s.hub.Notify(context.Background(), facade.ToAll(), facade.Raw(map[string]any{"seq": i, "sent": time.Now().UnixNano()}))
		require.NoError(t, err)
		time.Sleep(5 * time.Millisecond)
	}
	worst := make([]int, events)
	for range readers * events {
		select {
		case a := <-arrivals:
			worst[a.seq] = max(worst[a.seq], a.ms)
		case <-time.After(30 * time.Second):
			t.Fatal("a reader never got its events")
		}
	}
	var quietMs, floodMs []int
	for i, ms := range worst {
		if i >= events/2 {
			floodMs = append(floodMs, ms)
		} else {
			quietMs = append(quietMs, ms)
		}
	}
	slices.Sort(quietMs)
	slices.Sort(floodMs)
	control, median := quietMs[len(quietMs)/2], floodMs[len(floodMs)/2]
	t.Logf("latency to the slowest of %d readers: median %d ms while it floods (max %d), %d ms before",
		readers, median, floodMs[len(floodMs)-1], control)
	assert.Less(t, median, max(250, 5*control), "median latency (ms) while a client floods pings and reads nothing")
	assert.Less(t, floodMs[len(floodMs)-1], 2000, "max latency (ms)")
}
