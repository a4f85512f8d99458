package codemod

import (
	"fmt"
	"go/ast"
	"go/types"
)

// Func types with results of a legacy type, such as
//
//	type BridgeFunc func(user, thread, run string) (bridge.AgentWebSocketBridge, error)
//
// The codemod keeps no type of an arbitrary expression, so it cannot follow
// one function value from the literal that makes it to the call that
// calls it. It follows the signature instead: every func type, function
// literal and function used as a value whose signature is identical to
// one with legacy results belongs to one class, and the results of a
// class change together or not at all. Identical types before the step
// are identical after it, so every assignment between them still
// compiles; the calls through values of the class give their results to
// variables as a declared function's calls do (flow.go).

// funcClass is the signatures identical to sig.
type funcClass struct {
	sig     *types.Signature
	slots   []*decl   // by result index: the first member's candidate result (the calls' results flow from it)
	members [][]*decl // each member's candidate results, by index
	blocked string    // why no member changes, "" if they may
	at      ast.Node
	pkg     *Package
}

// add makes rs, the candidate results of a function, a member of c.
func (c *funcClass) add(rs []*decl) {
	if c.slots == nil {
		c.slots = rs
	}
	c.members = append(c.members, rs)
}

// classOf is the class of signatures identical to sig, if any.
func (rt *retyper) classOf(sig *types.Signature) *funcClass {
	if sig == nil {
		return nil
	}
	for _, c := range rt.flow.classes {
		if types.Identical(c.sig, sig) {
			return c
		}
	}
	return nil
}

// classOfCall is the class of the func value call calls, if any.
func (rt *retyper) classOfCall(info *types.Info, call *ast.CallExpr) *funcClass {
	if len(rt.flow.classes) == 0 {
		return nil
	}
	t := exprType(info, call.Fun)
	if t == nil {
		return nil
	}
	sig, _ := t.Underlying().(*types.Signature)
	return rt.classOf(sig)
}

// funcTypeNode records the func types of f whose results have a legacy
// type: named func types, the func types of variables, fields and
// parameters, and function literals.
// It is called for every node of the walk of findDecls, so that the
// files are walked once.
func (rt *retyper) funcTypeNode(pkg *Package, f *File, n ast.Node) {
	info := pkg.Info
	var ft *ast.FuncType
	var sig *types.Signature
	var lit *ast.FuncLit
	var owner types.Object // the type or variable whose type ft is (api.go)
	name := ""
	switch n := n.(type) {
	case *ast.TypeSpec:
		if t, ok := n.Type.(*ast.FuncType); ok {
			if tn, _ := info.Defs[n.Name].(*types.TypeName); tn != nil {
				ft, name, owner = t, n.Name.Name, tn
				sig, _ = tn.Type().Underlying().(*types.Signature)
			}
		}
	case *ast.Field:
		if t, ok := n.Type.(*ast.FuncType); ok && len(n.Names) > 0 {
			if v, _ := info.Defs[n.Names[0]].(*types.Var); v != nil {
				ft, name, owner = t, n.Names[0].Name, v
				sig, _ = v.Type().Underlying().(*types.Signature)
			}
		}
	case *ast.ValueSpec:
		if t, ok := n.Type.(*ast.FuncType); ok {
			if v, _ := info.Defs[n.Names[0]].(*types.Var); v != nil {
				ft, name, owner = t, n.Names[0].Name, v
				sig, _ = v.Type().Underlying().(*types.Signature)
			}
		}
	case *ast.FuncLit:
		ft, lit, name = n.Type, n, "a function literal"
		sig = litSignature(info, n.Type)
	}
	if ft == nil || ft.Results == nil {
		return
	}
	rs, named := rt.funcTypeResults(pkg, f, ft, sig, name, owner)
	if rs == nil && !named {
		return
	}
	if sig == nil {
		rt.blockAll(rs, pkg, ft, "its func type is one the retype cannot name")
		return
	}
	c := rt.classOf(sig)
	if c == nil {
		c = &funcClass{sig: sig}
		rt.flow.classes = append(rt.flow.classes, c)
	}
	if named && c.blocked == "" {
		c.blocked, c.at, c.pkg = "a function of its func type names its results", ft, pkg
	}
	c.add(rs)
	if lit != nil {
		rt.flow.lits[lit] = rs
	}
}

