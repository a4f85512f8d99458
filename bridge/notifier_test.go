package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/facadetest"
)

// call is one call of a legacy method on a team's own implementation.
type call struct {
	method string
	args   []any
}

// calls records legacy calls.
type calls struct {
	mu  sync.Mutex
	got []call
}

func (c *calls) add(method string, args ...any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, call{method, args})
	return nil
}

func (c *calls) taken() []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := c.got
	c.got = nil
	return got
}

// teamManager is a team's own WebSocketManager: a test double that records.
type teamManager struct{ *calls }

func (m teamManager) SendToUser(_ context.Context, u string, msg Message) error {
	return m.add("SendToUser", u, msg)
}
func (m teamManager) SendToThread(_ context.Context, th string, msg Message) error {
	return m.add("SendToThread", th, msg)
}
func (m teamManager) EmitCriticalEvent(_ context.Context, u, typ string, data Message) error {
	return m.add("EmitCriticalEvent", u, typ, data)
}
func (m teamManager) Broadcast(_ context.Context, msg Message) error {
	return m.add("Broadcast", msg)
}
func (m teamManager) IsConnectionActive(u string) bool {
	_ = m.add("IsConnectionActive", u)
	return true
}
func (m teamManager) GetUserConnections(u string) []string {
	_ = m.add("GetUserConnections", u)
	return []string{"c1"}
}

// teamBridge is a team's own AgentWebSocketBridge that records.
type teamBridge struct{ *calls }

func (b teamBridge) NotifyAgentStarted(_ context.Context, run, agent string, c Message) error {
	return b.add("NotifyAgentStarted", run, agent, c)
}
func (b teamBridge) NotifyAgentThinking(_ context.Context, run, agent, reasoning string, step int) error {
	return b.add("NotifyAgentThinking", run, agent, reasoning, step)
}
func (b teamBridge) NotifyToolExecuting(_ context.Context, run, tool, agent string, p Message) error {
	return b.add("NotifyToolExecuting", run, tool, agent, p)
}
func (b teamBridge) NotifyToolCompleted(_ context.Context, run, tool, agent string, result any, d time.Duration) error {
	return b.add("NotifyToolCompleted", run, tool, agent, result, d)
}
func (b teamBridge) NotifyAgentCompleted(_ context.Context, run, agent string, result any, d time.Duration) error {
	return b.add("NotifyAgentCompleted", run, agent, result, d)
}
func (b teamBridge) NotifyAgentError(_ context.Context, run, agent string, err error) error {
	return b.add("NotifyAgentError", run, agent, err)
}
func (b teamBridge) NotifyProgressUpdate(_ context.Context, run, agent string, p Message) error {
	return b.add("NotifyProgressUpdate", run, agent, p)
}
func (b teamBridge) NotifyCustom(_ context.Context, run, agent, typ string, data Message) error {
	return b.add("NotifyCustom", run, agent, typ, data)
}

// teamBoth has both shapes, as some teams' notification services do.
type teamBoth struct {
	teamManager
	teamBridge
}

func newTeam() (*calls, teamManager, teamBridge, teamBoth) {
	c := &calls{}
	return c, teamManager{c}, teamBridge{c}, teamBoth{teamManager{c}, teamBridge{c}}
}

// TestNotifierOfHalfMigrated runs each legacy call on a team's own
// implementation, then its migrated form through NotifierOf and EmitterOf
// on the same value: the implementation must see the same calls.
func TestNotifierOfHalfMigrated(t *testing.T) {
	t.Parallel()
	for _, tc := range wireCases {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c, m, b, both := newTeam()
			require.NoError(t, tc.legacy(ctx, m, b))
			want := c.taken()
			require.Len(t, want, 1)

			require.NoError(t, tc.migrated(ctx, NotifierOf(m), EmitterOf(b)), "separate shapes")
			assert.Equal(t, want, c.taken())
			require.NoError(t, tc.migrated(ctx, NotifierOf(both), EmitterOf(both)), "both shapes")
			assert.Equal(t, want, c.taken())
		})
	}
}

