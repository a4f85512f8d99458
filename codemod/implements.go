package codemod

import (
	"fmt"
	"go/types"
	"slices"
	"strings"
)

// A method's parameter or result of a legacy type can change only if no
// interface requires the method's signature: a type that implements one
// would stop implementing it. The type checker tells, for every named
// interface of the loaded program (its packages and all they import) that
// has a method of that name.

// blockImplemented keeps the parameters and results of the methods that
// may satisfy an interface, naming the interface.
func (rt *retyper) blockImplemented() {
	seen := map[*types.Func]*types.TypeName{}
	for _, d := range rt.order {
		if d.blocked != "" || d.fn == nil || d.fn.Signature().Recv() == nil {
			continue
		}
		it, ok := seen[d.fn]
		if !ok {
			it = rt.requiring(d.fn)
			seen[d.fn] = it
		}
		if it != nil {
			d.blocked = fmt.Sprintf("%s may satisfy %s.%s, which requires its signature", d.fn.Name(), it.Pkg().Name(), it.Name())
			d.related = []Related{{Pos: rt.prog.Fset.Position(it.Pos()), Message: "the interface " + it.Name()}}
		}
	}
}

// requiring is the first named interface, by package path and name, that
// has a method named as fn and that fn's receiver type (or a pointer to
// it) implements.
func (rt *retyper) requiring(fn *types.Func) *types.TypeName {
	recv := fn.Signature().Recv().Type()
	if p, ok := recv.(*types.Pointer); ok {
		recv = p.Elem()
	}
	for _, tn := range rt.interfaces()[fn.Name()] {
		it := tn.Type().Underlying().(*types.Interface)
		if types.Implements(recv, it) || types.Implements(types.NewPointer(recv), it) {
			return tn
		}
	}
	return nil
}

// interfaces indexes the named, non-generic interfaces of the program by
// method name, once.
func (rt *retyper) interfaces() map[string][]*types.TypeName {
	if rt.flow.ifaces != nil {
		return rt.flow.ifaces
	}
	idx := map[string][]*types.TypeName{}
	seen := map[*types.Package]bool{}
	var visit func(p *types.Package)
	visit = func(p *types.Package) {
		if p == nil || seen[p] {
			return
		}
		seen[p] = true
		scope := p.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() {
				continue
			}
			if n, ok := tn.Type().(*types.Named); ok && n.TypeParams().Len() > 0 {
				continue
			}
			it, ok := tn.Type().Underlying().(*types.Interface)
			if !ok {
				continue
			}
			for i := range it.NumMethods() {
				m := it.Method(i).Name()
				idx[m] = append(idx[m], tn)
			}
		}
		for _, imp := range p.Imports() {
			visit(imp)
		}
	}
	for _, pkg := range rt.prog.Packages {
		if pkg.Types != nil {
			visit(pkg.Types)
		}
	}
	for _, tns := range idx {
		slices.SortFunc(tns, func(a, b *types.TypeName) int {
			if c := strings.Compare(a.Pkg().Path(), b.Pkg().Path()); c != 0 {
				return c
			}
			return strings.Compare(a.Name(), b.Name())
		})
	}
	rt.flow.ifaces = idx
	return idx
}
