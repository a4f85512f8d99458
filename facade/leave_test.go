package facade_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
)

// Clients that close while their events are being written: each reads a
// few events of a steady stream, sends a close and reads on until the
// server's. The broker hears of every event a client read before it hears
// that the client left (a Redis broker sends its delivered mark then, and
// a mark that came later would wait for the next batch while the client
// reconnects elsewhere and gets those events twice), and nothing is
// reported written after the Leave.
func TestEveryWrittenComesBeforeLeave(t *testing.T) {
	t.Parallel()
	b := &writtenLog{t: t, written: make(map[string]string)}
	s := newServer(t, &facade.HubOptions{Broker: b, Logger: quiet, MaxQueueBytes: 64 << 20, HardQueueBytes: 64 << 20}, nil)
	const clients = 48
	cs := make([]*wstest.Client, clients)
	conns := make([]*facade.Conn, clients)
	for i := range cs {
		cs[i], conns[i] = s.Strict(t, wstest.Query{ID: fmt.Sprint("c", i), User: fmt.Sprint("u", i), Threads: []string{"t"}}, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lastRead := make([]int, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { lastRead[i], errs[i] = readSeqsUntil(c, 1<<30, 1+i%16) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for i := 0; ; i++ {
		select {
		case <-done:
		default:
			require.NoError(t, s.hub.Notify(ctx, facade.ToThread("t"), strictEvent("t", i)))
			if i%8 == 7 {
				time.Sleep(200 * time.Microsecond)
			}
			continue
		}
		break
	}
	for i, c := range cs {
		require.NoError(t, errs[i], "client %d", i)
		require.NoError(t, c.Err(), "client %d", i)
		select {
		case <-conns[i].Done():
		case <-ctx.Done():
			t.Fatalf("client %d: its connection did not end", i)
		}
		atLeave, ok := b.left(conns[i].ID())
		require.True(t, ok, "client %d: the broker was told it left", i)
		assert.GreaterOrEqual(t, atLeave, fmt.Sprintf("%06d", lastRead[i]), "client %d: what it read was reported written before it left", i)
	}
}
