package bridge

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/facadetest"
)

const (
	user   = "u-1"
	thread = "th-1"
	run    = "run-7"
)

var (
	chatMsg    = Message{"type": "user_message", "text": "refund <order> & more", "n": 3}
	errTool    = errors.New("search: <timeout> & gave up")
	toolResult = Message{"hits": 1, "top": Message{"id": "o-42"}}
)

// wireCase is one legacy call with the call the codemod rewrites it to.
// Both must hand the Notifier the same target and event, so that the wire
// bytes (the golden file testdata/<rule>.golden) cannot change.
type wireCase struct {
	rule     string
	to       facade.Target
	legacy   func(ctx context.Context, m WebSocketManager, b AgentWebSocketBridge) error
	migrated func(ctx context.Context, n facade.Notifier, e *facade.Emitter) error
}

var wireCases = []wireCase{
	{
		rule: "send-to-user", to: facade.ToUser(user),
		legacy: func(ctx context.Context, m WebSocketManager, _ AgentWebSocketBridge) error {
			return m.SendToUser(ctx, user, chatMsg)
		},
		migrated: func(ctx context.Context, n facade.Notifier, _ *facade.Emitter) error {
			return n.Notify(ctx, facade.ToUser(user), facade.Raw(chatMsg))
		},
	},
	{
		rule: "send-to-thread", to: facade.ToThread(thread),
		legacy: func(ctx context.Context, m WebSocketManager, _ AgentWebSocketBridge) error {
			return m.SendToThread(ctx, thread, chatMsg)
		},
		migrated: func(ctx context.Context, n facade.Notifier, _ *facade.Emitter) error {
			return n.Notify(ctx, facade.ToThread(thread), facade.Raw(chatMsg))
		},
	},
	{
		rule: "broadcast", to: facade.ToAll(),
		legacy: func(ctx context.Context, m WebSocketManager, _ AgentWebSocketBridge) error {
			return m.Broadcast(ctx, Message{"type": "maintenance", "in_minutes": 5})
		},
		migrated: func(ctx context.Context, n facade.Notifier, _ *facade.Emitter) error {
			return n.Notify(ctx, facade.ToAll(), facade.Raw(map[string]any{"type": "maintenance", "in_minutes": 5}))
		},
	},
	{
		rule: "emit-critical-event", to: facade.ToUser(user),
		legacy: func(ctx context.Context, m WebSocketManager, _ AgentWebSocketBridge) error {
			return m.EmitCriticalEvent(ctx, user, "agent_started", Message{"run_id": run, "agent_name": "triage"})
		},
		migrated: func(ctx context.Context, n facade.Notifier, _ *facade.Emitter) error {
			return n.Notify(ctx, facade.ToUser(user), facade.Critical("agent_started", map[string]any{"run_id": run, "agent_name": "triage"}))
		},
	},
	{
		rule: "agent-started", to: facade.ToUser(user),
		legacy: func(ctx context.Context, _ WebSocketManager, b AgentWebSocketBridge) error {
			return b.NotifyAgentStarted(ctx, run, "triage", Message{"query": "refund"})
		},
		migrated: func(ctx context.Context, _ facade.Notifier, e *facade.Emitter) error {
			return e.Emit(ctx, facade.Event{Type: facade.AgentStarted, RunID: run, Agent: "triage", Data: map[string]any{"query": "refund"}})
		},
	},
	{
		rule: "agent-thinking", to: facade.ToUser(user),
		legacy: func(ctx context.Context, _ WebSocketManager, b AgentWebSocketBridge) error {
			return b.NotifyAgentThinking(ctx, run, "triage", "Looking up the order", 2)
		},
		migrated: func(ctx context.Context, _ facade.Notifier, e *facade.Emitter) error {
			return e.Emit(ctx, facade.Event{Type: facade.AgentThinking, RunID: run, Agent: "triage", Data: facade.Thought{Reasoning: "Looking up the order", Step: 2}})
		},
	},
	{
		rule: "tool-executing", to: facade.ToUser(user),
		legacy: func(ctx context.Context, _ WebSocketManager, b AgentWebSocketBridge) error {
			return b.NotifyToolExecuting(ctx, run, "search", "triage", Message{"q": "order 42"})
		},
		migrated: func(ctx context.Context, _ facade.Notifier, e *facade.Emitter) error {
			return e.Emit(ctx, facade.Event{Type: facade.ToolExecuting, RunID: run, Tool: "search", Agent: "triage", Data: map[string]any{"q": "order 42"}})
		},
	},
	{
		rule: "tool-completed", to: facade.ToUser(user),
		legacy: func(ctx context.Context, _ WebSocketManager, b AgentWebSocketBridge) error {
			return b.NotifyToolCompleted(ctx, run, "search", "triage", toolResult, 1500*time.Microsecond)
		},
		migrated: func(ctx context.Context, _ facade.Notifier, e *facade.Emitter) error {
			return e.Emit(ctx, facade.Event{Type: facade.ToolCompleted, RunID: run, Tool: "search", Agent: "triage", Data: facade.Outcome{Result: toolResult, Elapsed: 1500 * time.Microsecond}})
		},
	},
	{
		rule: "agent-completed", to: facade.ToUser(user),
		legacy: func(ctx context.Context, _ WebSocketManager, b AgentWebSocketBridge) error {
			return b.NotifyAgentCompleted(ctx, run, "triage", "refunded", 2*time.Second)
		},
		migrated: func(ctx context.Context, _ facade.Notifier, e *facade.Emitter) error {
			return e.Emit(ctx, facade.Event{Type: facade.AgentCompleted, RunID: run, Agent: "triage", Data: facade.Outcome{Result: "refunded", Elapsed: 2 * time.Second}})
		},
	},
	{
		rule: "agent-error", to: facade.ToUser(user),
		legacy: func(ctx context.Context, _ WebSocketManager, b AgentWebSocketBridge) error {
			return b.NotifyAgentError(ctx, run, "triage", errTool)
		},
		migrated: func(ctx context.Context, _ facade.Notifier, e *facade.Emitter) error {
			return e.Emit(ctx, facade.Event{Type: facade.AgentError, RunID: run, Agent: "triage", Data: errTool})
		},
	},
	{
		rule: "progress-update", to: facade.ToUser(user),
		legacy: func(ctx context.Context, _ WebSocketManager, b AgentWebSocketBridge) error {
			return b.NotifyProgressUpdate(ctx, run, "triage", Message{"percent": 50, "stage": "refund"})
		},
		migrated: func(ctx context.Context, _ facade.Notifier, e *facade.Emitter) error {
			return e.Emit(ctx, facade.Event{Type: facade.ProgressUpdate, RunID: run, Agent: "triage", Data: map[string]any{"percent": 50, "stage": "refund"}})
		},
	},
	{
		rule: "custom", to: facade.ToUser(user),
		legacy: func(ctx context.Context, _ WebSocketManager, b AgentWebSocketBridge) error {
			return b.NotifyCustom(ctx, run, "triage", "order_refunded", Message{"order": 42})
		},
		migrated: func(ctx context.Context, _ facade.Notifier, e *facade.Emitter) error {
			return e.Emit(ctx, facade.Event{Type: facade.Custom, Name: "order_refunded", RunID: run, Agent: "triage", Data: map[string]any{"order": 42}})
		},
	},
}

