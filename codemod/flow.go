package codemod

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
)

// Values that flow into a declaration across calls, struct literals,
// assignments and results. A value of a legacy type that is itself a
// declaration the retype step considers (a variable, a field, a call of a
// function whose result is one) links the two: an edge from the value's
// declaration to the one it flows into. The step then decides the linked
// declarations together:
//
//   - the source is retyped only if the destination is: a facade value
//     does not fit a legacy slot;
//   - a retyped source passes its value as it is, so the destination's
//     facade type must take it (a *facade.Hub fits a facade.Notifier; a
//     facade.Notifier that must fit a *facade.Hub makes the source a
//     *facade.Hub too, if its own values allow it);
//   - a source that keeps its type reaches a retyped destination through
//     the recipe's retype pair of any value (bridge.NotifierOf), where
//     there is one and the value stands alone; a multi-value result has no
//     such place, so there the two go together or not at all.
//
// Every link is found in the one walk of findUses over the program, so
// that the step stays one pass over the files whatever their number.

// flowEdge is a value of from's declaration flowing into to.
type flowEdge struct {
	from, to *decl
	pkg      *Package
	site     ast.Node // the value, or the call of a multi-value result
	// wrap: to can take a legacy value here through the recipe's pair of
	// any value; define: to is declared by := and so takes from's type.
	wrap, define bool
}

// flow is what the retype step knows of the links between declarations.
type flow struct {
	results map[*types.Func][]*decl // the candidate results of a function, by index (nil: none)
	edges   []*flowEdge
	refs    map[ast.Expr]*decl           // a value (unparenthesized) → the declaration it denotes
	multi   map[*decl]bool               // declared by x, err := f(), until a result of f links it
	ifaces  map[string][]*types.TypeName // named interfaces by method name, once a method needs them
	lits    map[*ast.FuncLit][]*decl     // the candidate results of function literals, by index
	classes []*funcClass                 // func types with legacy results (functype.go)
}

func newFlow() *flow {
	return &flow{results: map[*types.Func][]*decl{}, refs: map[ast.Expr]*decl{}, multi: map[*decl]bool{}, lits: map[*ast.FuncLit][]*decl{}}
}

// findResults records the results of legacy types of the functions and
// methods declared in f: unnamed ones here, named ones by findDecls.
func (rt *retyper) findResults(pkg *Package, f *File) {
	for _, dcl := range f.AST.Decls {
		fd, ok := dcl.(*ast.FuncDecl)
		if !ok || fd.Type.Results == nil {
			continue
		}
		fn, _ := pkg.Info.Defs[fd.Name].(*types.Func)
		if fn == nil {
			continue
		}
		sig := fn.Signature()
		i := 0
		for _, field := range fd.Type.Results.List {
			if len(field.Names) > 0 {
				i += len(field.Names)
				continue
			}
			v := sig.Results().At(i)
			if shape, ok := rt.candidate(v); ok {
				id := &ast.Ident{NamePos: field.Type.Pos(), Name: "the result of " + fn.Name()}
				d := &decl{v: v, shape: shape, pkg: pkg, file: f, ident: id, typeExpr: field.Type, kind: declResult, fn: fn, param: i}
				rt.addDecl(d)
				if k, ok := rt.st.kept(rt.prog.Fset, id); ok {
					d.blocked, d.related = k.why, k.related
				}
			}
			i++
		}
	}
}

// candidate reports whether a declaration of v's type is one the retype
// step considers, with its shape.
func (rt *retyper) candidate(v *types.Var) (Shape, bool) {
	shape, ok := rt.l.shapeOf(v.Type())
	if !ok || rt.l.role(shape) == roleNone || (rt.l.role(shape) != roleScope && !types.IsInterface(v.Type())) {
		return "", false
	}
	if _, isPtr := v.Type().(*types.Pointer); isPtr {
		return "", false
	}
	return shape, true
}

// addDecl records d; a result or a method's parameter also by function.
func (rt *retyper) addDecl(d *decl) {
	rt.decls[d.v] = d
	rt.order = append(rt.order, d)
	if d.kind != declResult || d.fn == nil {
		return
	}
	rs := rt.flow.results[d.fn]
	if rs == nil {
		rs = make([]*decl, d.fn.Signature().Results().Len())
		rt.flow.results[d.fn] = rs
	}
	rs[d.param] = d
}

// resultAt is the candidate result k of the function call calls, if any.
func (rt *retyper) resultAt(info *types.Info, e ast.Expr, k int) *decl {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return nil
	}
	if rs := rt.resultsOfCall(info, call); k < len(rs) {
		return rs[k]
	}
	return nil
}

