package codemod

import (
	"go/types"
)

// What a file outside the first configuration can be reached by. Loading
// a configuration means compiling the standard library and every
// dependency for it, a minute or more on two cores for each GOOS, GOARCH
// and tag set; a module whose packages have files for many of them
// (prometheus/procfs has eight architectures' cpuinfo) took a quarter of
// an hour before plan said anything. A step changes the files of other
// configurations through the names it touches only: the calls of legacy
// methods, and the declarations of a legacy type it may retype (a
// variable, a field, a function's parameter or result, a type). A file
// that imports no legacy path and mentions none of these names of a
// package it sees reads the same after the step, so it needs no
// configuration of its own: it stays unchecked, and since it refers to no
// legacy name and to no declaration a step retypes, that costs neither a
// finding nor a retype (blockUnchecked finds no name of it to keep).

// worthChecking returns the files of outside that a step could change or
// break: those [Program.reachable] keeps.
func (p *Program) worthChecking(outside []*uncheckedFile) []*uncheckedFile {
	stake := p.namesAtStake()
	methods := p.legacyMethodNames()
	var out []*uncheckedFile
	for _, u := range outside {
		if p.reachable(u, stake, methods) {
			out = append(out, u)
		}
	}
	return out
}

// reachable reports whether a step could change u: it imports a legacy
// path, it lies in a package loaded from source and names a legacy
// method, or it sees a source package and names one of its declarations
// at stake (a source package without types counts as naming them all).
func (p *Program) reachable(u *uncheckedFile, stake map[*Package]map[string]bool, methods map[string]bool) bool {
	for _, imp := range u.imports {
		if p.legacyPaths[imp] {
			return true
		}
	}
	if p.source[u.pkgPath] {
		for name := range methods {
			if u.mentions(name) {
				return true
			}
		}
	}
	for _, pkg := range p.Packages {
		if !u.sees(pkg) {
			continue
		}
		names, typed := stake[pkg]
		if !typed {
			return true
		}
		for name := range names {
			if u.mentions(name) {
				return true
			}
		}
	}
	return false
}

// namesAtStake returns, for each type-checked source package, the names
// of its package-level declarations whose type mentions a legacy type:
// variables, functions and methods (with their receiver's type), types,
// and struct fields (with the type that declares them, for an unkeyed
// literal). A package without types is left out.
func (p *Program) namesAtStake() map[*Package]map[string]bool {
	out := map[*Package]map[string]bool{}
	for _, pkg := range p.Packages {
		if pkg.Types == nil || pkg.Info == nil {
			continue
		}
		names := map[string]bool{}
		for id, obj := range pkg.Info.Defs {
			if obj == nil {
				continue
			}
			switch o := obj.(type) {
			case *types.TypeName:
				if o.Parent() == pkg.Types.Scope() && p.mentionsLegacy(o.Type().Underlying(), nil) ||
					o.IsAlias() && p.mentionsLegacy(o.Type(), nil) {
					names[id.Name] = true
				}
			case *types.Func:
				sig := o.Signature()
				if !p.mentionsLegacy(sig, nil) {
					continue
				}
				names[id.Name] = true
				if recv := sig.Recv(); recv != nil {
					if tn := namedOf(recv.Type()); tn != nil {
						names[tn.Name()] = true
					}
				}
			case *types.Var:
				if !p.mentionsLegacy(o.Type(), nil) {
					continue
				}
				switch {
				case o.IsField():
					names[id.Name] = true
					if owner := fieldOwner(pkg.Types, o); owner != "" {
						names[owner] = true
					}
				case o.Parent() == pkg.Types.Scope():
					names[id.Name] = true
				}
			}
		}
		out[pkg] = names
	}
	return out
}

// mentionsLegacy reports whether t names a type of a legacy path, in any
// part of it but the underlying types of other named types (seen guards
// against a recursive type).
func (p *Program) mentionsLegacy(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return false
	}
	switch t := t.(type) {
	case *types.Named:
		if obj := t.Obj(); obj.Pkg() != nil && p.legacyPaths[obj.Pkg().Path()] {
			return true
		}
		for arg := range t.TypeArgs().Types() {
			if p.mentionsLegacy(arg, seen) {
				return true
			}
		}
		return false
	case *types.Alias:
		if obj := t.Obj(); obj.Pkg() != nil && p.legacyPaths[obj.Pkg().Path()] {
			return true
		}
		return p.mentionsLegacy(types.Unalias(t), seen)
	case *types.Pointer:
		return p.mentionsLegacy(t.Elem(), seen)
	case *types.Slice:
		return p.mentionsLegacy(t.Elem(), seen)
	case *types.Array:
		return p.mentionsLegacy(t.Elem(), seen)
	case *types.Chan:
		return p.mentionsLegacy(t.Elem(), seen)
	case *types.Map:
		return p.mentionsLegacy(t.Key(), seen) || p.mentionsLegacy(t.Elem(), seen)
	case *types.Tuple:
		for v := range t.Variables() {
			if p.mentionsLegacy(v.Type(), seen) {
				return true
			}
		}
	case *types.Signature:
		return p.mentionsLegacy(t.Params(), seen) || p.mentionsLegacy(t.Results(), seen)
	case *types.Struct, *types.Interface:
		if seen == nil {
			seen = map[types.Type]bool{}
		}
		seen[t] = true
		if s, ok := t.(*types.Struct); ok {
			for f := range s.Fields() {
				if p.mentionsLegacy(f.Type(), seen) {
					return true
				}
			}
			return false
		}
		it := t.(*types.Interface)
		for m := range it.ExplicitMethods() {
			if p.mentionsLegacy(m.Type(), seen) {
				return true
			}
		}
		for e := range it.EmbeddedTypes() {
			if p.mentionsLegacy(e, seen) {
				return true
			}
		}
	}
	return false
}

// legacyMethodNames returns the names of the methods of the legacy
// packages' types: a call of one may be a legacy call to rewrite.
func (p *Program) legacyMethodNames() map[string]bool {
	out := map[string]bool{}
	for path := range p.legacyPaths {
		var tp *types.Package
		if pkg := p.byPath[path]; pkg != nil {
			tp = pkg.Types
		} else if p.ext != nil {
			tp = p.ext.pkgs[path]
		}
		if tp == nil {
			continue
		}
		for _, name := range tp.Scope().Names() {
			tn, ok := tp.Scope().Lookup(name).(*types.TypeName)
			if !ok {
				continue
			}
			t := tn.Type()
			if !types.IsInterface(t) {
				t = types.NewPointer(t)
			}
			ms := types.NewMethodSet(t)
			for sel := range ms.Methods() {
				out[sel.Obj().Name()] = true
			}
		}
	}
	return out
}