func TestNotifierOfLegacyManager(t *testing.T) {
	t.Parallel()
	type shaped struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	for _, tc := range []struct {
		name string
		to   facade.Target
		ev   facade.Event
		want call
		err  error
	}{
		{"raw nil message", facade.ToUser(user), facade.Raw(Message(nil)), call{"SendToUser", []any{user, Message(nil)}}, nil},
		{"raw struct as map", facade.ToUser(user), facade.Raw(shaped{1, "x"}), call{"SendToUser", []any{user, Message{"a": json.Number("1"), "b": "x"}}}, nil},
		{"critical non-map data", facade.ToUser(user), facade.Critical("alert", []int{1}), call{"EmitCriticalEvent", []any{user, "alert", Message{"data": []int{1}}}}, nil},
		{"critical nil data", facade.ToUser(user), facade.Critical("alert", nil), call{"EmitCriticalEvent", []any{user, "alert", Message(nil)}}, nil},
		{"raw to a conn", facade.ToConn("c1"), facade.Raw(chatMsg), call{}, ErrUnsupported},
		{"zero target", facade.Target{}, facade.Raw(chatMsg), call{}, ErrUnsupported},
		{"raw string", facade.ToUser(user), facade.Raw("hello"), call{}, ErrUnsupported},
		{"raw unmarshalable", facade.ToUser(user), facade.Raw(func() {}), call{}, &json.UnsupportedTypeError{}},
		{"typed unmarshalable", facade.ToUser(user), facade.Event{Type: facade.ProgressUpdate, Data: Message{"c": make(chan int)}}, call{}, &json.UnsupportedTypeError{}},
		{"typed invalid", facade.ToUser(user), facade.Event{}, call{}, facade.ErrInvalidEvent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, m, _, _ := newTeam()
			err := NotifierOf(m).Notify(context.Background(), tc.to, tc.ev)
			got := c.taken()
			if tc.err != nil {
				var ute *json.UnsupportedTypeError
				if errors.As(tc.err, &ute) {
					assert.ErrorAs(t, err, &ute, "the JSON error")
				} else {
					assert.ErrorIs(t, err, tc.err)
				}
				assert.Empty(t, got, "nothing reaches the legacy implementation")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []call{tc.want}, got)
		})
	}
}

// TestNotifierOfLegacyManagerEnvelopes checks the events a legacy manager
// has no method for: they arrive as the legacy envelope, as a message.
func TestNotifierOfLegacyManagerEnvelopes(t *testing.T) {
	t.Parallel()
	c, m, _, _ := newTeam()
	n := NotifierOf(m)
	ctx := context.Background()
	require.NoError(t, n.Notify(ctx, facade.ToThread(thread), facade.Critical("agent_started", Message{"run_id": run})))
	require.NoError(t, n.Notify(ctx, facade.ToAll(), facade.Event{Type: facade.AgentStarted, RunID: run, UserID: user, Agent: "triage", Data: Message{"n": 1.5}}))
	got := c.taken()
	require.Len(t, got, 2)

	assert.Equal(t, "SendToThread", got[0].method)
	crit := got[0].args[1].(Message)
	assert.Equal(t, []any{"agent_started", true, run}, []any{crit["type"], crit["critical"], crit["run_id"]})
	assert.Contains(t, crit, "timestamp")

	assert.Equal(t, "Broadcast", got[1].method)
	env := got[1].args[0].(Message)
	assert.Equal(t, "agent_started", env["type"])
	assert.Equal(t, "triage", env["agent_name"])
	assert.Equal(t, map[string]any{"status": "started", "context": map[string]any{"n": json.Number("1.5")}, "message": "triage started"}, env["data"])
}

