package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/facadetest"
)

// agentCalls calls every method of b once and returns their errors.
func agentCalls(ctx context.Context, b AgentWebSocketBridge) []error {
	return []error{
		b.NotifyAgentStarted(ctx, run, "a", nil),
		b.NotifyAgentThinking(ctx, run, "a", "r", 1),
		b.NotifyToolExecuting(ctx, run, "t", "a", nil),
		b.NotifyToolCompleted(ctx, run, "t", "a", nil, 0),
		b.NotifyAgentCompleted(ctx, run, "a", nil, 0),
		b.NotifyAgentError(ctx, run, "a", nil),
		b.NotifyProgressUpdate(ctx, run, "a", nil),
		b.NotifyCustom(ctx, run, "a", "mine", nil),
	}
}

func TestAgentBridgeNilNotifier(t *testing.T) {
	t.Parallel()
	var nilHub *facade.Hub
	uc := UserExecutionContext{UserID: user, ThreadID: thread, RunID: run}
	for name, n := range map[string]facade.Notifier{"nil": nil, "nil hub": nilHub} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := NewAgentWebSocketBridge(n, uc)
			for i, err := range agentCalls(context.Background(), b) {
				assert.ErrorIs(t, err, facade.ErrNilNotifier, "method %d", i)
			}
			assert.ErrorIs(t, EmitterOf(b).Emit(context.Background(), facade.Event{Type: facade.AgentStarted}), facade.ErrNilNotifier)
		})
	}
}

func TestAgentBridgeRefusesUnusableUser(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", " ", "None", "undefined", "registry"} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			rec := &facadetest.Recorder{}
			b := NewAgentWebSocketBridge(rec, UserExecutionContext{UserID: id, ThreadID: thread, RunID: run})
			for i, err := range agentCalls(context.Background(), b) {
				assert.ErrorIs(t, err, facade.ErrInvalidScope, "method %d", i)
				assert.ErrorContains(t, err, "bridge: agent bridge: ")
			}
			assert.ErrorIs(t, NotifierOf(b).Notify(context.Background(), facade.ToUser(id), facade.Raw(chatMsg)), facade.ErrInvalidScope)
			assert.Empty(t, rec.Take(), "nothing is sent for nobody")
		})
	}
}

func TestNotifyCustomNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"order_refunded", true},
		{"custom", true},
		{"Agent_Started", true}, // not a built-in name: the wire is case-sensitive
		{"", false},
		{"  ", false},
		{"agent_started", false},
		{"agent_thinking", false},
		{"tool_executing", false},
		{"tool_completed", false},
		{"agent_completed", false},
		{"agent_error", false},
		{"agent_death", false},
		{"progress_update", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &facadetest.Recorder{}
			b := NewAgentWebSocketBridge(rec, UserExecutionContext{UserID: user})
			err := b.NotifyCustom(context.Background(), run, "a", tc.name, Message{"k": 1})
			if tc.ok {
				require.NoError(t, err)
				calls := rec.Take()
				require.Len(t, calls, 1)
				assert.Equal(t, tc.name, calls[0].Event.Name)
				return
			}
			assert.ErrorIs(t, err, facade.ErrInvalidEvent)
			assert.ErrorContains(t, err, "bridge: NotifyCustom: ")
			assert.Empty(t, rec.Take())
		})
	}
}

// TestUnmarshalablePayloads checks that a payload encoding/json refuses
// makes the call fail with the JSON error and sends nothing.
func TestUnmarshalablePayloads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bad := Message{"callback": func() {}}
	rec := &facadetest.Recorder{}
	m := &manager{hub: rec}
	b := NewAgentWebSocketBridge(rec, UserExecutionContext{UserID: user})
	for i, err := range []error{
		m.SendToUser(ctx, user, bad),
		m.SendToThread(ctx, thread, bad),
		m.Broadcast(ctx, bad),
		m.EmitCriticalEvent(ctx, user, "alert", bad),
		b.NotifyAgentStarted(ctx, run, "a", bad),
		b.NotifyToolExecuting(ctx, run, "t", "a", bad),
		b.NotifyToolCompleted(ctx, run, "t", "a", bad, 0),
		b.NotifyAgentCompleted(ctx, run, "a", make(chan int), 0),
		b.NotifyProgressUpdate(ctx, run, "a", bad),
		b.NotifyCustom(ctx, run, "a", "mine", bad),
	} {
		var ute *json.UnsupportedTypeError
		assert.ErrorAs(t, err, &ute, "call %d", i)
	}
	assert.Empty(t, rec.Take())
}

