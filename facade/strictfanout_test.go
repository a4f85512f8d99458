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

// strictFanOut connects clients strict clients to s, each ready as its own
// user in the thread named prefix, sends events to that thread in bursts (the flusher parks between
// some and starts again from its short turns, and hands the sends of 16
// and 32 connections at once to io_uring where it works), and checks that
// every client read every event whole, once and in order, and that no
// connection failed. The prefix names the connections and their thread, so
// one server can take several rounds.
func strictFanOut(t *testing.T, s *server, prefix string, clients, events int) {
	t.Helper()
	cs := make([]*wstest.Client, clients)
	conns := make([]*facade.Conn, clients)
	for i := range cs {
		cs[i], conns[i] = s.Strict(t, wstest.Query{ID: fmt.Sprint(prefix, i), User: fmt.Sprint(prefix, "u", i), Threads: []string{prefix}}, nil)
	}
	failed, written := s.hub.Stats().Failed, s.hub.Stats().Written
	read := make([]error, clients)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { read[i] = readStrict(c, events) })
	}
	for i := range events {
		require.NoError(t, s.hub.Notify(context.Background(), facade.ToThread(prefix), strictEvent(prefix, i)))
		if i%8 == 7 {
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	for i, err := range read {
		require.NoError(t, err, "client %s%d", prefix, i)
	}
	st := s.hub.Stats()
	assert.Equal(t, failed, st.Failed, "no connection failed")
	assert.EqualValues(t, clients*events, st.Written-written)
	for i, c := range conns {
		assert.Equal(t, facade.ProcessingReady, c.State(), "connection %s%d", prefix, i)
		assert.NoError(t, cs[i].Err(), "client %s%d", prefix, i)
	}
}
