package builtin_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"

	"github.com/wsunify/wsunify/codemod/recipe"
)

// TestBuiltinAgreesWithGoldenCases holds each call rule of the first step
// to the golden case named after it (../../../testdata/cases/<id>.txtar,
// which runs that rule alone): After, each parameter replaced by the
// source of the matching part of the case's legacy call, is in the
// case's golden output. The golden files say what the engine writes; the
// recipe must say the same.
func TestBuiltinAgreesWithGoldenCases(t *testing.T) {
	t.Parallel()
	r := load(t)
	n := 0
	for _, rule := range r.Rules {
		if rule.Kind != recipe.Method || rule.Step != recipe.StepCallSite {
			continue
		}
		n++
		t.Run(rule.ID, func(t *testing.T) {
			ar, err := txtar.ParseFile(filepath.Join("..", "..", "..", "testdata", "cases", rule.ID+".txtar"))
			require.NoError(t, err)
			files := map[string][]byte{}
			for _, f := range ar.Files {
				files[f.Name] = f.Data
			}
			assert.Contains(t, string(files["flags"]), "-rule "+rule.ID, "the case runs the rule alone")
			var checked int
			for name, src := range files {
				golden, ok := files[name+".golden"]
				if !strings.HasSuffix(name, ".go") || !ok {
					continue
				}
				for _, call := range legacyCalls(t, src, rule.Legacy.Name()) {
					// gofmt spaces binary operators by their depth: compare
					// without spaces.
					want := render(r, rule, call)
					assert.Contains(t, noSpace(string(golden)), noSpace(want), "%s: %s\nwant %s", name, call.text, want)
					checked++
				}
			}
			assert.Positive(t, checked, "the case has a call of %s", rule.Legacy.Name())
		})
	}
	assert.Equal(t, 14, n, "the fourteen call rules of the first step")
}

// A call is a legacy call in a case's source: the source of its receiver
// and of each argument.
type call struct {
	text  string
	parts []string // receiver, then the arguments
}

// legacyCalls finds the calls x.method(...) in src.
func legacyCalls(t *testing.T, src []byte, method string) []call {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "case.go", src, 0)
	require.NoError(t, err)
	text := func(n ast.Node) string {
		return string(src[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset])
	}
	var calls []call
	ast.Inspect(f, func(n ast.Node) bool {
		c, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == method {
			parts := []string{text(sel.X)}
			for _, a := range c.Args {
				parts = append(parts, text(a))
			}
			calls = append(calls, call{text: text(c), parts: parts})
		}
		return true
	})
	return calls
}

// render writes rule's After with each parameter replaced by the part of
// the call at its place: the simplest renderer, enough for calls whose
// parts are on one line and carry no comments.
func render(r *recipe.Recipe, rule *recipe.Rule, c call) string {
	type sub struct {
		start, end int
		text       string
	}
	var subs []sub
	for i, prm := range rule.Params {
		for _, id := range prm.InAfter {
			off := r.Fset.Position(id.Pos()).Offset
			subs = append(subs, sub{off, off + len(id.Name), c.parts[i]})
		}
	}
	slices.SortFunc(subs, func(a, b sub) int { return b.start - a.start })
	start, end := r.Fset.Position(rule.AfterExpr.Pos()).Offset, r.Fset.Position(rule.AfterExpr.End()).Offset
	out := string(r.Src[start:end])
	for _, s := range subs {
		out = out[:s.start-start] + s.text + out[s.end-start:]
	}
	return out
}

func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' {
			return -1
		}
		return r
	}, s)
}