func TestNewUserExecutionContext(t *testing.T) {
	t.Parallel()
	rec := &facadetest.Recorder{}
	uc, err := NewUserExecutionContext(user, thread, run, WithRequestID("req-9"), nil, WithNotifier(rec))
	require.NoError(t, err)
	assert.Equal(t, UserExecutionContext{UserID: user, ThreadID: thread, RunID: run, RequestID: "req-9", Notifier: rec}, uc)
	assert.Equal(t, testScope, uc.Scope())

	for _, ids := range [][3]string{
		{"", thread, run}, {user, "", run}, {user, thread, ""},
		{"None", thread, run}, {user, "undefined", run}, {user, thread, "null"}, {"registry", "-", "0"},
	} {
		uc, err := NewUserExecutionContext(ids[0], ids[1], ids[2], WithRequestID("r"))
		_, want := facade.NewScope(ids[0], ids[1], ids[2])
		require.Error(t, want, "facade.NewScope refuses %q", ids)
		assert.ErrorIs(t, err, facade.ErrInvalidScope, "%q", ids)
		assert.Equal(t, "bridge: user execution context: "+want.Error(), err.Error(), "same validation as facade.NewScope")
		assert.Zero(t, uc)
	}
}

func TestManagerOverNilHub(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewWebSocketManager(nil)
	assert.ErrorIs(t, m.SendToUser(ctx, user, chatMsg), facade.ErrNilNotifier)
	assert.ErrorIs(t, m.SendToThread(ctx, thread, chatMsg), facade.ErrNilNotifier)
	assert.ErrorIs(t, m.Broadcast(ctx, chatMsg), facade.ErrNilNotifier)
	assert.ErrorIs(t, m.EmitCriticalEvent(ctx, user, "x", nil), facade.ErrNilNotifier)
	assert.False(t, m.IsConnectionActive(user))
	assert.Nil(t, m.GetUserConnections(user))
}

// TestSendToThreadTargetsTheThread pins the fix of the original's bug, which
// sent a thread's messages to a user whose ID was the thread ID.
func TestSendToThreadTargetsTheThread(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	member := client(t, s, "member", user, thread)
	namesake := client(t, s, "namesake", thread) // a user whose ID is the thread ID
	m := NewWebSocketManager(s.Hub)
	ctx := context.Background()

	require.NoError(t, m.SendToThread(ctx, thread, Message{"to": "thread"}))
	require.NoError(t, m.SendToUser(ctx, thread, Message{"to": "namesake"}))
	assert.Equal(t, `{"to":"thread"}`, read(t, member))
	assert.Equal(t, `{"to":"namesake"}`, read(t, namesake), "the thread's message did not reach the user named like it")
}

func TestConnectionQueriesFollowTheHub(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	m := NewWebSocketManager(s.Hub)
	assert.False(t, m.IsConnectionActive(user))
	assert.Empty(t, m.GetUserConnections(user))
	client(t, s, "c2", user)
	client(t, s, "c1", user)
	assert.True(t, m.IsConnectionActive(user))
	assert.Equal(t, []string{"c1", "c2"}, m.GetUserConnections(user))
	assert.False(t, m.IsConnectionActive("u-2"))
}

