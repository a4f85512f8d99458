package codemod

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/ast/astutil"
)

// No silent leftovers: a reference the plan counts under the retype rule
// (a legacy type, bridge.NotifierOf, a legacy constructor) is either part
// of a declaration the step decides on, whose edit or finding answers it,
// or it gets a finding of its own here: bridge.EmitterOf(b) of a test
// double, say, which no declaration of a legacy type holds.

// leftoverMark joins the reference and the reason in a leftover's message.
const leftoverMark = " stays: "

// span is the extent of a node the retype step answers for.
type span struct{ pos, end token.Pos }

// indexAnswered indexes, by file, the extents of every declaration's type
// and values and of every edit of the step (before the files are
// rewritten in parallel).
func (rt *retyper) indexAnswered() {
	rt.spans = map[string][]span{}
	rt.answeredAt = map[token.Position]bool{}
	add := func(f *File, n ast.Node) {
		if f != nil && n != nil {
			rt.spans[f.Name] = append(rt.spans[f.Name], span{n.Pos(), n.End()})
		}
	}
	for _, d := range rt.order {
		add(d.file, d.ident)
		if d.typeExpr != nil {
			add(d.file, d.typeExpr)
		}
		for _, us := range [][]useSite{d.wraps, d.directs, d.hubs, d.assigns, d.args, d.bridges} {
			for _, u := range us {
				add(u.file, u.node)
			}
		}
	}
	// The adapters a test double's assertion names (doubles.go) are
	// answered by its finding.
	rt.doubleWhy = map[*decl]kept{}
	for _, d := range rt.order {
		if d.blocked == "" || !isAssertion(d) {
			continue
		}
		why, related := rt.doubleReason(d)
		rt.doubleWhy[d] = kept{why, related}
		for _, r := range related {
			rt.answeredAt[r.Pos] = true
		}
	}
	for name, eds := range rt.edits {
		for _, ed := range eds {
			rt.spans[name] = append(rt.spans[name], span{ed.target.Pos(), ed.target.End()})
		}
	}
}

// leftover is the finding of the retype-counted reference u of f when no
// declaration answers it, or nil.
func (rt *retyper) leftover(fset *token.FileSet, pkg *Package, f *File, u use) *Finding {
	if rt.l.retype == nil || u.rule != rt.l.retype || !rt.opts.Rules.Has(u.rule.ID) || u.sel == nil {
		return nil
	}
	for _, s := range rt.spans[f.Name] {
		if s.pos <= u.pos && u.pos < s.end {
			return nil
		}
	}
	if p := fset.Position(u.pos); rt.answeredAt[p] {
		return nil
	}
	if p := fset.Position(u.sel.X.Pos()); rt.answeredAt[p] {
		return nil
	}
	name := types.ExprString(u.sel)
	msg := fmt.Sprintf("%s"+leftoverMark+"no declaration of a legacy type that the retype step follows holds it; replace it by hand", name)
	path, _ := astutil.PathEnclosingInterval(f.AST, u.sel.Pos(), u.sel.End())
	for i, n := range path {
		call, ok := n.(*ast.CallExpr)
		if !ok || i == 0 || ast.Unparen(call.Fun) != path[i-1] && call.Fun != path[i-1] {
			continue
		}
		if len(call.Args) == 1 && (rt.l.isOf(calleeOf(pkg.Info, call)) || isFunc(pkg.Info, call, rt.l.emitterOf)) {
			arg := types.ExprString(call.Args[0])
			what := "its argument"
			if t := exprType(pkg.Info, call.Args[0]); t != nil {
				what = fmt.Sprintf("a %s", types.TypeString(t, types.RelativeTo(pkg.Types)))
			}
			msg = fmt.Sprintf("%s(%s)"+leftoverMark+"%s is %s, no declaration of a legacy interface the retype step can change; give it a facade value by hand (a test double: facade/facadetest.Recorder)", name, arg, arg, what)
		}
		break
	}
	return &Finding{Pos: fset.Position(u.pos), Package: pkg.Path, Rule: u.rule.ID, Message: msg}
}

// cachedDouble is the finding of the assertion d of a test double
// (doubles.go), computed once.
func (rt *retyper) cachedDouble(d *decl) (string, []Related) {
	if k, ok := rt.doubleWhy[d]; ok {
		return k.why, k.related
	}
	return rt.doubleReason(d)
}

// sameMessage is the message of a related position that says what the
// finding says.
const sameMessage = "the same"

// mergeLeftovers makes the leftovers of one package that say the same
// (the same double passed in many places) one finding, at the first, with
// the others as related positions.
func mergeLeftovers(fs []Finding) []Finding {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(strings.Compare(a.Pos.Filename, b.Pos.Filename), cmp.Compare(a.Pos.Offset, b.Pos.Offset))
	})
	first := map[[3]string]int{} // package, rule, message → index in out
	var out []Finding
	for _, f := range fs {
		if !strings.Contains(f.Message, leftoverMark) || len(f.Related) > 0 {
			out = append(out, f)
			continue
		}
		k := [3]string{f.Package, f.Rule, f.Message}
		if i, ok := first[k]; ok {
			out[i].Related = append(out[i].Related, Related{Pos: f.Pos, Message: sameMessage})
			continue
		}
		first[k] = len(out)
		out = append(out, f)
	}
	return out
}
