package codemod

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// A double is a type of the program that a `var _ L = (*T)(nil)`
// assertion says implements a legacy interface L: a test double, most
// often, recording the legacy calls it receives. The retype keeps the
// assertion (it is what the type is for); doubleReason says what becomes
// of the type, from how the program uses its values:
//
//   - nothing uses a T as an L any more (no legacy call on one, no T
//     handed where an L is expected): T's legacy half and the assertion
//     are removable;
//   - a T reaches the facade only through bridge.NotifierOf,
//     bridge.PresenceOf or bridge.EmitterOf, as the retype leaves a double
//     handed to a retyped parameter: a facadetest.Recorder does the same
//     in the facade's terms, and the finding says which calls to use;
//   - otherwise the finding keeps its reason: T is still an L somewhere.
type doubleUses struct {
	wraps   []Related // bridge.PresenceOf(x) and the like, x a T
	legacy  []Related // legacy calls on a T, T handed where an L is
	unknown []Related // flows the analysis cannot follow
}

// doubleReason returns the reason and related places of the finding of
// the assertion d, or "" to keep the plain one.
func (rt *retyper) doubleReason(d *decl) (string, []Related) {
	tn, u := rt.doubleUsage(d)
	if tn == nil {
		return "", nil
	}
	iface := types.TypeString(d.v.Type(), func(p *types.Package) string { return p.Name() })
	switch {
	case len(u.legacy) > 0 || len(u.unknown) > 0:
		return "", nil
	case len(u.wraps) == 0:
		related := []Related{{Pos: rt.prog.Fset.Position(tn.Pos()), Message: tn.Name() + " is declared here"}}
		related = append(related, rt.methodDecls(legacyMethodsOf(rt.l, tn))...)
		return fmt.Sprintf("it asserts that %s implements %s, and nothing uses %s %s as one any more: "+
			"the assertion and %s's legacy methods can be removed", tn.Name(), iface, article(tn.Name()), tn.Name(), tn.Name()), related
	}
	var with string
	if rt.l.role(d.shape) == roleEmitter {
		with = "a *facadetest.Recorder (github.com/wsunify/wsunify/facade/facadetest) records what its Emitter() emits " +
			"(Events, Types, Sent) and FailOn refuses one type of event"
	} else {
		with = "a *facadetest.Recorder (github.com/wsunify/wsunify/facade/facadetest) is a facade.Presence that records " +
			"what it is sent (Sent, Types, Messages, To) and answers Connected and ConnIDs from SetConns"
	}
	why := fmt.Sprintf("it asserts that %s implements %s, and %s %s reaches the facade only through the bridge's adapter: "+
		"%s; with it in place of %s, the assertion and %s go", tn.Name(), iface, article(tn.Name()), tn.Name(), with, tn.Name(), tn.Name())
	blockers, asked := rt.swapBlockers(tn) // doubleswap.go
	if _, err := rt.recorderType(); err != nil {
		why += fmt.Sprintf("; the retype cannot put one in place of %s: %v", tn.Name(), err)
	}
	if len(blockers) > 0 || asked {
		why += fmt.Sprintf("; the retype puts one in place of %s wherever a test hands it on through NotifierOf or "+
			"EmitterOf and uses it only through methods a Recorder has", tn.Name())
		if asked {
			why += fmt.Sprintf(", not where PresenceOf asks %s who is connected: a Recorder answers from SetConns", tn.Name())
		}
		if len(blockers) > 0 {
			why += fmt.Sprintf("; the uses below keep %s: which Recorder reading says what they say is the test's authors' call", tn.Name())
		}
	}
	return why, append(u.wraps, blockers...)
}

// doubleUsage returns the double d asserts and how the program uses it,
// computed once.
func (rt *retyper) doubleUsage(d *decl) (*types.TypeName, doubleUses) {
	if c, ok := rt.usage[d]; ok {
		return c.tn, c.u
	}
	tn := assertedType(d)
	var u doubleUses
	if tn != nil {
		for _, pkg := range rt.prog.Packages {
			if pkg.Info == nil {
				continue // it no longer depends on a legacy path: no T reaches one from it
			}
			for _, f := range pkg.Files {
				rt.doubleUsesIn(pkg, f, tn, d.ident, &u)
			}
		}
	}
	if rt.usage == nil {
		rt.usage = map[*decl]doubleUsage{}
	}
	rt.usage[d] = doubleUsage{tn, u}
	return tn, u
}

// doubleUsage is a double and its uses.
type doubleUsage struct {
	tn *types.TypeName
	u  doubleUses
}

// article is "an" before a name that starts with a vowel, "a" otherwise.
func article(name string) string {
	if name != "" && strings.ContainsRune("AEIOUaeiou", rune(name[0])) {
		return "an"
	}
	return "a"
}

