package gosrc

import (
	"go/ast"
	"strconv"
	"strings"
)

// FreshName returns name, or else name with its trailing digits replaced
// by 2, 3, ..., the first for which taken is false.
func FreshName(name string, taken func(string) bool) string {
	base := strings.TrimRight(name, "0123456789")
	for i := 2; taken(name); i++ {
		name = base + strconv.Itoa(i)
	}
	return name
}

// ImportPath is the path an import spec names (its literal as written if
// it is not a valid string literal).
func ImportPath(spec *ast.ImportSpec) string {
	p, err := strconv.Unquote(spec.Path.Value)
	if err != nil {
		return spec.Path.Value
	}
	return p
}

// ImportPaths are the paths the imports of f name, in order.
func ImportPaths(f *ast.File) []string {
	paths := make([]string, 0, len(f.Imports))
	for _, spec := range f.Imports {
		paths = append(paths, ImportPath(spec))
	}
	return paths
}
