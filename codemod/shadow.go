package codemod

import (
	"fmt"
	"go/token"
	"go/types"
)

// A migrated form names predeclared identifiers of its own (map[string]any
// for a bridge.Message, the parameter and result types of the func literal
// a method value becomes). Where a declaration of the user's shadows one of
// them (a parameter named string), the form would not type-check: the site
// is left with a finding instead.

// shadowReason returns why the migrated form, which names the predeclared
// identifiers of types ts, cannot stand at pos in pkg, with the place of
// the shadowing declaration; "" when it can.
func shadowReason(pkg *Package, pos token.Pos, ts ...types.Type) (string, []Related) {
	if pkg.Types == nil {
		return "", nil
	}
	scope := pkg.Types.Scope().Innermost(pos)
	if scope == nil {
		return "", nil
	}
	var reason string
	var related []Related
	seen := map[string]bool{}
	for _, t := range ts {
		predeclared(t, func(name string) {
			if reason != "" || seen[name] {
				return
			}
			seen[name] = true
			if _, obj := scope.LookupParent(name, pos); obj != nil && obj.Parent() != types.Universe {
				reason = fmt.Sprintf("the migrated form names the predeclared %s, which %s %s declared here shadows: rewrite by hand or rename it", name, objKind(obj), obj.Name())
				if obj.Pos().IsValid() {
					related = []Related{{Pos: pkg.fset.Position(obj.Pos()), Message: name + " declared here"}}
				}
			}
		})
	}
	return reason, related
}

func objKind(obj types.Object) string {
	switch o := obj.(type) {
	case *types.Var:
		if o.IsField() {
			return "the field"
		}
		return "the variable"
	case *types.TypeName:
		return "the type"
	case *types.Func:
		return "the function"
	case *types.Const:
		return "the constant"
	case *types.PkgName:
		return "the import"
	}
	return "the name"
}

// predeclared calls fn with each predeclared identifier the type t is
// written with, as the codemod writes it (bridge.Message as
// map[string]any).
func predeclared(t types.Type, fn func(string)) {
	switch t := t.(type) {
	case *types.Basic:
		fn(t.Name())
	case *types.Alias:
		o := t.Obj()
		switch {
		case o.Pkg() == nil:
			fn(o.Name())
		case o.Pkg().Path() == BridgePath:
			predeclared(types.Unalias(t), fn)
		}
		for i := range t.TypeArgs().Len() {
			predeclared(t.TypeArgs().At(i), fn)
		}
	case *types.Named:
		if t.Obj().Pkg() == nil {
			fn(t.Obj().Name())
		}
		for i := range t.TypeArgs().Len() {
			predeclared(t.TypeArgs().At(i), fn)
		}
	case *types.Pointer:
		predeclared(t.Elem(), fn)
	case *types.Slice:
		predeclared(t.Elem(), fn)
	case *types.Array:
		predeclared(t.Elem(), fn)
	case *types.Chan:
		predeclared(t.Elem(), fn)
	case *types.Map:
		predeclared(t.Key(), fn)
		predeclared(t.Elem(), fn)
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tup.Len() {
				predeclared(tup.At(i).Type(), fn)
			}
		}
	case *types.Struct:
		for i := range t.NumFields() {
			predeclared(t.Field(i).Type(), fn)
		}
	case *types.Interface:
		for i := range t.NumExplicitMethods() {
			predeclared(t.ExplicitMethod(i).Type(), fn)
		}
		for i := range t.NumEmbeddeds() {
			predeclared(t.EmbeddedType(i), fn)
		}
	}
}
