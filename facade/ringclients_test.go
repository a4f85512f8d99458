package facade_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
)

// writtenLog is a Broker with one hub that numbers each event (its ID is
// its seq, zero-padded) and, as a WriteObserver, records per connection
// the newest ID the hub reports written, and that ID when the connection
// leaves its user; it fails the test if a report goes backwards or comes
// after the connection's Leave.
type writtenLog struct {
	t     *testing.T
	local *facade.Local

	mu      sync.Mutex
	n       int
	written map[string]string // conn ID → newest ID written
	atLeave map[string]string // conn ID → newest ID written when it left its user
}

func (b *writtenLog) Start(l *facade.Local) { b.local = l }

func (b *writtenLog) Publish(_ context.Context, to facade.Target, ev facade.Encoded) error {
	b.mu.Lock()
	id := fmt.Sprintf("%06d", b.n)
	b.n++
	b.mu.Unlock()
	b.local.Deliver(to, facade.NewEncoded(id, ev.At(), ev.Legacy(), ev.Numeric(), ev.Body()))
	return nil
}

func (b *writtenLog) Written(c *facade.Conn, _ facade.Target, id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id < b.written[c.ID()] {
		b.t.Errorf("%s: written %s after %s", c.ID(), id, b.written[c.ID()])
	}
	if _, left := b.atLeave[c.ID()]; left {
		b.t.Errorf("%s: written %s after it left", c.ID(), id)
	}
	b.written[c.ID()] = id
}

func (b *writtenLog) Leave(c *facade.Conn, to facade.Target) {
	if to != facade.ToUser(to.ID()) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.atLeave == nil {
		b.atLeave = make(map[string]string)
	}
	b.atLeave[c.ID()] = b.written[c.ID()]
}

// left reports whether the connection left its user, and what had been
// reported written for it then.
func (b *writtenLog) left(connID string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.atLeave[connID]
	return id, ok
}

func (b *writtenLog) last(connID string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.written[connID]
}

func (b *writtenLog) Join(*facade.Conn, facade.Target, string) bool { return false }
func (b *writtenLog) Ready(*facade.Conn)                            {}
func (b *writtenLog) Connected(string) bool                         { return false }
func (b *writtenLog) ConnIDs(string) []string                       { return nil }
func (b *writtenLog) Close() error                                  { return nil }

