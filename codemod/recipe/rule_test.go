package recipe_test

import (
	"go/ast"
	"go/token"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/codemod/recipe"
)

const rulesSrc = `package recipe

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

// custom: After names the event before its run, and spans lines.
func customBefore(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agentName, name string, data bridge.Message) error {
	return b.NotifyCustom(ctx, runID, agentName, name, data)
}

func customAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agentName, name string, data bridge.Message) error {
	return bridge.EmitterOf(b).Emit( // a comment, not in the form
		ctx,
		facade.Event{
			Type:  facade.Custom,
			Name:  name,
			RunID: runID,
			Agent: agentName,
			Data:  data,
		},
	)
}

// online: asked of the hub the manager was built from.
//
//wsunify:retype
//wsunify:pure h
func onlineBefore(h *facade.Hub, userID string) bool {
	return bridge.NewWebSocketManager(h).IsConnectionActive(userID)
}

func onlineAfter(h *facade.Hub, userID string) bool {
	return h != nil && h.Connected(userID)
}

// later: After wraps the send in a function literal of two statements.
func laterBefore(m bridge.WebSocketManager, ctx context.Context, msg bridge.Message) error {
	return m.Broadcast(ctx, msg)
}

func laterAfter(m bridge.WebSocketManager, ctx context.Context, msg bridge.Message) error {
	return func(n facade.Notifier) error {
		if n == nil {
			return facade.ErrNilNotifier
		}
		return n.Notify(ctx, facade.ToAll(), facade.Raw(msg))
	}(bridge.NotifierOf(m))
}
`

func TestRuleParamsAndForm(t *testing.T) {
	t.Parallel()
	r, err := parse(t, "rules.go", []byte(rulesSrc))
	require.NoError(t, err)
	require.Len(t, r.Rules, 3)

	c := r.Rule("custom")
	assert.Equal(t, recipe.Method, c.Kind)
	assert.Equal(t, recipe.StepCallSite, c.Step)
	assert.Equal(t, "After names the event before its run, and spans lines.", c.Doc)
	assert.Equal(t, "bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.Custom, Name: name, RunID: runID, Agent: agentName, Data: data})", c.Form)
	assert.Equal(t, []int{0, 1, 4, 2, 3, 5}, c.Order, "the order After first uses the parameters in")
	where := func(ids ...*ast.Ident) []string {
		var out []string
		for _, id := range ids {
			out = append(out, id.Name+"@"+r.Fset.Position(id.Pos()).String())
		}
		return out
	}
	assert.Equal(t, []string{"name@rules.go:12:47"}, where(c.Params[4].InBefore))
	assert.Equal(t, []string{"name@rules.go:20:11"}, where(c.Params[4].InAfter...))
	assert.Nil(t, c.Via)
	assert.Same(t, c.Params[0].Var, c.Sig.Params().At(0))
	assert.Equal(t, "NotifyCustom", c.Legacy.Name())
	assert.Equal(t, "NotifyCustom", c.Call.Fun.(*ast.SelectorExpr).Sel.Name)

	o := r.Rule("online")
	assert.Equal(t, recipe.Method, o.Kind)
	assert.Equal(t, recipe.StepRetype, o.Step)
	require.NotNil(t, o.Via)
	assert.Equal(t, "NewWebSocketManager", o.Via.Name())
	assert.Equal(t, "IsConnectionActive", o.Legacy.Name())
	assert.True(t, o.Params[0].Pure)
	assert.False(t, o.Params[1].Pure)
	assert.Len(t, o.Params[0].InAfter, 2, "a pure parameter may be used twice")
	assert.Equal(t, "h != nil && h.Connected(userID)", o.Form)

	assert.Equal(t, []string{"github.com/wsunify/wsunify/bridge"}, r.Legacy)
	assert.Equal(t, []*recipe.Rule{o}, r.ByID("online"))
	assert.Equal(t, []string{"custom", "online", "later"}, r.IDs())

	l := r.Rule("later")
	assert.Equal(t, "func(n facade.Notifier) error { if n == nil { return facade.ErrNilNotifier }; return n.Notify(ctx, facade.ToAll(), facade.Raw(msg)) }(bridge.NotifierOf(m))", l.Form)
	assert.Equal(t, []int{1, 2, 0}, l.Order, "the literal's body comes before its argument in the source")
	assert.Equal(t, []bool{false, true, true}, []bool{l.Params[0].Cond, l.Params[1].Cond, l.Params[2].Cond}, "ctx and msg are used when the literal runs")
	assert.Equal(t, []bool{true, true}, []bool{o.Params[0].Cond, o.Params[1].Cond}, "h.Connected(userID) is evaluated only if h != nil")
	for _, prm := range c.Params {
		assert.False(t, prm.Cond, prm.Name)
	}
	assert.Nil(t, r.Rule("nothing"))
}

func TestErrorListIsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := parse(t, "bad.go", []byte("package recipe\n\nvar x = 1\n\nfunc fBefore() {}\n"))
	var list recipe.ErrorList
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 2)
	assert.Equal(t, "bad.go:3:1: a recipe holds only imports and rule pairs, not var declarations\nbad.go:5:6: fBefore has no fAfter", err.Error())
	assert.Equal(t, 5, list[1].Pos.Line)
	assert.Equal(t, "fBefore has no fAfter", list[1].Msg, "the message holds no position")
}

func TestParseReadsTheFileWhenSrcIsNil(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "rules.go")
	require.NoError(t, os.WriteFile(file, []byte(rulesSrc), 0o644))
	r, err := recipe.Parse(token.NewFileSet(), file, nil, imports(t))
	require.NoError(t, err)
	assert.Equal(t, rulesSrc, string(r.Src))
	_, err = recipe.Parse(token.NewFileSet(), file+".missing", nil, imports(t))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
