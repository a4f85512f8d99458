package gosrc

import "go/types"

// Deps maps the path of every package that roots import, directly or not,
// to its types; the roots themselves are included.
func Deps(roots ...*types.Package) map[string]*types.Package {
	pkgs := map[string]*types.Package{}
	var walk func(p *types.Package)
	walk = func(p *types.Package) {
		if pkgs[p.Path()] != nil {
			return
		}
		pkgs[p.Path()] = p
		for _, imp := range p.Imports() {
			walk(imp)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return pkgs
}

// Imports reports whether p imports the package path, directly or not.
func Imports(p *types.Package, path string) bool {
	return path != p.Path() && Deps(p.Imports()...)[path] != nil
}