// A fan-out large enough for the flusher's io_uring batches, to clients
// that behave as real ones do at once: some read at full speed, some
// flood pings, some read at a trickle through a 16 KB receive buffer (the
// ring's send comes back short or EAGAIN and the connection's goroutine
// takes the rest of the frame), some pause and resume while pinging, and
// one closes
// without a code in the middle of it. Every stream is read by the strict
// parser: a pong never lands inside a data frame. Each client reads
// every event once and in order; the broker is told (WriteObserver) of
// every event a client read, and for those that read to the end, of
// exactly the last one; the one that closed ends Closed, and nothing it
// read goes unreported.
func TestRingFanOutToPingingSlowAndClosingClients(t *testing.T) {
	t.Parallel()
	b := &writtenLog{t: t, written: make(map[string]string)}
	s := newServer(t, &facade.HubOptions{Broker: b, Logger: quiet, MaxQueueBytes: 64 << 20, HardQueueBytes: 64 << 20,
		WriteTimeout: 30 * time.Second}, nil)
	const clients, events, closer = 40, 300, 9
	cs := make([]*wstest.Client, clients)
	conns := make([]*facade.Conn, clients)
	for i := range cs {
		var o wstest.Options
		switch i % 5 {
		case 2: // not with pings: a small window against loopback's 64 KB MSS and a ping flood stalls TCP itself
			o = wstest.Options{ReadBuffer: 16 << 10, ReadRate: 2 << 20}
		case 3:
			o = wstest.Options{ReadBuffer: 1 << 20}
		}
		cs[i], conns[i] = s.Strict(t, wstest.Query{ID: fmt.Sprint("c", i), User: fmt.Sprint("u", i), Threads: []string{"t"}}, &o)
	}
	ctx, stopPings := context.WithCancel(context.Background())
	var pings []*sync.WaitGroup
	for i, c := range cs {
		if pinging(i) {
			pings = append(pings, flood(ctx, c))
		}
		if i%5 == 3 {
			c.Pause()
		}
	}
	read := make([]error, clients)
	lastRead := make([]int, clients)
	var wg sync.WaitGroup
	for i, c := range cs {
		if i%5 == 3 {
			continue // paused: read once the fan-out is out
		}
		wg.Go(func() { lastRead[i], read[i] = readSeqsUntil(c, events, closeAfterIf(i == closer, 9)) })
	}
	for i := range events {
		require.NoError(t, s.hub.Notify(context.Background(), facade.ToThread("t"), strictEvent("t", i)))
		if i%16 == 15 {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond) // the paused clients' writers wait on full sockets, pongs owed
	for i, c := range cs {
		if i%5 == 3 {
			c.Resume()
			wg.Go(func() { lastRead[i], read[i] = readSeqsUntil(c, events, -1) })
		}
	}
	wg.Wait()
	stopPings()
	for _, p := range pings {
		p.Wait()
	}
	for i, err := range read {
		require.NoError(t, err, "client %d", i)
	}
	for i, c := range cs {
		assert.NoError(t, c.Err(), "client %d", i)
		want := fmt.Sprintf("%06d", events-1)
		if i == closer {
			select {
			case <-conns[i].Done():
			case <-time.After(30 * time.Second):
				t.Fatal("the connection closed without a code did not end")
			}
			assert.Equal(t, facade.Closed, conns[i].State(), "a close without a code is clean")
			want = fmt.Sprintf("%06d", lastRead[i])
			assert.GreaterOrEqual(t, b.last(conns[i].ID()), want, "every event the closing client read was reported written")
			continue
		}
		assert.Equal(t, want, b.last(conns[i].ID()), "client %d: the last event reported written", i)
		if pinging(i) {
			assert.Positive(t, c.Stats().Pongs, "client %d: its pings were answered", i)
		}
	}
	assert.Zero(t, s.hub.Stats().Failed)
}

// pinging reports whether client i floods pings: those of kinds 1 and 3.
func pinging(i int) bool { return i%5 == 1 || i%5 == 3 }

// readSeqsUntil reads events 0..n-1 in order; with closeAfter ≥ 0 it
// sends a close without a code once it has read event closeAfter and reads
// on, in order, until the server's close, which must echo no code. It
// returns the last seq read.
func readSeqsUntil(c *wstest.Client, n, closeAfter int) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	last := -1
	for last < n-1 {
		if closeAfter >= 0 && last == closeAfter {
			if err := c.WriteClose(ctx, 0, ""); err != nil {
				return last, err
			}
			ce, err := c.WaitClose(ctx)
			if err != nil {
				return last, err
			}
			for { // the events that came before the close frame
				m, err := c.ReadMessage(ctx)
				if err != nil {
					break
				}
				if last, err = nextSeq(m.Data, last); err != nil {
					return last, err
				}
			}
			if ce.Code != 1005 {
				return last, fmt.Errorf("close echoed with %d, want 1005 (no code)", ce.Code)
			}
			return last, nil
		}
		m, err := c.ReadMessage(ctx)
		if err != nil {
			return last, fmt.Errorf("after %d: %w", last, err)
		}
		if last, err = nextSeq(m.Data, last); err != nil {
			return last, err
		}
	}
	return last, nil
}

// closeAfterIf is after if cond holds, else -1: readSeqsUntil's argument.
func closeAfterIf(cond bool, after int) int {
	if cond {
		return after
	}
	return -1
}

func nextSeq(data []byte, last int) (int, error) {
	var ev struct {
		Seq int `json:"seq"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return last, err
	}
	if ev.Seq != last+1 {
		return last, fmt.Errorf("event %d after %d", ev.Seq, last)
	}
	return ev.Seq, nil
}