// TestLegacyCallsBeforeReadyAreHeld is the race the facade ends, reached
// without touching a call site: events sent before the user's connection is
// ready arrive after it, in order, and nothing is lost.
func TestLegacyCallsBeforeReadyAreHeld(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	m := NewWebSocketManager(s.Hub)
	uc, err := NewUserExecutionContext(user, thread, run)
	require.NoError(t, err)
	b := NewAgentWebSocketBridge(s.Hub, uc)
	ctx := context.Background()
	require.NoError(t, m.SendToUser(ctx, user, Message{"seq": 1}))
	require.NoError(t, b.NotifyAgentStarted(ctx, run, "triage", nil))
	require.NoError(t, m.EmitCriticalEvent(ctx, user, "agent_thinking", Message{"seq": 3}))

	ws := client(t, s, "late", user)
	assert.Equal(t, `{"seq":1}`, read(t, ws))
	assert.Contains(t, read(t, ws), `{"type":"agent_started","run_id":"run-7"`)
	assert.Contains(t, read(t, ws), `"seq":3`)
}

// TestUnmarshalableOverHub checks that a refused payload leaves nothing on
// the wire: the next frame is the next good message, whole.
func TestUnmarshalableOverHub(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ws := client(t, s, "c1", user)
	m := NewWebSocketManager(s.Hub)
	b := NewAgentWebSocketBridge(s.Hub, UserExecutionContext{UserID: user, ThreadID: thread, RunID: run})
	ctx := context.Background()
	var ute *json.UnsupportedTypeError
	require.ErrorAs(t, m.SendToUser(ctx, user, Message{"f": func() {}}), &ute)
	require.ErrorAs(t, b.NotifyProgressUpdate(ctx, run, "a", Message{"c": make(chan int)}), &ute)
	require.NoError(t, m.SendToUser(ctx, user, Message{"ok": true}))
	assert.Equal(t, `{"ok":true}`, read(t, ws))
}

// TestConcurrentShims shares one manager and one agent bridge between
// goroutines over a real hub: every message arrives once, and each
// goroutine's messages in the order it sent them.
func TestConcurrentShims(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ws := client(t, s, "c1", user, thread)
	m := NewWebSocketManager(s.Hub)
	uc, err := NewUserExecutionContext(user, thread, run)
	require.NoError(t, err)
	b := NewAgentWebSocketBridge(s.Hub, uc)
	ctx := context.Background()

	const goroutines, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				seq := Message{"g": g, "i": i}
				var err error
				switch i % 4 {
				case 0:
					err = m.SendToUser(ctx, user, seq)
				case 1:
					err = m.SendToThread(ctx, thread, seq)
				case 2:
					err = m.EmitCriticalEvent(ctx, user, "tick", seq)
				case 3:
					err = b.NotifyProgressUpdate(ctx, run, fmt.Sprint(g), seq)
				}
				if err != nil {
					errs <- err
				}
				m.IsConnectionActive(user)
				m.GetUserConnections(user)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	next := make([]int, goroutines)
	for range goroutines * each {
		var msg struct {
			G, I *int
			Data struct{ G, I *int }
		}
		raw := read(t, ws)
		require.NoError(t, json.Unmarshal([]byte(raw), &msg), raw)
		if msg.G == nil {
			msg.G, msg.I = msg.Data.G, msg.Data.I
		}
		require.NotNil(t, msg.G, raw)
		assert.Equal(t, next[*msg.G], *msg.I, "goroutine %d out of order: %s", *msg.G, raw)
		next[*msg.G] = *msg.I + 1
	}
	for g, n := range next {
		assert.Equal(t, each, n, "goroutine %d", g)
	}
}

// TestShimsHonourContext checks that a done context fails the call with
// the context's error, as the migrated call would.
func TestShimsHonourContext(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	m, b := shims(t, s.Hub)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, m.SendToUser(ctx, user, chatMsg), context.Canceled)
	assert.ErrorIs(t, m.Broadcast(ctx, chatMsg), context.Canceled)
	assert.ErrorIs(t, b.NotifyAgentStarted(ctx, run, "a", nil), context.Canceled)
	assert.ErrorIs(t, s.Hub.Notify(ctx, facade.ToUser(user), facade.Raw(chatMsg)), context.Canceled, "the migrated form")
}
