package recipe

import (
	"context"
	"fmt"
	goparser "go/parser"
	"go/token"
	"go/types"
	"os"
	"strconv"

	"golang.org/x/tools/go/packages"
)

// LoadMode is what [LoadFile] asks of go/packages: the types of the
// recipe's imports and of their dependencies.
const LoadMode = packages.NeedName | packages.NeedTypes | packages.NeedImports | packages.NeedDeps

// LoadFile parses the recipe file filename against its imports, loaded
// from source or export data by the go command run in dir (the module
// whose versions of the packages the recipe is checked against).
func LoadFile(ctx context.Context, dir, filename string) (*Recipe, error) {
	src, err := os.ReadFile(filename)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	fset := token.NewFileSet()
	pkgs, err := LoadImports(ctx, dir, fset, filename, src, LoadMode)
	if err != nil {
		return nil, err
	}
	return Parse(fset, filename, src, ImporterOf(pkgs))
}

// LoadImports loads the packages the recipe src imports, in mode (at least
// [LoadMode]), with the go command run in dir.
func LoadImports(ctx context.Context, dir string, fset *token.FileSet, filename string, src []byte, mode packages.LoadMode) ([]*packages.Package, error) {
	paths, err := Imports(fset, filename, src)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, nil
	}
	cfg := &packages.Config{Context: ctx, Dir: dir, Mode: mode | LoadMode, Fset: fset}
	pkgs, err := packages.Load(cfg, paths...)
	if err != nil {
		return nil, fmt.Errorf("recipe: loading the imports of %s: %w", filename, err)
	}
	var errs []error
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e)
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("recipe: loading the imports of %s: %v", filename, errs[0])
	}
	return pkgs, nil
}

// ImporterOf returns an importer of pkgs and their dependencies: the very
// *types.Package objects go/packages made, so types are identical across
// them.
func ImporterOf(pkgs []*packages.Package) types.Importer {
	m := importer{}
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		if p.Types != nil {
			m[p.PkgPath] = p.Types
		}
	})
	return m
}

type importer map[string]*types.Package

func (m importer) Import(path string) (*types.Package, error) {
	if p := m[path]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("package %s is not loaded", path)
}

// Imports returns the import paths of the recipe src.
func Imports(fset *token.FileSet, filename string, src []byte) ([]string, error) {
	f, err := goparser.ParseFile(fset, filename, src, goparser.ImportsOnly)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	var paths []string
	for _, s := range f.Imports {
		if p, err := strconv.Unquote(s.Path.Value); err == nil {
			paths = append(paths, p)
		}
	}
	return paths, nil
}