// resultsOfCall are the candidate results of what call calls: a declared
// function, or a value of a func type with legacy results.
func (rt *retyper) resultsOfCall(info *types.Info, call *ast.CallExpr) []*decl {
	switch fn := calleeOf(info, call).(type) {
	case *types.Func:
		return rt.flow.results[fn]
	case *types.Var, nil:
		if c := rt.classOfCall(info, call); c != nil {
			return c.slots
		}
	}
	return nil
}

// link records that the value site, which denotes from, flows into to.
func (rt *retyper) link(from, to *decl, pkg *Package, site ast.Expr, wrap, define bool) {
	if from == to {
		return
	}
	rt.flow.edges = append(rt.flow.edges, &flowEdge{from: from, to: to, pkg: pkg, site: site, wrap: wrap, define: define})
	if wrap {
		rt.flow.refs[ast.Unparen(site)] = from
	}
}

// refOf is the declaration the value of u denotes, if it is one the step
// retypes: the value then stays as it is.
func (rt *retyper) refOf(u useSite) *decl {
	e, ok := u.node.(ast.Expr)
	if !ok {
		return nil
	}
	if s := rt.flow.refs[ast.Unparen(e)]; s != nil && s.blocked == "" {
		return s
	}
	return nil
}

// declOf is the candidate declaration e names (a variable or a field), if
// any.
func (rt *retyper) declOf(info *types.Info, e ast.Expr) *decl {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		v, _ := info.ObjectOf(e).(*types.Var)
		return rt.decls[v]
	case *ast.SelectorExpr:
		if s := info.Selections[e]; s != nil && s.Kind() == types.FieldVal {
			v, _ := s.Obj().(*types.Var)
			return rt.decls[v]
		}
		v, _ := info.Uses[e.Sel].(*types.Var) // a package-level variable
		return rt.decls[v]
	}
	return nil
}

// flowInto records the value e (stack[i] is its parent) of the
// declaration d flowing into another candidate declaration, and reports
// whether it does.
func (rt *retyper) flowInto(d *decl, pkg *Package, stack []ast.Node, i int, e ast.Expr) bool {
	info := pkg.Info
	switch p := stack[i].(type) {
	case *ast.CallExpr:
		k := exprIndex(p.Args, e)
		fn, _ := calleeOf(info, p).(*types.Func)
		if k < 0 || fn == nil {
			return false
		}
		for _, to := range rt.funcs[fn] {
			if to.param == k {
				rt.link(d, to, pkg, e, true, false)
				return true
			}
		}
	case *ast.AssignStmt:
		if k := exprIndex(p.Rhs, e); k >= 0 && len(p.Lhs) == len(p.Rhs) {
			if l, ok := p.Lhs[k].(*ast.Ident); ok && l.Name == "_" {
				return true // _ = x takes any type
			}
			if to := rt.declOf(info, p.Lhs[k]); to != nil {
				id, _ := p.Lhs[k].(*ast.Ident)
				rt.link(d, to, pkg, e, true, id != nil && info.Defs[id] != nil)
				return true
			}
		}
	case *ast.ValueSpec:
		if k := exprIndex(p.Values, e); k >= 0 && len(p.Values) == len(p.Names) {
			if to := rt.declOf(info, p.Names[k]); to != nil {
				rt.link(d, to, pkg, e, true, p.Type == nil)
				return true
			}
		}
	case *ast.KeyValueExpr:
		if _, ok := stack[i-1].(*ast.CompositeLit); ok && p.Value == e {
			if key, ok := p.Key.(*ast.Ident); ok {
				if v, _ := info.Uses[key].(*types.Var); v != nil && v.IsField() && rt.decls[v] != nil {
					rt.link(d, rt.decls[v], pkg, e, true, false)
					return true
				}
			}
		}
	case *ast.CompositeLit:
		if to := rt.positionalField(info, stack[:i+1], exprIndex(p.Elts, e)); to != nil {
			rt.link(d, to, pkg, e, true, false)
			return true
		}
	case *ast.ReturnStmt:
		rs := rt.resultsIn(info, stack[:i])
		if k := exprIndex(p.Results, e); k >= 0 && len(p.Results) == len(rs) && rs[k] != nil {
			rt.link(d, rs[k], pkg, e, true, false)
			return true
		}
	}
	return false
}

// positionalField is the candidate field the k-th element of the struct
// literal at the top of stack sets.
func (rt *retyper) positionalField(info *types.Info, stack []ast.Node, k int) *decl {
	if k < 0 {
		return nil
	}
	t := litType(info, stack)
	if t == nil {
		return nil
	}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	if st, ok := t.Underlying().(*types.Struct); ok && k < st.NumFields() {
		return rt.decls[st.Field(k).Origin()]
	}
	return nil
}