func TestNotifierOfLegacyBridge(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		to   facade.Target
		ev   facade.Event
		want call
		err  error
	}{
		{"error from a Failure", facade.ToUser(user), facade.Event{Type: facade.AgentError, RunID: run, Agent: "a", Data: facade.Failure{Err: boom}}, call{"NotifyAgentError", []any{run, "a", boom}}, nil},
		{"nil error", facade.ToUser(user), facade.Event{Type: facade.AgentError, RunID: run, Agent: "a"}, call{"NotifyAgentError", []any{run, "a", error(nil)}}, nil},
		{"struct context", facade.ToUser(""), facade.Event{Type: facade.AgentStarted, RunID: run, Agent: "a", Data: struct{ Q string }{"x"}}, call{"NotifyAgentStarted", []any{run, "a", Message{"Q": "x"}}}, nil},
		{"agent death", facade.ToUser(user), facade.Event{Type: facade.AgentDeath, RunID: run}, call{}, ErrUnsupported},
		{"thinking without a Thought", facade.ToUser(user), facade.Event{Type: facade.AgentThinking, Data: "hm"}, call{}, ErrUnsupported},
		{"completed without an Outcome", facade.ToUser(user), facade.Event{Type: facade.AgentCompleted, Data: 1}, call{}, ErrUnsupported},
		{"tool completed without an Outcome", facade.ToUser(user), facade.Event{Type: facade.ToolCompleted}, call{}, ErrUnsupported},
		{"error of another type", facade.ToUser(user), facade.Event{Type: facade.AgentError, Data: 7}, call{}, ErrUnsupported},
		{"progress not an object", facade.ToUser(user), facade.Event{Type: facade.ProgressUpdate, Data: 50}, call{}, ErrUnsupported},
		{"thread target", facade.ToThread(thread), facade.Event{Type: facade.AgentStarted}, call{}, ErrUnsupported},
		{"raw message", facade.ToUser(user), facade.Raw(chatMsg), call{}, ErrUnsupported},
		{"critical event", facade.ToUser(user), facade.Critical("x", nil), call{}, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _, b, _ := newTeam()
			err := NotifierOf(b).Notify(context.Background(), tc.to, tc.ev)
			got := c.taken()
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []call{tc.want}, got)
		})
	}
}

func TestNotifierOfOwnValues(t *testing.T) {
	t.Parallel()
	h := facade.NewHub(nil)
	t.Cleanup(func() { require.NoError(t, h.Close()) })
	rec := &facadetest.Recorder{}
	uc := UserExecutionContext{UserID: user, ThreadID: thread, RunID: run}

	assert.Same(t, h, NotifierOf(NewWebSocketManager(h)), "a manager's hub")
	b := NewAgentWebSocketBridge(rec, uc)
	e := EmitterOf(b)
	assert.Same(t, e, NotifierOf(b), "a bridge's emitter")
	assert.Equal(t, testScope, e.Scope())
	assert.Same(t, rec, e.Notifier())
	assert.Same(t, rec, NotifierOf(rec), "a Notifier is itself")
	assert.Same(t, e, EmitterOf(e), "an Emitter is itself")
	assert.Equal(t, rec.Emitter().Scope(), EmitterOf(rec).Scope(), "a value's own Emitter")
	assert.Same(t, rec, EmitterOf(rec).Notifier())
	uc.Notifier = rec
	assert.Same(t, rec, NotifierOf(uc), "a context's Notifier")

	// What NotifierOf returns for a bridge value sends what the bridge sends.
	ctx := context.Background()
	require.NoError(t, b.NotifyAgentStarted(ctx, run, "a", nil))
	require.NoError(t, e.Emit(ctx, facade.Event{Type: facade.AgentStarted, RunID: run, Agent: "a"}))
	calls := rec.Take()
	require.Len(t, calls, 2)
	assert.Equal(t, calls[0].To, calls[1].To)
	assert.Equal(t, wire(t, calls[0].Event), wire(t, calls[1].Event))
}

// wire returns the legacy wire form of ev at wireTime.
func wire(t *testing.T, ev facade.Event) string {
	t.Helper()
	b, err := facade.EncodeEvent(ev, facade.EncodingLegacy, wireTime)
	require.NoError(t, err)
	return string(b)
}

