package codemod

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"testing"
)

// TestAssigned: the variables a method value's receiver must not be for the
// short form, which reads it at every call.
func TestAssigned(t *testing.T) {
	const src = `package p

type I interface{ M() }

func f(a, b I, list []I) {
	kept := a
	moved := a
	moved = b
	addr := a
	_ = &addr
	for _, each := range list {
		_ = each
	}
	var ranged I
	for _, ranged = range list {
	}
	_, _, _ = kept, moved, ranged
}
`
	for _, tt := range []struct {
		goVersion string
		assigned  map[string]bool
	}{
		{"go1.22", map[string]bool{"kept": false, "moved": true, "addr": true, "each": false, "ranged": true, "a": false}},
		{"go1.21", map[string]bool{"kept": false, "moved": true, "addr": true, "each": true, "ranged": true, "a": false}},
	} {
		fset := token.NewFileSet()
		af, err := parser.ParseFile(fset, "p.go", src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		info := &types.Info{Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
		tp, err := (&types.Config{GoVersion: tt.goVersion}).Check("p", fset, []*ast.File{af}, info)
		if err != nil {
			t.Fatal(err)
		}
		pkg := &Package{Path: "p", Types: tp, Info: info, fset: fset}
		f := &File{Name: "p.go", Src: []byte(src), AST: af}
		pkg.Files = []*File{f}
		got := newFileEditor(fset, pkg, f).assigned()
		for id, obj := range info.Defs {
			v, ok := obj.(*types.Var)
			if !ok {
				continue
			}
			if want, ok := tt.assigned[id.Name]; ok && got[v] != want {
				t.Errorf("%s: %s assigned = %v, want %v", tt.goVersion, id.Name, got[v], want)
			}
		}
	}
}