// resultsIn are the candidate results of the innermost function of stack,
// a declared one or a literal (functype.go).
func (rt *retyper) resultsIn(info *types.Info, stack []ast.Node) []*decl {
	for j := len(stack) - 1; j >= 0; j-- {
		switch n := stack[j].(type) {
		case *ast.FuncLit:
			return rt.flow.lits[n]
		case *ast.FuncDecl:
			fn, _ := info.Defs[n.Name].(*types.Func)
			return rt.flow.results[fn]
		}
	}
	return nil
}

// returnUse records the values a return statement gives the candidate
// results of its function.
func (rt *retyper) returnUse(pkg *Package, f *File, stack []ast.Node, ret *ast.ReturnStmt) {
	rs := rt.resultsIn(pkg.Info, stack[:len(stack)-1])
	if rs == nil || len(ret.Results) == 0 {
		return // a bare return gives the named results' own values
	}
	if len(ret.Results) == len(rs) {
		for k, d := range rs {
			if d != nil {
				d.assigns = append(d.assigns, useSite{pkg: pkg, file: f, node: ret.Results[k]})
			}
		}
		return
	}
	// return g(): g's results, each as it is.
	for k, d := range rs {
		if d == nil {
			continue
		}
		if from := rt.resultAt(pkg.Info, ret.Results[0], k); from != nil {
			rt.link(from, d, pkg, ret.Results[0], false, false)
			continue
		}
		if rt.l.role(d.shape) == roleScope && k == 0 {
			if call, ok := ast.Unparen(ret.Results[0]).(*ast.CallExpr); ok && isFunc(pkg.Info, call, rt.l.newUserContext) {
				// return bridge.NewUserExecutionContext(u, t, r)
				d.assigns = append(d.assigns, useSite{pkg: pkg, file: f, node: call})
				continue
			}
		}
		rt.block(d, pkg, ret, "returns the results of a call whose result keeps its legacy type")
	}
}

// resultUse classifies one use of a function with candidate results: a
// call's results flow where the call puts them.
func (rt *retyper) resultUse(pkg *Package, f *File, fn *types.Func, stack []ast.Node) {
	rs := rt.flow.results[fn]
	id := stack[len(stack)-1]
	call, i := calledName(stack)
	switch {
	case call == nil:
		if c := rt.classOf(fn.Signature()); c != nil {
			c.add(rs) // a function value of a func type with legacy results
			if !pkg.Selected && c.blocked == "" {
				c.blocked, c.at, c.pkg = fmt.Sprintf("%s is used as a value in %s, outside the selected packages", fn.Name(), pkg.Path), id, pkg
			}
			return
		}
		rt.blockAll(rs, pkg, id, fmt.Sprintf("%s is used as a value", fn.Name()))
		return
	case !pkg.Selected:
		rt.blockAll(rs, pkg, id, fmt.Sprintf("%s is called from %s, outside the selected packages", fn.Name(), pkg.Path))
		return
	}
	rt.callResults(pkg, f, rs, stack[:i+1], fn.Name())
}

// blockAll keeps every declaration of ds.
func (rt *retyper) blockAll(ds []*decl, pkg *Package, at ast.Node, why string) {
	for _, d := range ds {
		if d != nil {
			rt.block(d, pkg, at, why)
		}
	}
}

// callResults follows the results rs of the call at the top of stack to
// where the call puts them; name is the function's in findings.
func (rt *retyper) callResults(pkg *Package, f *File, rs []*decl, stack []ast.Node, name string) {
	i := len(stack) - 1
	call := stack[i].(*ast.CallExpr)
	i--
	var e ast.Expr = call
	for {
		p, ok := stack[i].(*ast.ParenExpr)
		if !ok {
			break
		}
		e, i = p, i-1
	}
	if len(rs) == 1 {
		if rs[0] != nil {
			rt.refUse(rs[0], pkg, f, stack, i, e, call, "the result of "+name)
		}
		return
	}
	// x, err := f() and x, err = f(): each result goes to its variable.
	var lhs []ast.Expr
	define := false
	switch p := stack[i].(type) {
	case *ast.AssignStmt:
		if len(p.Rhs) == 1 {
			lhs, define = p.Lhs, p.Tok == token.DEFINE
		}
	case *ast.ValueSpec:
		if len(p.Values) == 1 {
			for _, n := range p.Names {
				lhs = append(lhs, n)
			}
			define = p.Type == nil
		}
	case *ast.ReturnStmt:
		if len(p.Results) == 1 {
			return // returnUse links them
		}
	}
	for k, d := range rs {
		if d == nil {
			continue
		}
		if k >= len(lhs) {
			rt.block(d, pkg, call, fmt.Sprintf("the results of %s are used where the retype does not follow them", name))
			continue
		}
		if l, ok := lhs[k].(*ast.Ident); ok && l.Name == "_" {
			continue
		}
		to := rt.declOf(pkg.Info, lhs[k])
		if to == nil {
			rt.block(d, pkg, lhs[k], fmt.Sprintf("the result of %s is stored where the retype does not follow it", name))
			continue
		}
		l, _ := lhs[k].(*ast.Ident)
		rt.link(d, to, pkg, call, false, define && l != nil && pkg.Info.Defs[l] != nil)
		delete(rt.flow.multi, to)
	}
}

