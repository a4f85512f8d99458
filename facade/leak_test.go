package facade_test

import (
	"context"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsunify/wsunify/facade"
)

// Not parallel: goleak compares against the goroutines alive at its start.
func TestNoGoroutineOutlivesHubClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var states []facade.State
	s := newServer(t, &facade.HubOptions{OnStateChange: func(c *facade.Conn, tr facade.Transition) {
		states = append(states, tr.To) // the dispatcher runs one callback at a time
	}}, &facade.AcceptOptions{OnMessage: func(context.Context, *facade.Conn, int, []byte) {}})
	var clients []*websocket.Conn
	for _, id := range []string{"a", "b", "c"} {
		ws, c := s.dial(t, id)
		ready(t, c, "u-"+id)
		clients = append(clients, ws)
	}
	_, pending := s.dial(t, "pending") // never ready
	_ = pending
	for i := range 50 {
		notify(t, s.hub, facade.ToAll(), seqEvent("all", i))
	}
	notify(t, s.hub, facade.ToUser("nobody"), seqEvent("nobody", 0)) // held
	for _, ws := range clients {
		readN(t, ws, 50)
	}
	require.NoError(t, s.hub.Close())
	s.srv.Close()
	for _, ws := range clients {
		ws.Close()
	}
	require.NotEmpty(t, states)
}