// funcTypeResults makes the candidate results of ft (nil if it has none)
// and reports whether a legacy result is named, which the class does not
// follow.
func (rt *retyper) funcTypeResults(pkg *Package, f *File, ft *ast.FuncType, sig *types.Signature, name string, owner types.Object) ([]*decl, bool) {
	rs := make([]*decl, ft.Results.NumFields())
	found, named := false, false
	i := 0
	for _, field := range ft.Results.List {
		t := typeExprType(pkg.Info, field.Type)
		if sig != nil && i < sig.Results().Len() {
			t = sig.Results().At(i).Type()
		}
		if t == nil {
			i += max(1, len(field.Names))
			continue
		}
		// A fresh variable: identical types may share the signature's.
		v := types.NewVar(field.Type.Pos(), pkg.Types, "", t)
		shape, ok := rt.candidate(v)
		switch {
		case !ok:
		case len(field.Names) > 0:
			named = true
		default:
			id := &ast.Ident{NamePos: field.Type.Pos(), Name: "the result of " + name}
			d := &decl{v: v, shape: shape, pkg: pkg, file: f, ident: id, typeExpr: field.Type, kind: declResult, param: i, owner: owner}
			rt.addDecl(d)
			if k, ok := rt.st.kept(rt.prog.Fset, id); ok {
				d.blocked, d.related = k.why, k.related
			}
			rs[i], found = d, true
		}
		i += max(1, len(field.Names))
	}
	if !found {
		return nil, named
	}
	return rs, named
}

// blockOutside keeps the class of a func type with legacy results that a
// package outside the selection declares: it would not change with the
// others.
func (rt *retyper) blockOutside(pkg *Package, ft *ast.FuncType) {
	if pkg.Selected || ft.Results == nil {
		return
	}
	legacy := false
	for _, field := range ft.Results.List {
		if t := typeExprType(pkg.Info, field.Type); t != nil {
			_, legacy = rt.candidate(types.NewVar(field.Pos(), nil, "", t))
		}
		if legacy {
			break
		}
	}
	if !legacy {
		return
	}
	why := fmt.Sprintf("a function of its func type is declared in %s, outside the selected packages", pkg.Path)
	sig := litSignature(pkg.Info, ft)
	for _, c := range rt.flow.classes {
		if c.blocked == "" && (sig == nil || types.Identical(c.sig, sig)) {
			c.blocked, c.at, c.pkg = why, ft, pkg
		}
	}
}

// litSignature is the signature of a function literal's type, from the
// types of its parameters and results; nil if one has no type it can
// name.
func litSignature(info *types.Info, ft *ast.FuncType) *types.Signature {
	tuple := func(fl *ast.FieldList) (*types.Tuple, bool) {
		if fl == nil {
			return nil, true
		}
		var vars []*types.Var
		for _, field := range fl.List {
			var t types.Type
			if len(field.Names) > 0 {
				if v, _ := info.Defs[field.Names[0]].(*types.Var); v != nil {
					t = v.Type()
				}
			}
			if t == nil {
				t = typeExprType(info, field.Type)
			}
			if t == nil {
				return nil, false
			}
			if _, ok := field.Type.(*ast.ArrayType); ok && len(field.Names) == 0 {
				return nil, false // typeExprType makes every array a slice
			}
			for range max(1, len(field.Names)) {
				vars = append(vars, types.NewVar(field.Pos(), nil, "", t))
			}
		}
		return types.NewTuple(vars...), true
	}
	params, ok1 := tuple(ft.Params)
	results, ok2 := tuple(ft.Results)
	if !ok1 || !ok2 {
		return nil
	}
	variadic := false
	if n := ft.Params.NumFields(); n > 0 {
		last := ft.Params.List[len(ft.Params.List)-1]
		_, variadic = last.Type.(*ast.Ellipsis)
	}
	if variadic {
		return nil // the last parameter's type is a slice the tuple above does not make
	}
	return types.NewSignatureType(nil, nil, nil, params, results, false)
}

// classUse follows a call through a func value of a class, or keeps the
// class when the call is outside the selected packages.
func (rt *retyper) classUse(pkg *Package, f *File, stack []ast.Node) {
	call := stack[len(stack)-1].(*ast.CallExpr)
	if _, declared := calleeOf(pkg.Info, call).(*types.Func); declared {
		return
	}
	c := rt.classOfCall(pkg.Info, call)
	if c == nil {
		return
	}
	if !pkg.Selected {
		if c.blocked == "" {
			c.blocked, c.at, c.pkg = fmt.Sprintf("a function of its func type is called from %s, outside the selected packages", pkg.Path), call, pkg
		}
		return
	}
	rt.callResults(pkg, f, c.slots, stack, "a call of its func type")
}

// linkClasses links the members of every class: the same result of each
// changes together with the others, to the same type.
func (rt *retyper) linkClasses() {
	for _, c := range rt.flow.classes {
		for _, m := range c.members {
			if c.blocked != "" {
				rt.blockAll(m, c.pkg, c.at, c.blocked)
				continue
			}
			for k, d := range m {
				if d == nil || k >= len(c.slots) || c.slots[k] == nil {
					continue
				}
				rt.link(c.slots[k], d, d.pkg, d.typeExpr, false, true)
				rt.link(d, c.slots[k], d.pkg, d.typeExpr, false, true)
			}
		}
	}
}