var testScope = facade.Scope{UserID: user, ThreadID: thread, RunID: run}

// shims returns the legacy shapes over n, as a program builds them; a
// a facadetest.Recorder stands in for the hub under the manager.
func shims(t *testing.T, n facade.Notifier) (WebSocketManager, AgentWebSocketBridge) {
	t.Helper()
	uc, err := NewUserExecutionContext(user, thread, run)
	require.NoError(t, err)
	var m WebSocketManager
	if h, ok := n.(*facade.Hub); ok {
		m = NewWebSocketManager(h)
	} else {
		m = &manager{hub: n.(facade.Presence)}
	}
	return m, NewAgentWebSocketBridge(n, uc)
}

// golden returns the wire bytes of testdata/<rule>.golden, rewriting the
// file with got under -update.
func golden(t *testing.T, rule string, got []byte) string {
	t.Helper()
	path := filepath.Join("testdata", rule+".golden")
	if *update && got != nil {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create the golden file")
	require.NotEmpty(t, want)
	return string(want[:len(want)-1])
}

// TestShimsEmitMigratedForm checks each legacy method against the call the
// codemod writes for it: same target, same event, same wire bytes.
func TestShimsEmitMigratedForm(t *testing.T) {
	t.Parallel()
	for _, tc := range wireCases {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rec := &facadetest.Recorder{}
			m, b := shims(t, rec)
			require.NoError(t, tc.legacy(ctx, m, b))
			require.NoError(t, tc.migrated(ctx, rec, facade.NewEmitter(rec, testScope)))
			calls := rec.Take()
			require.Len(t, calls, 2)
			assert.Equal(t, tc.to, calls[0].To, "target")
			assert.Equal(t, calls[1], calls[0], "legacy call and migrated call differ")

			got, err := facade.EncodeEvent(calls[0].Event, facade.EncodingLegacy, wireTime)
			require.NoError(t, err)
			assert.Equal(t, golden(t, tc.rule, got), string(got))
		})
	}
}

// TestShimsOverHub sends every legacy call through a real hub to a real
// client over loopback and compares each frame with its golden file; then
// the migrated calls, which must put the same bytes on the wire.
func TestShimsOverHub(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ws := client(t, s, "c1", user, thread)
	m, b := shims(t, s.Hub)
	e := facade.NewEmitter(s.Hub, testScope)
	ctx := context.Background()
	for _, tc := range wireCases {
		want := golden(t, tc.rule, nil)
		require.NoError(t, tc.legacy(ctx, m, b), tc.rule)
		assert.Equal(t, want, read(t, ws), "legacy %s", tc.rule)
		require.NoError(t, tc.migrated(ctx, s.Hub, e), tc.rule)
		assert.Equal(t, want, read(t, ws), "migrated %s", tc.rule)
	}
}
