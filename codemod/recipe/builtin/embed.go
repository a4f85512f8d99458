// Package builtin holds the built-in recipe of wsunify, the migration from
// package bridge's legacy shapes to package facade, as a Go file the
// compiler checks with the module: builtin.go. [Source] is that file,
// embedded, and [Load] parses it.
package builtin

import (
	_ "embed"
	"go/token"
	"go/types"

	"github.com/wsunify/wsunify/codemod/recipe"
)

// Filename is the name the built-in recipe has in positions.
const Filename = "builtin.go"

// Source is the text of the built-in recipe, builtin.go.
//
//go:embed builtin.go
var Source []byte

// Load parses the built-in recipe; imp resolves its imports, as for
// [recipe.Parse].
func Load(fset *token.FileSet, imp types.Importer) (*recipe.Recipe, error) {
	return recipe.Parse(fset, Filename, Source, imp)
}