// assertedType is T of `var _ L = (*T)(nil)`, `T{}`, `&T{}` or `new(T)`.
func assertedType(d *decl) *types.TypeName {
	var value ast.Expr
	ast.Inspect(d.file.AST, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || value != nil {
			return value == nil
		}
		if i := identIndex(vs.Names, d.ident); i >= 0 && i < len(vs.Values) && len(vs.Values) == len(vs.Names) {
			value = vs.Values[i]
		}
		return false
	})
	if value == nil {
		return nil
	}
	info := d.pkg.Info
	switch e := ast.Unparen(value).(type) {
	case *ast.CallExpr: // (*T)(nil), new(T)
		if len(e.Args) != 1 {
			return nil
		}
		if id, ok := ast.Unparen(e.Fun).(*ast.Ident); ok && id.Name == "new" && info.Uses[id] == types.Universe.Lookup("new") {
			return namedOf(typeExprType(info, e.Args[0]))
		}
		return namedOf(typeExprType(info, e.Fun))
	case *ast.UnaryExpr: // &T{}
		if lit, ok := e.X.(*ast.CompositeLit); ok && e.Op == token.AND && lit.Type != nil {
			return namedOf(typeExprType(info, lit.Type))
		}
	case *ast.CompositeLit:
		if e.Type != nil {
			return namedOf(typeExprType(info, e.Type))
		}
	}
	return nil
}

// legacyMethodsOf returns the methods of tn (or *tn) that legacy rules
// name.
func legacyMethodsOf(l *legacy, tn *types.TypeName) []*types.Func {
	var out []*types.Func
	ms := types.NewMethodSet(types.NewPointer(tn.Type()))
	for i := range ms.Len() {
		if fn, ok := ms.At(i).Obj().(*types.Func); ok && len(ms.At(i).Index()) == 1 && l.ruleOf(fn) != nil {
			out = append(out, fn)
		}
	}
	return out
}

// methodDecls returns the places where the program declares fns.
func (rt *retyper) methodDecls(fns []*types.Func) []Related {
	want := map[types.Object]bool{}
	for _, fn := range fns {
		want[fn] = true
	}
	var out []Related
	for _, pkg := range rt.prog.Packages {
		for _, f := range pkg.Files {
			if pkg.Info == nil {
				break
			}
			for _, decl := range f.AST.Decls {
				if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv != nil && want[pkg.Info.Defs[fd.Name]] {
					out = append(out, Related{Pos: rt.prog.Fset.Position(fd.Name.Pos()), Message: "legacy method " + fd.Name.Name})
				}
			}
		}
	}
	return out
}

// isOfType reports whether t is tn's type or a pointer to it.
func isOfType(t types.Type, tn *types.TypeName) bool {
	return t != nil && namedOf(t) == tn
}

