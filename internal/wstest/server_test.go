package wstest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

func newHub() *facade.Hub {
	return facade.NewHub(&facade.HubOptions{Logger: slog.New(slog.DiscardHandler)})
}

// A query with a user is walked to ProcessingReady by the handler, with
// its threads; events reach the strict client, whose stream stays valid.
func TestServerWalksAQueryWithAUser(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := NewServer(t, newHub(), nil)
	cl, c := s.Strict(t, Query{ID: "c1", User: "u1", Threads: []string{"t1", "t2"}, LastEventID: "7-0"}, nil)
	assert.Equal(t, "c1", c.ID())
	assert.Equal(t, "u1", c.UserID())
	assert.Equal(t, "7-0", c.LastEventID())
	assert.Equal(t, facade.ProcessingReady, c.State())

	require.NoError(t, s.Hub.Notify(ctx, facade.ToUser("u1"), facade.Raw(map[string]any{"n": 1})))
	require.NoError(t, s.Hub.Notify(ctx, facade.ToThread("t2"), facade.Raw(map[string]any{"n": 2})))
	for _, want := range []string{`{"n":1}`, `{"n":2}`} {
		m, err := cl.ReadMessage(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, string(m.Data))
	}
	require.NoError(t, cl.Close())
	require.NoError(t, s.Close())
	assert.NoError(t, s.Close(), "a second Close does nothing")
}

// Without a user the test walks the connection; the accept options are the
// base of every connection's, and the subprotocol reaches the hub.
func TestServerHandsOverUnwalkedConnections(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := NewServer(t, newHub(), &facade.AcceptOptions{SkipSteps: true})
	ws, c := s.Gorilla(t, Query{ID: "g1"}, facade.SubprotocolNumeric)
	assert.Equal(t, "g1", c.ID())
	assert.Equal(t, facade.Accepted, c.State())
	assert.Equal(t, facade.EncodingNumeric, c.Encoding())
	require.NoError(t, c.Ready(), "SkipSteps came from the base options")
	require.NoError(t, s.Hub.Notify(ctx, facade.ToConn("g1"), facade.Raw("hi")))
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(testTimeout)))
	_, b, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, `"hi"`, string(b))

	// Connections are handed over in accept order.
	for _, id := range []string{"a", "b", "c"} {
		cl, err := Dial(ctx, s.URL(Query{ID: id}), nil)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, cl.Close()) })
		c, err := s.NextConn(ctx)
		require.NoError(t, err)
		assert.Equal(t, id, c.ID())
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = s.NextConn(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// A step the handler cannot take closes the connection with 1008 and hands
// nothing over.
func TestServerRefusesAFailedWalk(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := NewServer(t, newHub(), nil)
	cl, err := Dial(ctx, s.URL(Query{User: "u1", Threads: []string{""}}), nil)
	require.NoError(t, err)
	defer cl.Close()
	ce, err := cl.WaitClose(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1008, ce.Code)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = s.NextConn(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
