package builtin_test

import (
	"context"
	"go/printer"
	"go/token"
	"go/types"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"

	"github.com/wsunify/wsunify/codemod/recipe"
	"github.com/wsunify/wsunify/codemod/recipe/builtin"
)

// load parses the built-in recipe against the module's own bridge and
// facade packages, once per test binary: the go command is the slow part.
var load = func() func(t *testing.T) *recipe.Recipe {
	var (
		once sync.Once
		r    *recipe.Recipe
		err  error
	)
	return func(t *testing.T) *recipe.Recipe {
		t.Helper()
		once.Do(func() {
			fset := token.NewFileSet()
			var pkgs []*packages.Package
			pkgs, err = recipe.LoadImports(context.Background(), ".", fset, builtin.Filename, builtin.Source, recipe.LoadMode)
			if err == nil {
				r, err = builtin.Load(fset, recipe.ImporterOf(pkgs))
			}
		})
		require.NoError(t, err)
		return r
	}
}()

func TestBuiltinRules(t *testing.T) {
	t.Parallel()
	r := load(t)
	type row struct {
		id     string
		kind   recipe.Kind
		step   int
		legacy string // the legacy object, qualified by package name
		form   string
	}
	const notify = "bridge.NotifierOf(m).Notify(ctx, "
	const emit = "bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade."
	want := []row{
		{"send-to-user", recipe.Method, 1, "bridge.WebSocketManager.SendToUser", notify + "facade.ToUser(userID), facade.Raw(msg))"},
		{"send-to-thread", recipe.Method, 1, "bridge.WebSocketManager.SendToThread", notify + "facade.ToThread(threadID), facade.Raw(msg))"},
		{"broadcast", recipe.Method, 1, "bridge.WebSocketManager.Broadcast", notify + "facade.ToAll(), facade.Raw(msg))"},
		{"emit-critical-event", recipe.Method, 1, "bridge.WebSocketManager.EmitCriticalEvent", notify + "facade.ToUser(userID), facade.Critical(eventType, data))"},
		{"is-connection-active", recipe.Method, 1, "bridge.WebSocketManager.IsConnectionActive", "bridge.PresenceOf(m).Connected(userID)"},
		{"get-user-connections", recipe.Method, 1, "bridge.WebSocketManager.GetUserConnections", "bridge.PresenceOf(m).ConnIDs(userID)"},
		{"agent-started", recipe.Method, 1, "bridge.AgentWebSocketBridge.NotifyAgentStarted", emit + "AgentStarted, RunID: runID, Agent: agent, Data: data})"},
		{"agent-thinking", recipe.Method, 1, "bridge.AgentWebSocketBridge.NotifyAgentThinking", emit + "AgentThinking, RunID: runID, Agent: agent, Data: facade.Thought{Reasoning: reasoning, Step: step}})"},
		{"tool-executing", recipe.Method, 1, "bridge.AgentWebSocketBridge.NotifyToolExecuting", emit + "ToolExecuting, RunID: runID, Tool: tool, Agent: agent, Data: data})"},
		{"tool-completed", recipe.Method, 1, "bridge.AgentWebSocketBridge.NotifyToolCompleted", emit + "ToolCompleted, RunID: runID, Tool: tool, Agent: agent, Data: facade.Outcome{Result: result, Elapsed: elapsed}})"},
		{"agent-completed", recipe.Method, 1, "bridge.AgentWebSocketBridge.NotifyAgentCompleted", emit + "AgentCompleted, RunID: runID, Agent: agent, Data: facade.Outcome{Result: result, Elapsed: elapsed}})"},
		{"agent-error", recipe.Method, 1, "bridge.AgentWebSocketBridge.NotifyAgentError", emit + "AgentError, RunID: runID, Agent: agent, Data: data})"},
		{"progress-update", recipe.Method, 1, "bridge.AgentWebSocketBridge.NotifyProgressUpdate", emit + "ProgressUpdate, RunID: runID, Agent: agent, Data: data})"},
		{"custom", recipe.Method, 1, "bridge.AgentWebSocketBridge.NotifyCustom", emit + "Custom, RunID: runID, Agent: agent, Name: name, Data: data})"},
		{"message-type", recipe.Type, 1, "bridge.Message", "map[string]any"},
		{"retype", recipe.Retype, 2, "bridge.WebSocketManager", "bridge.NotifierOf(m)"},
		{"retype", recipe.Retype, 2, "bridge.WebSocketManager", "bridge.PresenceOf(m)"},
		{"retype", recipe.Retype, 2, "bridge.NewWebSocketManager", "h"},
		{"retype", recipe.Retype, 2, "bridge.AgentWebSocketBridge", "bridge.EmitterOf(b)"},
		{"retype", recipe.Retype, 2, "bridge.NewAgentWebSocketBridge", "facade.NewEmitter(n, facade.Scope{UserID: uc.UserID, ThreadID: uc.ThreadID, RunID: uc.RunID})"},
		{"retype", recipe.Retype, 2, "bridge.UserExecutionContext", "facade.Scope{UserID: uc.UserID, ThreadID: uc.ThreadID, RunID: uc.RunID}"},
		{"retype", recipe.Retype, 2, "bridge.NewUserExecutionContext", "facade.NewScope(userID, threadID, runID)"},
		{"retype", recipe.Func, 2, "bridge.NotifierOf", "n"},
		{"retype", recipe.Func, 2, "bridge.PresenceOf", "p"},
		{"retype", recipe.Func, 2, "bridge.EmitterOf", "e"},
	}
	var got []row
	for _, x := range r.Rules {
		got = append(got, row{x.ID, x.Kind, x.Step, x.LegacyName(func(p *types.Package) string { return p.Name() }), x.Form})
	}
	assert.Equal(t, want, got)
	assert.Equal(t, []string{"github.com/wsunify/wsunify/bridge"}, r.Legacy)
	for _, x := range r.Rules {
		for _, prm := range x.Params {
			assert.False(t, prm.Cond, "%s: %s is evaluated unconditionally, as before", x.ID, prm.Name)
			if !prm.Pure {
				assert.Len(t, prm.InAfter, 1, "%s: %s is evaluated once, as before", x.ID, prm.Name)
			}
		}
	}
}