// doubleUsesIn adds the uses of values of tn in f to u; assert is the
// assertion's blank identifier, whose value is no use.
func (rt *retyper) doubleUsesIn(pkg *Package, f *File, tn *types.TypeName, assert *ast.Ident, u *doubleUses) {
	info := pkg.Info
	walk(f.AST, func(stack []ast.Node) {
		n := stack[len(stack)-1]
		var e ast.Expr
		switch n := n.(type) {
		case *ast.Ident:
			if v, ok := info.Uses[n].(*types.Var); ok && isOfType(v.Type(), tn) && !v.IsField() {
				e = n
			}
		case *ast.SelectorExpr:
			if s := info.Selections[n]; s != nil && s.Kind() == types.FieldVal && isOfType(s.Type(), tn) {
				e = n
			}
		case *ast.CompositeLit:
			if n.Type != nil && namedOf(typeExprType(info, n.Type)) == tn {
				e = n
			}
		case *ast.CallExpr:
			if t := typeExprType(info, n.Fun); len(n.Args) == 1 && isOfType(t, tn) {
				e = n // a conversion (*T)(x)
			}
		}
		if e == nil || inAssertion(stack, assert) {
			return
		}
		at := []Related{{Pos: rt.prog.Fset.Position(e.Pos()), Message: "a " + tn.Name() + " here"}}
		i := len(stack) - 2
		if sel, ok := stack[i].(*ast.SelectorExpr); ok && sel.Sel == n {
			u.unknown = append(u.unknown, at...) // a package's variable, pkg.V
			return
		}
		var x ast.Expr = e // e with the parentheses, & and * around it
	up:
		for {
			switch p := stack[i].(type) {
			case *ast.ParenExpr:
			case *ast.UnaryExpr:
				if p.Op != token.AND {
					break up
				}
			case *ast.StarExpr:
			default:
				break up
			}
			x, i = stack[i].(ast.Expr), i-1
		}
		switch p := stack[i].(type) {
		case *ast.SelectorExpr: // x.M or x.f
			if p.X != x {
				u.unknown = append(u.unknown, at...)
				return
			}
			s := info.Selections[p]
			if s == nil {
				u.unknown = append(u.unknown, at...)
				return
			}
			if fn, ok := s.Obj().(*types.Func); ok && rt.l.ruleOf(fn) != nil && !inMethodOf(stack, info, tn) {
				u.legacy = append(u.legacy, at...)
			}
		case *ast.CallExpr:
			obj := calleeOf(info, p)
			if obj != nil && (rt.l.isOf(obj) || obj == rt.l.emitterOf) {
				if inMethodOf(stack, info, tn) {
					return // its own legacy methods go with it
				}
				u.wraps = append(u.wraps, Related{Pos: rt.prog.Fset.Position(p.Pos()), Message: "reached through " + obj.Name()})
				return
			}
			fn, ok := obj.(*types.Func)
			k := exprIndex(p.Args, x)
			if !ok || k < 0 || p.Ellipsis.IsValid() {
				u.unknown = append(u.unknown, at...)
				return
			}
			params := fn.Signature().Params()
			if k >= params.Len() {
				u.unknown = append(u.unknown, at...)
				return
			}
			rt.classifyDoubleFlow(params.At(k).Type(), tn, at, u)
		case *ast.AssignStmt, *ast.ValueSpec:
			var lhs ast.Expr
			if a, ok := p.(*ast.AssignStmt); ok {
				if exprIndex(a.Lhs, x) >= 0 {
					return // x = …: assigned to, not used
				}
				if k := exprIndex(a.Rhs, x); k >= 0 && len(a.Lhs) == len(a.Rhs) {
					lhs = a.Lhs[k]
				}
			} else if vs := p.(*ast.ValueSpec); len(vs.Names) == len(vs.Values) {
				if k := exprIndex(vs.Values, x); k >= 0 {
					lhs = vs.Names[k]
				}
			}
			if lhs == nil {
				u.unknown = append(u.unknown, at...)
				return
			}
			var t types.Type
			if id, ok := lhs.(*ast.Ident); ok {
				if obj := info.ObjectOf(id); obj != nil {
					t = obj.Type()
				}
			} else {
				t = exprType(info, lhs)
			}
			rt.classifyDoubleFlow(t, tn, at, u)
		case *ast.KeyValueExpr:
			if id, ok := p.Key.(*ast.Ident); ok && p.Value == x {
				if v, ok := info.Uses[id].(*types.Var); ok {
					rt.classifyDoubleFlow(v.Type(), tn, at, u)
					return
				}
			}
			u.unknown = append(u.unknown, at...)
		case *ast.CompositeLit: // a struct literal without field names
			var st *types.Struct
			if t := typeExprType(info, p.Type); p.Type != nil && t != nil {
				st, _ = t.Underlying().(*types.Struct)
			}
			if k := exprIndex(p.Elts, x); st != nil && k >= 0 && k < st.NumFields() {
				rt.classifyDoubleFlow(st.Field(k).Type(), tn, at, u)
				return
			}
			u.unknown = append(u.unknown, at...)
		case *ast.ExprStmt, *ast.IncDecStmt:
		default:
			u.unknown = append(u.unknown, at...)
		}
	})
}

// classifyDoubleFlow records a value of tn going where a t is expected.
func (rt *retyper) classifyDoubleFlow(t types.Type, tn *types.TypeName, at []Related, u *doubleUses) {
	switch {
	case t == nil:
		u.unknown = append(u.unknown, at...)
	case isOfType(t, tn):
	case rt.isLegacyType(t):
		u.legacy = append(u.legacy, at...)
	case types.IsInterface(t):
		u.unknown = append(u.unknown, at...) // any, or an interface a legacy value may be asserted from
	}
}

func (rt *retyper) isLegacyType(t types.Type) bool {
	_, ok := rt.l.shapeOf(t)
	return ok
}

// inAssertion reports whether the node at the top of stack is in the
// value of the assertion whose blank identifier is assert.
func inAssertion(stack []ast.Node, assert *ast.Ident) bool {
	for _, n := range stack {
		if vs, ok := n.(*ast.ValueSpec); ok && identIndex(vs.Names, assert) >= 0 {
			return true
		}
	}
	return false
}

// inMethodOf reports whether the top of stack is inside a method of tn:
// its legacy methods calling each other go with it.
func inMethodOf(stack []ast.Node, info *types.Info, tn *types.TypeName) bool {
	for _, n := range stack {
		if fd, ok := n.(*ast.FuncDecl); ok && fd.Recv != nil && len(fd.Recv.List) == 1 {
			return namedOf(typeExprType(info, fd.Recv.List[0].Type)) == tn
		}
	}
	return false
}

// assertionReason is the plain reason of an assertion's finding.
const assertionReason = "it asserts that a type implements the legacy interface"

// isAssertion reports whether d is kept as a legacy assertion.
func isAssertion(d *decl) bool { return strings.HasPrefix(d.blocked, assertionReason) }
