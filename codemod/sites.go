package codemod

import (
	"cmp"
	"fmt"
	"go/token"
	"slices"
)

// Site is a legacy use left, where it is and the rule that counts it.
type Site struct {
	Pos     token.Position
	Package string
	Rule    string
	// Uses is how many uses the site stands for: 1, or for a file that no
	// checked build configuration includes (Rule [RuleUnchecked], Pos its
	// first line) the references to legacy names it has.
	Uses int
}

// Sites lists the legacy uses left, one by one, in the order of their files
// and positions: the places a CI annotates, and what [Count] sums. A file
// checked in several build configurations is listed once, from the first.
func Sites(prog *Program, opts *Options) ([]Site, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := prog.Err(); err != nil {
		return nil, fmt.Errorf("%w:\n%w", ErrNotCompiling, err)
	}
	var sites []Site
	listed := map[string]bool{}
	for _, p := range prog.all() {
		l, err := p.legacy(opts)
		if err != nil {
			return nil, err
		}
		may := l.rewrites(p.mayUseLegacy(opts))
		for _, pkg := range p.Packages {
			if !pkg.Selected || !may(pkg) {
				continue
			}
			if pkg.Info == nil {
				return nil, fmt.Errorf("codemod: %s was checked without type information", pkg.Path)
			}
			for _, f := range pkg.Files {
				if listed[f.Name] {
					continue
				}
				listed[f.Name] = true
				for _, u := range l.scanFile(pkg, f) {
					if opts.Rules.Has(u.rule.ID) || u.rule.ID == RuleBridgeRef {
						sites = append(sites, Site{Pos: prog.Fset.Position(u.pos), Package: pkg.Path, Rule: u.rule.ID, Uses: 1})
					}
				}
			}
		}
	}
	l, err := prog.legacy(opts)
	if err != nil {
		return nil, err
	}
	for _, r := range prog.legacyUnchecked(l) {
		sites = append(sites, Site{
			Pos:     token.Position{Filename: r.file.name, Line: 1, Column: 1},
			Package: r.file.pkgPath, Rule: RuleUnchecked, Uses: r.refs,
		})
	}
	slices.SortFunc(sites, func(a, b Site) int {
		return cmp.Or(cmp.Compare(a.Pos.Filename, b.Pos.Filename), cmp.Compare(a.Pos.Offset, b.Pos.Offset), cmp.Compare(a.Rule, b.Rule))
	})
	return sites, nil
}
