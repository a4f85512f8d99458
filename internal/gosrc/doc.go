// Package gosrc holds the helpers for reading and rewriting Go source that
// the codemod engine, its analyzer, the shim and the wsunify command share,
// one implementation of each: text edits (convertible to
// [analysis.TextEdit]), fresh identifiers, the import path of an import
// spec, walks of the import graph, the text of a signature, and go.mod
// read with golang.org/x/mod/modfile.
//
// [analysis.TextEdit]: https://pkg.go.dev/golang.org/x/tools/go/analysis#TextEdit
package gosrc
