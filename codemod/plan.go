package codemod

import (
	"slices"
	"strings"
)

// Plan is the inventory of what is left to migrate.
type Plan struct {
	// Packages are the selected packages with legacy uses left.
	Packages []PackagePlan `json:"packages"`
	// Remaining counts the legacy uses left per rule ID.
	Remaining map[string]int `json:"remaining"`
	// Next is what the next `wsunify apply` would do; nil when nothing
	// can be rewritten automatically.
	Next *NextStep `json:"next,omitempty"`
	// Findings are the uses no rule can rewrite yet, with the reason.
	Findings []Finding `json:"findings"`
}

// PackagePlan is the inventory of one package.
type PackagePlan struct {
	Path string         `json:"path"`
	Uses map[string]int `json:"uses"`
}

// NextStep summarizes one step of the migration.
type NextStep struct {
	Step  string         `json:"step"`
	Sites map[string]int `json:"sites"` // rewrites per rule ID
	Files int            `json:"files"`
}

// Total returns the number of legacy uses left.
func (p *Plan) Total() int {
	n := 0
	for _, v := range p.Remaining {
		n += v
	}
	return n
}

// Inventory lists the legacy uses left in the selected packages of prog, per
// rule and per package, and what the next step would rewrite. Rules
// outside opts.Rules are not counted.
func Inventory(prog *Program, opts *Options) (*Plan, error) {
	if opts == nil {
		opts = &Options{}
	}
	res, err := Rewrite(prog, opts)
	if err != nil {
		return nil, err
	}
	l := prog.legacy(opts)
	plan := &Plan{Remaining: map[string]int{}, Findings: res.Findings}
	may := prog.mayUseLegacy(opts)
	for _, pkg := range prog.Packages {
		if !pkg.Selected || !may(pkg) {
			continue
		}
		pp := PackagePlan{Path: pkg.Path, Uses: map[string]int{}}
		for _, f := range pkg.Files {
			for _, u := range l.scanFile(pkg, f) {
				if opts.Rules.Has(u.rule.ID) || u.rule.ID == RuleBridgeRef {
					pp.Uses[u.rule.ID]++
					plan.Remaining[u.rule.ID]++
				}
			}
		}
		if len(pp.Uses) > 0 {
			plan.Packages = append(plan.Packages, pp)
		}
	}
	slices.SortFunc(plan.Packages, func(a, b PackagePlan) int { return strings.Compare(a.Path, b.Path) })
	if len(res.Changes) > 0 {
		next := &NextStep{Sites: res.Rewritten, Files: len(res.Changes)}
		steps := map[Step]bool{}
		for id := range res.Rewritten {
			if r := RuleByID(id); r != nil {
				steps[r.Step] = true
			}
		}
		var names []string
		for _, s := range []Step{StepCallSite, StepRetype} {
			if steps[s] {
				names = append(names, s.String())
			}
		}
		next.Step = strings.Join(names, " + ")
		plan.Next = next
	}
	return plan, nil
}
