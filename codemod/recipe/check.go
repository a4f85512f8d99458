package recipe

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"maps"
	"slices"
	"strings"
)

// check type-checks one pair and builds its rule; nil if it is refused.
func (p *parser) check(pr *pair) *Rule {
	if !pr.before.isFn {
		return p.checkType(pr)
	}
	return p.checkFunc(pr)
}

func (p *parser) qualifier(pkg *types.Package) string {
	if pkg == p.r.Pkg {
		return ""
	}
	return pkg.Name()
}

// sigString prints a signature as (params) results, its packages by name.
func (p *parser) sigString(sig *types.Signature) string {
	return strings.TrimPrefix(types.TypeString(sig, p.qualifier), "func")
}

func (p *parser) typeString(t types.Type) string { return types.TypeString(t, p.qualifier) }

// typeDesc prints t, and what it stands for if it is an alias.
func (p *parser) typeDesc(t types.Type) string {
	if u := types.Unalias(t); u != t {
		return p.typeString(t) + " (" + p.typeString(u) + ")"
	}
	return p.typeString(t)
}

// checkType checks a pair of aliases.
func (p *parser) checkType(pr *pair) *Rule {
	b, a := pr.before.ts, pr.after.ts
	info := p.r.Info
	var legacy types.Object
	if sel, ok := ast.Unparen(b.Type).(*ast.SelectorExpr); ok {
		if tn, ok := info.Uses[sel.Sel].(*types.TypeName); ok && tn.Pkg() != nil && tn.Pkg() != p.r.Pkg {
			legacy = tn
		}
	}
	if legacy == nil {
		p.errorf(b.Type.Pos(), "%s must alias a type of a legacy package, as in type %s = pkg.T", b.Name.Name, b.Name.Name)
		return nil
	}
	bt, at := info.TypeOf(b.Type), info.TypeOf(a.Type)
	if !types.Identical(bt, at) {
		p.errorf(a.Name.Pos(), "%s's type %s differs from %s's %s: a type rule replaces a type name by an identical type",
			a.Name.Name, p.typeDesc(at), b.Name.Name, p.typeDesc(bt))
		return nil
	}
	return &Rule{
		ID: pr.id, Doc: pr.doc, Kind: Type, Step: StepCallSite,
		BeforeType: b, AfterType: a, BeforeExpr: b.Type, AfterExpr: a.Type,
		Legacy: legacy, Form: p.oneLine(a.Type),
	}
}

// checkFunc checks a pair of functions.
func (p *parser) checkFunc(pr *pair) *Rule {
	bd, ad := pr.before.fn, pr.after.fn
	info := p.r.Info
	bf, _ := info.Defs[bd.Name].(*types.Func)
	af, _ := info.Defs[ad.Name].(*types.Func)
	if bf == nil || af == nil {
		return nil // redeclared: the type checker said so
	}
	bs, as := bf.Signature(), af.Signature()
	r := &Rule{ID: pr.id, Doc: pr.doc, Kind: Method, Step: StepCallSite, Before: bd, After: ad, Sig: bs}
	if pr.retype {
		r.Step = StepRetype
	}

	ok := p.checkParams(bd, bs)
	ok = p.checkParams(ad, as) && ok
	if !ok {
		return nil
	}
	// Parameters: identical, names included.
	same := bs.Params().Len() == as.Params().Len() && bs.Variadic() == as.Variadic()
	for i := 0; same && i < bs.Params().Len(); i++ {
		same = types.Identical(bs.Params().At(i).Type(), as.Params().At(i).Type())
	}
	// Results: identical, or for a retype pair, different at one place.
	var diff []int
	if bs.Results().Len() == as.Results().Len() {
		for i := range bs.Results().Len() {
			if !types.Identical(bs.Results().At(i).Type(), as.Results().At(i).Type()) {
				diff = append(diff, i)
			}
		}
	} else {
		same = false
	}
	switch {
	case !same:
		p.errorf(ad.Name.Pos(), "%s's signature %s differs from %s's %s", ad.Name.Name, p.sigString(as), bd.Name.Name, p.sigString(bs))
		return nil
	case len(diff) > 0 && !pr.retype:
		p.errorf(ad.Name.Pos(), "%s's signature %s differs from %s's %s (a pair whose results differ must be marked //wsunify:retype)",
			ad.Name.Name, p.sigString(as), bd.Name.Name, p.sigString(bs))
		return nil
	case len(diff) > 1:
		p.errorf(ad.Name.Pos(), "%s's results differ from %s's at %d places; a retype pair changes one result",
			ad.Name.Name, bd.Name.Name, len(diff))
		return nil
	case len(diff) == 1:
		r.Kind = Retype
		r.TargetIndex = diff[0]
		r.Target = as.Results().At(diff[0]).Type()
	}
	for i := range bs.Params().Len() {
		bv, av := bs.Params().At(i), as.Params().At(i)
		if bv.Name() != av.Name() {
			p.errorf(av.Pos(), "%s's parameter %d is named %s, %s's %s: a pair's parameters have the same names",
				ad.Name.Name, i+1, av.Name(), bd.Name.Name, bv.Name())
			ok = false
		}
		r.Params = append(r.Params, &Param{Name: bv.Name(), Var: bv})
	}
	for _, name := range pr.pure {
		i := slices.IndexFunc(r.Params, func(x *Param) bool { return x.Name == name })
		if i < 0 {
			p.errorf(pr.dirPos, "//wsunify:pure names %s, which is not a parameter of %s", name, bd.Name.Name)
			ok = false
			continue
		}
		r.Params[i].Pure = true
	}
	if !ok {
		return nil
	}

	var bok, aok bool
	r.BeforeExpr, bok = p.body(bd, "CALL")
	r.AfterExpr, aok = p.body(ad, "EXPR")
	if !bok || !aok {
		return nil
	}
	if !p.checkBefore(r) || !p.checkAfter(r) {
		return nil
	}
	r.Form = p.oneLine(r.AfterExpr)
	return r
}