func TestNotifierOfNothingToSendThrough(t *testing.T) {
	t.Parallel()
	var nilHub *facade.Hub
	var nilManager *teamManager
	var nilEmitter *facade.Emitter
	for _, tc := range []struct {
		name string
		x    any
		err  error
	}{
		{"nil", nil, facade.ErrNilNotifier},
		{"nil hub", nilHub, facade.ErrNilNotifier},
		{"manager over a nil hub", NewWebSocketManager(nil), facade.ErrNilNotifier},
		{"bridge over nil", NewAgentWebSocketBridge(nil, UserExecutionContext{UserID: user}), facade.ErrNilNotifier},
		{"nil legacy pointer", nilManager, facade.ErrNilNotifier},
		{"nil emitter", nilEmitter, facade.ErrNilNotifier},
		{"context without notifier", UserExecutionContext{UserID: user}, facade.ErrNilNotifier},
		{"not a notifier", 42, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			n := NotifierOf(tc.x)
			require.NotNil(t, n)
			assert.ErrorIs(t, n.Notify(ctx, facade.ToUser(user), facade.Raw(chatMsg)), tc.err)
			e := EmitterOf(tc.x)
			require.NotNil(t, e)
			assert.ErrorIs(t, e.Emit(ctx, facade.Event{Type: facade.AgentStarted}), tc.err)
		})
	}
}

// TestNotifierOfConcurrent shares one adapter between goroutines under
// -race: every call reaches the team's implementation once.
func TestNotifierOfConcurrent(t *testing.T) {
	t.Parallel()
	c, _, _, both := newTeam()
	n, e := NotifierOf(both), EmitterOf(both)
	const goroutines, each = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			ctx := context.Background()
			for i := range each {
				assert.NoError(t, n.Notify(ctx, facade.ToUser(user), facade.Raw(Message{"g": g, "i": i})))
				assert.NoError(t, e.Emit(ctx, facade.Event{Type: facade.ProgressUpdate, RunID: run, Data: Message{"g": g}}))
			}
		})
	}
	wg.Wait()
	perMethod := map[string]int{}
	for _, got := range c.taken() {
		perMethod[got.method]++
	}
	assert.Equal(t, map[string]int{"SendToUser": goroutines * each, "NotifyProgressUpdate": goroutines * each}, perMethod)
}

// onlySends has two of the manager's methods, as a team's own type mapped
// with `wsunify -shape WebSocketManager=...` may.
type onlySends struct{ got []string }

func (o *onlySends) SendToUser(_ context.Context, userID string, msg Message) error {
	o.got = append(o.got, "user:"+userID)
	return nil
}

func (o *onlySends) NotifyAgentError(_ context.Context, runID, agentName string, err error) error {
	o.got = append(o.got, "error:"+runID+":"+err.Error())
	return nil
}

func TestNotifierOfAdaptsAPartialShapeMethodByMethod(t *testing.T) {
	t.Parallel()
	o := &onlySends{}
	n := NotifierOf(o)
	ctx := context.Background()
	require.NoError(t, n.Notify(ctx, facade.ToUser("u1"), facade.Raw(map[string]any{"k": 1})))
	require.NoError(t, n.Notify(ctx, facade.ToUser("u1"), facade.Event{Type: facade.AgentError, RunID: "r1", Data: errors.New("boom")}))
	err := n.Notify(ctx, facade.ToThread("t1"), facade.Raw(map[string]any{"k": 1}))
	require.ErrorIs(t, err, ErrUnsupported)
	assert.Contains(t, err.Error(), "SendToThread")
	err = n.Notify(ctx, facade.ToUser("u1"), facade.Event{Type: facade.AgentStarted, RunID: "r1"})
	require.ErrorIs(t, err, ErrUnsupported)
	assert.Equal(t, []string{"user:u1", "error:r1:boom"}, o.got)
}
