package codemod

import (
	"errors"
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// Files that use cgo are type-checked from their own source, with package
// C faked (types.Config.FakeImportC): the codemod rewrites the files the
// user wrote, not the ones cgo generates. Every name of C then has an
// invalid type, and the checker, which keeps quiet about most uses of one,
// still reports some (a conversion, unsafe.Pointer(b.p) where b.p is a
// *C.char). Those are artifacts of the fake, not errors of the code: the go
// command builds it. They are dropped in the files that import "C", and
// only those that name an invalid type, so a rewrite that breaks such a
// file still fails its check (fdelta's internal/cref).

// cgoFiles returns the names of the files that import "C".
func cgoFiles(fset *token.FileSet, files []*ast.File) map[string]bool {
	var out map[string]bool
	for _, f := range files {
		for _, imp := range f.Imports {
			if imp.Path.Value == `"C"` {
				if out == nil {
					out = map[string]bool{}
				}
				out[fset.Position(f.Package).Filename] = true
			}
		}
	}
	return out
}

// fakeCArtifact reports whether err, from the type checker, is one the
// fake package C causes in a file of cgo.
func fakeCArtifact(err error, cgo map[string]bool) bool {
	var te types.Error
	if len(cgo) == 0 || !errors.As(err, &te) {
		return false
	}
	return cgo[te.Fset.Position(te.Pos).Filename] && strings.Contains(te.Msg, "invalid type")
}
