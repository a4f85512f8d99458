package recipe_test

import (
	"context"
	"go/types"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/codemod/recipe"
)

// pusherRecipe loads the recipe once per test binary: the go command is the
// slow part, and -count=N need not run it N times.
var pusherRecipe = sync.OnceValues(func() (*recipe.Recipe, error) {
	return recipe.LoadFile(context.Background(), "testdata/pusher", "testdata/pusher/recipe.go")
})

// TestPusherRecipe parses a recipe that is not bridge's: a team's own
// Pusher (testdata/pusher, a module of its own) onto facade.Notifier,
// against the team's module.
func TestPusherRecipe(t *testing.T) {
	t.Parallel()
	r, err := pusherRecipe()
	require.NoError(t, err)
	assert.Equal(t, []string{"example.com/pusher/push"}, r.Legacy)
	assert.Equal(t, []string{"push", "push-all", "retype"}, r.IDs())

	q := func(p *types.Package) string { return p.Name() }
	type row struct {
		id, kind, legacy, form, target string
		step                           int
	}
	var got []row
	for _, x := range r.Rules {
		target := ""
		if x.Target != nil {
			target = types.TypeString(x.Target, q)
		}
		got = append(got, row{x.ID, x.Kind.String(), x.Legacy.Name(), x.Form, target, x.Step})
	}
	assert.Equal(t, []row{
		{"push", "method", "Push", "push.Notifier(p).Notify(context.Background(), facade.ToUser(userID), facade.Raw(payload))", "", 1},
		{"push-all", "method", "PushAll", "push.Notifier(p).Notify(context.Background(), facade.ToAll(), facade.Raw(payload))", "", 1},
		{"retype", "retype", "Pusher", "push.Notifier(p)", "facade.Notifier", 2},
		{"retype", "retype", "New", "h", "*facade.Hub", 2},
	}, got)

	push := r.Rule("push")
	assert.Equal(t, "push.Pusher", types.TypeString(push.Recv, q))
	assert.Equal(t, []int{0, 1, 2}, push.Order)

	// The rules' types are the very objects of the imported package.
	var pkg *types.Package
	for _, p := range r.Pkg.Imports() {
		if p.Path() == "example.com/pusher/push" {
			pkg = p
		}
	}
	require.NotNil(t, pkg)
	pusher := pkg.Scope().Lookup("Pusher")
	assert.Same(t, pusher.Type(), push.Recv)
	method, _, _ := types.LookupFieldOrMethod(pusher.Type(), false, pkg, "Push")
	assert.Same(t, method, push.Legacy)
	assert.Same(t, pusher, r.ByID("retype")[0].Legacy)
	assert.Same(t, pkg.Scope().Lookup("New"), r.ByID("retype")[1].Legacy)
}