// checkParams refuses parameters without a name.
func (p *parser) checkParams(fd *ast.FuncDecl, sig *types.Signature) bool {
	ok := true
	for i := range sig.Params().Len() {
		v := sig.Params().At(i)
		if v.Name() == "" || v.Name() == "_" {
			pos := v.Pos()
			if !pos.IsValid() {
				pos = fd.Type.Params.Pos()
			}
			p.errorf(pos, "%s's parameter %d has no name; every parameter of a rule is named", fd.Name.Name, i+1)
			ok = false
		}
	}
	return ok
}

// body returns the expression of fd's one statement, `return X` or `X`.
func (p *parser) body(fd *ast.FuncDecl, what string) (ast.Expr, bool) {
	if fd.Body == nil {
		p.errorf(fd.Name.Pos(), "%s has no body", fd.Name.Name)
		return nil, false
	}
	if len(fd.Body.List) == 1 {
		switch s := fd.Body.List[0].(type) {
		case *ast.ReturnStmt:
			if len(s.Results) == 1 {
				return s.Results[0], true
			}
		case *ast.ExprStmt:
			return s.X, true
		}
	}
	p.errorf(fd.Body.Lbrace, "%s's body must be one statement, `return %s` or `%s`", fd.Name.Name, what, what)
	return nil, false
}

// paramIndex returns the index of the parameter of sig id refers to, or -1.
func (p *parser) paramIndex(sig *types.Signature, id *ast.Ident) int {
	v, ok := p.r.Info.Uses[id].(*types.Var)
	if !ok {
		return -1
	}
	for i := range sig.Params().Len() {
		if sig.Params().At(i) == v {
			return i
		}
	}
	return -1
}

