package server_test

import (
	"slices"
	"testing"
	"time"

	"example.com/chatapp/internal/server"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of the service's own connection manager (internal/ws), which
// MIGRATION.md step 2b deletes with it.

// TestConnectDuringRunLegacy is the original bug. The service's own manager
// registers Alice's socket once she is authenticated and writes to it from
// then on: the events of beforeConnect went to a user with no connection and
// vanished without an error; those of duringSetup reached a client that had
// not been told its session exists.
func TestConnectDuringRunLegacy(t *testing.T) {
	t.Parallel()
	srv, out := connectDuringRun(t, server.Config{SetupDelay: 100 * time.Millisecond})
	t.Logf("legacy manager: client received %d of %d agent events, %d lost", len(out.received), out.sent, out.sent-len(out.received))
	assert.Less(t, len(out.received), out.sent, "the race lost nothing")
	assert.Equal(t, slices.Concat(duringSetup, afterReady), out.received)
	assert.Equal(t, len(duringSetup), out.early)
	t.Logf("legacy manager: %d events were written during setup, before connection_established", out.early)
	// Stored and forgotten: the three events and the acknowledgement.
	backlog, ok := srv.Manager().(interface{ Undelivered(userID string) int })
	require.True(t, ok, "the legacy manager keeps a backlog")
	assert.Equal(t, len(beforeConnect)+1, backlog.Undelivered("alice"))
}

func TestChatOverSocketLegacy(t *testing.T) {
	t.Parallel()
	chatOverSocket(t, start(t, false))
}

func TestAuthenticationLegacy(t *testing.T) {
	t.Parallel()

	t.Run("first message", func(t *testing.T) {
		t.Parallel()
		conn := dial(timeout(t), t, start(t, false), "")
		require.NoError(t, conn.WriteJSON(map[string]string{"type": "auth", "token": "tok-alice"}))
		assert.Equal(t, "connection_established", read(t, conn).Type)
	})
	t.Run("bad token", func(t *testing.T) {
		t.Parallel()
		conn := dial(timeout(t), t, start(t, false), "")
		require.NoError(t, conn.WriteJSON(map[string]string{"type": "auth", "token": "stolen"}))
		_, _, err := conn.ReadMessage()
		assert.True(t, websocket.IsCloseError(err, server.CloseUnauthorized), "got %v", err)
	})
}
