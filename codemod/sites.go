package codemod

import (
	"cmp"
	"fmt"
	"go/token"
	"slices"
)

// Site is one legacy use left, where it is and the rule that counts it.
type Site struct {
	Pos     token.Position
	Package string
	Rule    string
}

// Sites lists the legacy uses that [Count] counts, one by one, in the order
// of their files and positions: the places a CI annotates. Count's numbers
// are theirs (a test holds the two together).
func Sites(prog *Program, opts *Options) ([]Site, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := prog.Err(); err != nil {
		return nil, fmt.Errorf("%w:\n%w", ErrNotCompiling, err)
	}
	l := prog.legacy(opts)
	may := prog.mayUseLegacy(opts)
	var sites []Site
	for _, pkg := range prog.Packages {
		if !pkg.Selected || !may(pkg) {
			continue
		}
		if pkg.Info == nil {
			return nil, fmt.Errorf("codemod: %s was checked without type information", pkg.Path)
		}
		for _, f := range pkg.Files {
			for _, u := range l.scanFile(pkg, f) {
				if opts.Rules.Has(u.rule.ID) || u.rule.ID == RuleBridgeRef {
					sites = append(sites, Site{Pos: prog.Fset.Position(u.pos), Package: pkg.Path, Rule: u.rule.ID})
				}
			}
		}
	}
	slices.SortFunc(sites, func(a, b Site) int {
		return cmp.Or(cmp.Compare(a.Pos.Filename, b.Pos.Filename), cmp.Compare(a.Pos.Offset, b.Pos.Offset), cmp.Compare(a.Rule, b.Rule))
	})
	return sites, nil
}