// checkBefore checks Before's expression: one call of a legacy method on
// the first parameter or of a legacy function, each parameter once, as a
// whole argument (or the receiver), in order; for a retype pair, perhaps
// just a parameter.
func (p *parser) checkBefore(r *Rule) bool {
	info := p.r.Info
	name := r.Before.Name.Name
	e := ast.Unparen(r.BeforeExpr)
	want := fmt.Sprintf("%s's body must call a method of a legacy type on its first parameter, or a function of a legacy package", name)

	if id, ok := e.(*ast.Ident); ok && p.paramIndex(r.Sig, id) >= 0 {
		if r.Kind != Retype {
			p.errorf(id.Pos(), "%s (only a //wsunify:retype pair may return a parameter as it is)", want)
			return false
		}
		t := r.Sig.Results().At(r.TargetIndex).Type()
		if !types.Identical(t, p.r.Info.TypeOf(id)) {
			p.errorf(id.Pos(), "%s returns %s, of type %s, as its %s result", name, id.Name, p.typeString(p.r.Info.TypeOf(id)), p.typeString(t))
			return false
		}
		tn := typeName(t)
		if tn == nil || tn.Pkg() == nil || tn.Pkg() == p.r.Pkg {
			p.errorf(id.Pos(), "%s's result %s is not a type of a legacy package", name, p.typeString(t))
			return false
		}
		r.Legacy = tn
		return p.beforeUses(r)
	}

	call, ok := e.(*ast.CallExpr)
	if !ok {
		p.errorf(e.Pos(), "%s, not %s", want, p.oneLine(e))
		return false
	}
	r.Call = call
	if call.Ellipsis.IsValid() {
		p.errorf(call.Ellipsis, "%s passes a spread argument (...); a rule matches calls of fixed arity", name)
		return false
	}
	if tv, ok := info.Types[call.Fun]; ok && tv.IsType() {
		p.errorf(call.Fun.Pos(), "%s, not a conversion to %s", want, p.oneLine(call.Fun))
		return false
	}
	fun, _ := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if fun == nil {
		p.errorf(call.Fun.Pos(), "%s, not %s", want, p.oneLine(call.Fun))
		return false
	}
	var fn *types.Func
	if sel := info.Selections[fun]; sel != nil {
		switch sel.Kind() {
		case types.MethodVal:
			fn, _ = sel.Obj().(*types.Func)
			if !p.checkRecv(r, fun.X, want) {
				return false
			}
			r.Recv = info.TypeOf(fun.X)
			if r.Kind != Retype {
				r.Kind = Method
			}
		case types.MethodExpr:
			p.errorf(fun.Pos(), "%s calls the method expression %s; call the method on the first parameter", name, p.oneLine(fun))
			return false
		default:
			p.errorf(fun.Pos(), "%s calls the field %s; a rule calls a method or a function", name, fun.Sel.Name)
			return false
		}
	} else if f, ok := info.Uses[fun.Sel].(*types.Func); ok {
		fn = f
		if r.Kind != Retype {
			r.Kind = Func
		}
	}
	if fn == nil {
		p.errorf(fun.Pos(), "%s, not %s", want, p.oneLine(fun))
		return false
	}
	if fn.Pkg() == nil || fn.Pkg() == p.r.Pkg {
		p.errorf(fun.Sel.Pos(), "%s calls %s, which belongs to no legacy package", name, fn.Name())
		return false
	}
	r.Legacy = fn
	if !p.wholeArgs(r, call) {
		return false
	}
	return p.beforeUses(r)
}

// checkRecv checks the receiver x of Before's method call: the first
// parameter, or in the retype step a legacy function's result built from
// parameters.
func (p *parser) checkRecv(r *Rule, x ast.Expr, want string) bool {
	x = ast.Unparen(x)
	name := r.Before.Name.Name
	if id, ok := x.(*ast.Ident); ok {
		switch i := p.paramIndex(r.Sig, id); i {
		case 0:
			return true
		case -1:
			p.errorf(id.Pos(), "%s calls a method on %s; the receiver must be its first parameter", name, id.Name)
		default:
			p.errorf(id.Pos(), "%s calls a method on its parameter %d, %s; the receiver must be its first parameter", name, i+1, id.Name)
		}
		return false
	}
	c, ok := x.(*ast.CallExpr)
	var via *types.Func
	if ok {
		if sel, isSel := ast.Unparen(c.Fun).(*ast.SelectorExpr); isSel && p.r.Info.Selections[sel] == nil {
			via, _ = p.r.Info.Uses[sel.Sel].(*types.Func)
		}
	}
	if via == nil || via.Pkg() == nil || via.Pkg() == p.r.Pkg {
		p.errorf(x.Pos(), "%s calls a method on %s; the receiver must be its first parameter", name, p.oneLine(x))
		return false
	}
	if r.Step != StepRetype {
		p.errorf(x.Pos(), "%s calls a method on a value %s builds; mark the pair //wsunify:retype (a value a legacy function builds is retyped in the retype step)", name, via.Name())
		return false
	}
	if c.Ellipsis.IsValid() {
		p.errorf(c.Ellipsis, "%s passes a spread argument (...); a rule matches calls of fixed arity", name)
		return false
	}
	r.Via = via
	return p.wholeArgs(r, c)
}

// wholeArgs checks that every argument of call is a parameter.
func (p *parser) wholeArgs(r *Rule, call *ast.CallExpr) bool {
	ok := true
	for i, a := range call.Args {
		if id, isID := ast.Unparen(a).(*ast.Ident); isID && p.paramIndex(r.Sig, id) >= 0 {
			continue
		}
		p.errorf(a.Pos(), "argument %d of %s's call is %s; every argument is one of its parameters", i+1, r.Before.Name.Name, p.oneLine(a))
		ok = false
	}
	return ok
}

