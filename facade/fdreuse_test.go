package facade_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
)

// Connections come and go while a fan-out streams: clients reset the
// connection (RST), go away without a close frame, are closed by the
// server, or break the protocol (a read error), each while its sends may
// be in a flusher's batch, in io_uring or a write. The kernel reuses the
// lowest free descriptor for the next connection accepted, so a send of a
// batch that still named a closed connection's descriptor would land in a
// new client's stream: before its handshake response, or as an event it
// also gets on its own, out of order. Every client, the ones that stay
// and each newcomer, must read its stream valid (strict parser, gorilla)
// with the fan-out's numbers consecutive from the first it sees.
func TestDescriptorsReusedDuringAFanOut(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet, MaxQueueBytes: 64 << 20, HardQueueBytes: 64 << 20, WriteTimeout: 30 * time.Second}, nil)
	var dialMu sync.Mutex // a dial and its server side, in pairs
	dialCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 30*time.Second)
	}
	strict := func(id string) (*wstest.Client, *facade.Conn, error) {
		dialMu.Lock()
		defer dialMu.Unlock()
		ctx, cancel := dialCtx()
		defer cancel()
		c, err := wstest.Dial(ctx, s.URL(wstest.Query{ID: id, User: id}), nil)
		if err != nil {
			return nil, nil, err
		}
		sc, err := s.NextConn(ctx)
		return c, sc, err
	}
	gorilla := func(id string) (*websocket.Conn, error) {
		dialMu.Lock()
		defer dialMu.Unlock()
		ctx, cancel := dialCtx()
		defer cancel()
		ws, res, err := websocket.DefaultDialer.DialContext(ctx, s.URL(wstest.Query{ID: id, User: id}), nil)
		if res != nil && res.Body != nil {
			_ = res.Body.Close()
		}
		if err != nil {
			return nil, err
		}
		_, err = s.NextConn(ctx)
		return ws, err
	}

	const stayers, churners, cycles = 20, 6, 40
	ctx, stop := context.WithCancel(context.Background())
	var stayed sync.WaitGroup
	for i := range stayers {
		c, _, err := strict(fmt.Sprint("stay", i))
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		stayed.Go(func() {
			rctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			seq := consecutive{last: -1}
			for !seq.end {
				m, err := c.ReadMessage(rctx)
				if err == nil {
					err = seq.next(m.Data)
				}
				if err != nil {
					t.Errorf("client stay%d: %v", i, err)
					return
				}
			}
			assert.NoError(t, c.Err(), "client stay%d", i)
		})
	}
	var published atomic.Int64 // events sent; the last one ends the fan-out
	var pub sync.WaitGroup
	pub.Go(func() {
		for i := 0; ctx.Err() == nil && !t.Failed(); i++ {
			if err := s.hub.Notify(context.Background(), facade.ToAll(), churnEvent(i)); err != nil {
				t.Error(err)
				return
			}
			published.Store(int64(i + 1))
			if i%4 == 3 {
				time.Sleep(time.Millisecond)
			}
		}
	})

	var churn sync.WaitGroup
	for w := range churners {
		churn.Go(func() {
			for k := range cycles {
				id := fmt.Sprint("churn", w, "-", k)
				var err error
				if w%2 == 0 {
					err = strictCycle(ctx, strict, id, k%3)
				} else {
					err = gorillaCycle(gorilla, id, k%3)
				}
				if err != nil {
					t.Errorf("%s: %v", id, err)
					return
				}
			}
		})
	}
	churn.Wait()
	stop()
	pub.Wait()
	end := facade.Raw(map[string]any{"seq": published.Load(), "end": true})
	require.NoError(t, s.hub.Notify(context.Background(), facade.ToAll(), end))
	stayed.Wait()
	t.Logf("%d events to %d clients, %d came and went", published.Load(), stayers, churners*cycles)
}

// churnEvent is the i-th event of the fan-out: 20 bytes to 1.4 KB, not
// all ASCII, so a frame torn apart shows.
func churnEvent(i int) facade.Event {
	return facade.Raw(map[string]any{"seq": i, "pad": strings.Repeat("é✓🙂", i%150)})
}

// consecutive checks that each event's number follows the one before it;
// end is set by the event that ends the fan-out.
type consecutive struct {
	last int
	end  bool
}

func (c *consecutive) next(data []byte) error {
	var ev struct {
		Seq *int `json:"seq"`
		End bool `json:"end"`
	}
	if err := json.Unmarshal(data, &ev); err != nil || ev.Seq == nil {
		return fmt.Errorf("not an event of the fan-out: %q", data)
	}
	if c.last >= 0 && *ev.Seq != c.last+1 {
		return fmt.Errorf("event %d after %d", *ev.Seq, c.last)
	}
	c.last, c.end = *ev.Seq, ev.End
	return nil
}

// strictCycle connects a strict client, reads a few events and leaves:
// way 0 without a close frame, 1 closed by the server, 2 by breaking the
// protocol.
func strictCycle(ctx context.Context, dial func(string) (*wstest.Client, *facade.Conn, error), id string, way int) error {
	c, sc, err := dial(id)
	if err != nil {
		return err
	}
	defer c.Close()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	seq := consecutive{last: -1}
	for range 3 + way*2 {
		m, err := c.ReadMessage(rctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		if err := seq.next(m.Data); err != nil {
			return err
		}
	}
	switch way {
	case 0:
		return c.Close()
	case 1:
		if err := sc.Close(websocket.CloseNormalClosure, "bye"); err != nil {
			return err
		}
	case 2:
		if err := c.WriteFrame(rctx, true, wstest.Opcode(3), nil); err != nil { // a reserved opcode
			return err
		}
	}
	// Read on until the server's close: what comes before it must be
	// valid too.
	for {
		m, err := c.ReadMessage(rctx)
		if err != nil {
			break
		}
		if err := seq.next(m.Data); err != nil {
			return err
		}
	}
	return c.Close()
}

// gorillaCycle connects a gorilla client, reads a few events and leaves:
// way 0 with a reset (SO_LINGER 0), 1 with a close frame and no wait, 2
// with a reset before it read anything.
func gorillaCycle(dial func(string) (*websocket.Conn, error), id string, way int) error {
	ws, err := dial(id)
	if err != nil {
		return err
	}
	defer ws.Close()
	if err := ws.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return err
	}
	seq := consecutive{last: -1}
	for range 4 * min(way, 1) { // way 2 leaves at once
		_, data, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		if err := seq.next(data); err != nil {
			return err
		}
	}
	if way != 1 {
		tc := ws.NetConn().(*net.TCPConn)
		if err := tc.SetLinger(0); err != nil {
			return err
		}
		return tc.Close()
	}
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "")
	if err := ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(5*time.Second)); err != nil {
		return err
	}
	return ws.Close()
}