func TestBuiltinRetypeTargets(t *testing.T) {
	t.Parallel()
	r := load(t)
	q := func(p *types.Package) string { return p.Name() }
	var got []string
	for _, x := range r.Rules {
		if x.Kind == recipe.Retype {
			got = append(got, x.LegacyName(q)+" → "+types.TypeString(x.Target, q))
		}
	}
	assert.Equal(t, []string{
		"bridge.WebSocketManager → facade.Notifier",
		"bridge.WebSocketManager → facade.Presence",
		"bridge.NewWebSocketManager → *facade.Hub",
		"bridge.AgentWebSocketBridge → *facade.Emitter",
		"bridge.NewAgentWebSocketBridge → *facade.Emitter",
		"bridge.UserExecutionContext → facade.Scope",
		"bridge.NewUserExecutionContext → facade.Scope",
	}, got)
}

// TestBuiltinPresenceRulesGoThroughPresenceOf: IsConnectionActive and
// GetUserConnections are call rules of the first step on any manager,
// which reach the facade.Presence behind it with bridge.PresenceOf, as the
// manager's retype pair to facade.Presence does; so the engine finds the
// conversion in their After and writes m.Connected(u) once m is retyped.
func TestBuiltinPresenceRulesGoThroughPresenceOf(t *testing.T) {
	t.Parallel()
	r := load(t)
	var presence *recipe.Rule
	for _, x := range r.ByID("retype") {
		if x.Kind == recipe.Retype && x.Form == "bridge.PresenceOf(m)" {
			presence = x
		}
	}
	require.NotNil(t, presence, "the retype pair WebSocketManager → facade.Presence")
	for _, id := range []string{"is-connection-active", "get-user-connections"} {
		x := r.Rule(id)
		require.NotNil(t, x, id)
		assert.Nil(t, x.Via, id)
		assert.Equal(t, recipe.StepCallSite, x.Step, id)
		assert.Equal(t, "WebSocketManager", types.TypeString(x.Recv, func(*types.Package) string { return "" }), id)
		assert.NotNil(t, x.Conversion(0, presence), "%s: After reaches the Presence with bridge.PresenceOf(m)", id)
	}
	assert.Nil(t, r.Rule("send-to-user").Via)
	assert.Equal(t, "github.com/wsunify/wsunify/bridge.WebSocketManager.SendToUser", r.Rule("send-to-user").LegacyName(nil))
	assert.Equal(t, "github.com/wsunify/wsunify/bridge.Message", r.Rule("message-type").LegacyName(nil))
}

// TestBuiltinConversionFolds finds, in the After of
// NewAgentWebSocketBridge's retype, the conversion of the context to a
// facade.Scope, so that the engine writes facade.NewEmitter(n, uc) where uc
// is retyped too (testdata/cases/user-context.txtar).
func TestBuiltinConversionFolds(t *testing.T) {
	t.Parallel()
	r := load(t)
	byLegacy := map[string]*recipe.Rule{}
	for _, x := range r.ByID("retype") {
		byLegacy[x.LegacyName(func(p *types.Package) string { return p.Name() })] = x
	}
	bridge, scope := byLegacy["bridge.NewAgentWebSocketBridge"], byLegacy["bridge.UserExecutionContext"]
	require.NotNil(t, bridge)
	require.NotNil(t, scope)
	e := bridge.Conversion(1, scope)
	require.NotNil(t, e)
	var b strings.Builder
	require.NoError(t, printer.Fprint(&b, token.NewFileSet(), e))
	assert.Equal(t, "facade.Scope{UserID: uc.UserID, ThreadID: uc.ThreadID, RunID: uc.RunID}", b.String())
	assert.Nil(t, bridge.Conversion(0, scope), "n is no context")
	assert.Nil(t, bridge.Conversion(1, byLegacy["bridge.WebSocketManager"]), "a manager's conversion is not in it")
	assert.NotNil(t, r.Rule("agent-started").Conversion(0, byLegacy["bridge.AgentWebSocketBridge"]),
		"bridge.EmitterOf(b) in agent-started's After is how a bridge becomes an Emitter: b, once retyped")
	assert.Nil(t, r.Rule("agent-started").Conversion(0, scope), "b is no context")
}
