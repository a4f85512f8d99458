package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"example.com/chatapp/internal/agent"
	"example.com/chatapp/internal/chat"
	"example.com/chatapp/internal/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsunify/wsunify/bridge"
)

// runEvents is what the agent emits for the two-step plan of the scenario,
// split by when it is emitted.
var (
	beforeConnect = []string{"agent_started", "agent_thinking", "tool_executing"}
	duringSetup   = []string{"tool_completed", "progress_update", "agent_thinking", "tool_executing"}
	afterReady    = []string{"tool_completed", "progress_update", "agent_completed"}
)

// gate is a tool that reports when it starts and returns when released.
type gate struct{ entered, release chan struct{} }

func newGate() *gate { return &gate{make(chan struct{}), make(chan struct{})} }

func (g *gate) tool(ctx context.Context, _ bridge.Message) (any, error) {
	close(g.entered)
	select {
	case <-g.release:
		return "done", nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// outcome is what the client saw of the run.
type outcome struct {
	sent     int
	received []string // agent event types, in arrival order
	// early counts the events that arrived before connection_established.
	// The bridge writes every held event at Ready, just before it: there it
	// is an ordering, not a race.
	early int
}

// connectDuringRun is the original bug's scenario, made deterministic by
// two gated tools. Alice's agent run is under way when she (re)connects:
//
//   - beforeConnect: the run starts and its first tool blocks; Alice has no
//     connection.
//   - duringSetup: Alice's client has connected and authenticated; while
//     the server loads her threads (SetupDelay), the first tool returns and
//     the second starts and blocks.
//   - afterReady: once the client has its connection_established, the
//     second tool returns and the run completes.
//
// The scenario ends when the client reads agent_completed.
func connectDuringRun(t *testing.T, cfg server.Config) (*server.Server, outcome) {
	t.Helper()
	ctx := timeout(t)
	first, second := newGate(), newGate()
	cfg.Tokens = map[string]string{"tok-alice": "alice"}
	cfg.Chat = chat.Options{
		Tools: map[string]agent.Tool{"search_threads": first.tool, "answer": second.tool},
		Plan:  agent.Plan,
	}
	cfg.LoadThreads = func(ctx context.Context, userID string) ([]string, error) {
		close(first.release)
		select {
		case <-second.entered:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return server.SimulatedStore(cfg.SetupDelay)(ctx, userID)
	}
	srv := server.New(cfg)
	hts := httptest.NewServer(srv)
	t.Cleanup(func() {
		assert.NoError(t, srv.Close())
		hts.Close()
	})

	runID, err := srv.Chat().HandleUserMessage(ctx, "alice", "thread-1", "what did we decide?")
	require.NoError(t, err, "a message to a user with no connection is not an error")
	select {
	case <-first.entered:
	case <-ctx.Done():
		t.Fatal("the run did not start")
	}

	conn := dial(ctx, t, hts, "token=tok-alice")

	out := outcome{sent: len(beforeConnect) + len(duringSetup) + len(afterReady)}
	established := false
	for {
		_, data, err := conn.ReadMessage()
		require.NoError(t, err, "the client stopped hearing from the run")
		var msg struct {
			Type      string `json:"type"`
			RunID     string `json:"run_id"`
			AgentName string `json:"agent_name"`
		}
		require.NoError(t, json.Unmarshal(data, &msg))
		switch {
		case msg.Type == "connection_established" && !established:
			established = true
			close(second.release)
		case msg.AgentName != "" && msg.RunID == runID:
			out.received = append(out.received, msg.Type)
			if !established {
				out.early++
			}
		}
		if msg.Type == "agent_completed" {
			return srv, out
		}
	}
}

// TestConnectDuringRun runs the scenario over the bridge (step 2 of
// MIGRATION.md): the same call sites as the legacy manager's. The hub held
// the events for Alice and wrote them when her connection was ready, in
// order; nothing was written before that, nothing was lost.
func TestConnectDuringRun(t *testing.T) {
	t.Parallel()
	srv, out := connectDuringRun(t, server.Config{SetupDelay: 100 * time.Millisecond, UseBridge: true})
	t.Logf("bridge manager: client received %d of %d agent events, %d lost", len(out.received), out.sent, out.sent-len(out.received))
	assert.Equal(t, slices.Concat(beforeConnect, duringSetup, afterReady), out.received)
	st := srv.Hub().Stats()
	assert.Zero(t, st.Rejected+st.Expired+st.Undelivered, "stats: %+v", st)
}