// beforeUses checks that Before uses each parameter once, in order.
func (p *parser) beforeUses(r *Rule) bool {
	name := r.Before.Name.Name
	var seq []int
	ast.Inspect(r.BeforeExpr, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if i := p.paramIndex(r.Sig, id); i >= 0 {
				seq = append(seq, i)
				if r.Params[i].InBefore == nil {
					r.Params[i].InBefore = id
				}
			}
		}
		return true
	})
	ok := true
	for i, prm := range r.Params {
		if n := count(seq, i); n != 1 {
			if n == 0 {
				p.errorf(prm.Var.Pos(), "%s does not use its parameter %s; each parameter is the receiver or an argument of its call, once", name, prm.Name)
			} else {
				p.errorf(prm.Var.Pos(), "%s uses its parameter %s %d times; each parameter is the receiver or an argument of its call, once", name, prm.Name, n)
			}
			ok = false
		}
	}
	if ok && !slices.IsSorted(seq) {
		names := make([]string, len(seq))
		for i, x := range seq {
			names[i] = r.Params[x].Name
		}
		p.errorf(r.BeforeExpr.Pos(), "%s uses its parameters in the order %s; they must come in the order of the signature",
			name, strings.Join(names, ", "))
		ok = false
	}
	return ok
}

func count(seq []int, x int) int {
	n := 0
	for _, y := range seq {
		if y == x {
			n++
		}
	}
	return n
}

// checkAfter checks After's expression: each parameter once (or, if pure,
// any number of times), nothing declared in the recipe.
func (p *parser) checkAfter(r *Rule) bool {
	name := r.After.Name.Name
	as := p.r.Info.Defs[r.After.Name].(*types.Func).Signature()
	ok := true
	var stack []ast.Node
	ast.Inspect(r.AfterExpr, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		id, isID := n.(*ast.Ident)
		if !isID {
			return true
		}
		if i := p.paramIndex(as, id); i >= 0 {
			if len(r.Params[i].InAfter) == 0 {
				r.Order = append(r.Order, i)
			}
			r.Params[i].InAfter = append(r.Params[i].InAfter, id)
			if conditional(stack) {
				r.Params[i].Cond = true
			}
			return true
		}
		if obj := p.r.Info.Uses[id]; obj != nil && obj.Pkg() == p.r.Pkg && obj.Parent() == p.r.Pkg.Scope() {
			p.errorf(id.Pos(), "%s uses %s, declared in the recipe; the migrated form may use the parameters and imported packages only", name, id.Name)
			ok = false
		}
		return true
	})
	for _, prm := range r.Params {
		if prm.Pure {
			continue
		}
		switch n := len(prm.InAfter); {
		case n == 0:
			p.errorf(as.Params().At(slices.Index(r.Params, prm)).Pos(), "%s does not use the parameter %s; its argument would be dropped (mark it //wsunify:pure %s on %s if that is meant)",
				name, prm.Name, prm.Name, r.Before.Name.Name)
			ok = false
		case n > 1:
			p.errorf(prm.InAfter[1].Pos(), "%s uses the parameter %s %d times; its argument would be evaluated %d times (mark it //wsunify:pure %s on %s if that is meant)",
				name, prm.Name, n, n, prm.Name, r.Before.Name.Name)
			ok = false
		}
	}
	return ok
}

// typeName returns the name of a named type or an alias, or nil.
func typeName(t types.Type) *types.TypeName {
	switch t := t.(type) {
	case *types.Named:
		return t.Obj()
	case *types.Alias:
		return t.Obj()
	}
	return nil
}

// legacyPaths returns the import paths of the packages Before bodies use.
func (p *parser) legacyPaths() []string {
	set := map[string]bool{}
	add := func(obj types.Object) {
		if obj != nil && obj.Pkg() != nil && obj.Pkg() != p.r.Pkg {
			set[obj.Pkg().Path()] = true
		}
	}
	for _, r := range p.r.Rules {
		add(r.Legacy)
		if r.Via != nil {
			add(r.Via)
		}
		ast.Inspect(r.BeforeExpr, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if _, isPkg := p.r.Info.Uses[id].(*types.PkgName); !isPkg {
					if obj := p.r.Info.Uses[id]; obj != nil && obj.Pkg() != nil && obj.Parent() == obj.Pkg().Scope() {
						add(obj)
					}
				}
			}
			return true
		})
	}
	return slices.Sorted(maps.Keys(set))
}

// conditional reports whether the node at the top of stack is evaluated
// only on some paths, or later: in a function literal, or on the right of
// && or ||.
func conditional(stack []ast.Node) bool {
	for i := len(stack) - 2; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.FuncLit:
			return true
		case *ast.BinaryExpr:
			if (n.Op == token.LAND || n.Op == token.LOR) && n.Y == stack[i+1] {
				return true
			}
		}
	}
	return false
}