// multiValue reports whether the k-th of lhs gets a result of the call
// rhs that the flow links (x, err = f()).
func (rt *retyper) multiValue(info *types.Info, lhs, rhs []ast.Expr, e ast.Expr) bool {
	k := exprIndex(lhs, e)
	return k >= 0 && len(rhs) == 1 && rt.resultAt(info, rhs[0], k) != nil
}

// blockUnlinked keeps the variables declared by x, err := f() whose f has
// no candidate result there.
func (rt *retyper) blockUnlinked() {
	for d := range rt.flow.multi {
		if d.blocked == "" {
			d.blocked = "initialized by a multi-value expression whose function's result keeps its legacy type"
		}
	}
}

// assignable reports whether a value of the facade type a fits a
// declaration of the facade type b.
func (rt *retyper) assignable(a, b newType) bool {
	if a == b {
		return true
	}
	ta, tb := rt.l.targets[a], rt.l.targets[b]
	return ta != nil && tb != nil && types.AssignableTo(ta, tb)
}

// settle propagates the decisions along the edges until they hold: the
// facade types of linked declarations fit each other, a source is retyped
// only with its destination, and a destination that cannot wrap a legacy
// source keeps its type with it. It reports whether anything changed.
func (rt *retyper) settle() bool {
	any := false
	for changed := true; changed; {
		changed = false
		for _, e := range rt.flow.edges {
			from, to := e.from, e.to
			if from.blocked != "" || to.blocked != "" || rt.l.role(from.shape) == roleScope {
				continue
			}
			switch {
			case e.define && from.to != to.to:
				// to has from's type: the more capable of both.
				if rt.assignable(from.to, to.to) {
					retarget(to, from)
				} else {
					retarget(from, to)
				}
				changed = true
			case !rt.assignable(from.to, to.to):
				if rt.assignable(to.to, from.to) {
					retarget(from, to)
					changed = true
				}
			}
		}
		converted := rt.converted()
		for _, d := range rt.order {
			if d.blocked == "" && rt.checkValues(d, converted) {
				changed = true
			}
		}
		for _, e := range rt.flow.edges {
			from, to := e.from, e.to
			switch {
			case from.blocked == "" && to.blocked != "":
				rt.block(from, e.pkg, e.site, fmt.Sprintf("its value flows into %s, which keeps its legacy type", to.ident.Name))
				changed = true
			case from.blocked != "" && to.blocked == "" && !e.wrap:
				rt.block(to, e.pkg, e.site, fmt.Sprintf("its value comes from %s, which keeps its legacy type", from.ident.Name))
				changed = true
			case from.blocked == "" && to.blocked == "" && !rt.assignable(from.to, to.to):
				rt.block(from, e.pkg, e.site, fmt.Sprintf("its value flows into %s, whose facade type it does not fit", to.ident.Name))
				changed = true
			}
		}
		if rt.shareTypes() {
			changed = true
		}
		any = any || changed
	}
	return any
}

// retarget gives d the facade type of like.
func retarget(d, like *decl) { d.to, d.target = like.to, like.target }

// calledName returns the call whose function is the name at the top of
// stack (f or x.f), and the index of the call in stack; nil if the name
// is not called there.
func calledName(stack []ast.Node) (*ast.CallExpr, int) {
	var fun = stack[len(stack)-1]
	i := len(stack) - 2
	if sel, ok := stack[i].(*ast.SelectorExpr); ok && sel.Sel == fun {
		fun, i = sel, i-1
	}
	switch x := stack[i].(type) { // an instantiation: f[int](x)
	case *ast.IndexExpr:
		if x.X == fun {
			fun, i = x, i-1
		}
	case *ast.IndexListExpr:
		if x.X == fun {
			fun, i = x, i-1
		}
	}
	if call, ok := stack[i].(*ast.CallExpr); ok && call.Fun == fun {
		return call, i
	}
	return nil, i
}
