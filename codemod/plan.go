package codemod

import (
	"context"
	"maps"
	"slices"
	"strings"
)

// Plan is the inventory of what is left to migrate.
type Plan struct {
	// Packages are the selected packages with legacy uses left.
	Packages []PackagePlan `json:"packages"`
	// Remaining counts the legacy uses left per rule ID.
	Remaining map[string]int `json:"remaining"`
	// Next is what the next `wsunify apply` would do, every step of it;
	// nil when nothing can be rewritten automatically.
	Next *NextStep `json:"next,omitempty"`
	// Findings are the uses `wsunify apply` would leave, with the reason.
	Findings []Finding `json:"findings"`
	// Rules describes, for humans, each rule Remaining counts under.
	Rules map[string]RuleDoc `json:"rules,omitempty"`
	// Exported lists the declarations of a service's exported API that
	// `wsunify apply` would retype ([Result.Exported]).
	Exported []ExportedChange `json:"exported,omitempty"`
}

// RuleDoc describes a rule of the recipe for humans: what a report shows
// beside its ID.
type RuleDoc struct {
	Doc    string `json:"doc"`    // the recipe's line
	Legacy string `json:"legacy"` // what it rewrites
	Form   string `json:"form"`   // what it writes instead
	Step   string `json:"step"`
}

// PackagePlan is the inventory of one package.
type PackagePlan struct {
	Path string         `json:"path"`
	Uses map[string]int `json:"uses"`
}

// NextStep summarizes what one `wsunify apply` does: the steps it runs
// until none has work left, the sites it rewrites and the files it writes.
type NextStep struct {
	Step  string         `json:"step"`  // the kinds of steps, "call sites + retype"
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

// Count sums the legacy uses [Sites] lists in the selected packages of
// prog, per rule and per package; rules outside opts.Rules are not counted. It
// changes nothing, and its plan has neither Next nor Findings: [Inventory]
// adds them.
func Count(prog *Program, opts *Options) (*Plan, error) {
	sites, err := Sites(prog, opts)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Remaining: map[string]int{}}
	uses := map[string]map[string]int{} // package → rule → uses
	for _, s := range sites {
		if uses[s.Package] == nil {
			uses[s.Package] = map[string]int{}
		}
		uses[s.Package][s.Rule] += s.Uses
		plan.Remaining[s.Rule] += s.Uses
	}
	for _, path := range slices.Sorted(maps.Keys(uses)) {
		plan.Packages = append(plan.Packages, PackagePlan{Path: path, Uses: uses[path]})
	}
	if len(plan.Remaining) == 0 {
		return plan, nil
	}
	rules, err := Rules(prog, opts)
	if err != nil {
		return nil, err
	}
	plan.Rules = map[string]RuleDoc{}
	for _, r := range append(rules, bridgeRefRule) {
		if plan.Remaining[r.ID] > 0 {
			d := RuleDoc{Doc: r.Doc, Legacy: r.Legacy, Form: r.Form}
			if r.Step != 0 {
				d.Step = r.Step.String()
			}
			plan.Rules[r.ID] = d
		}
	}
	return plan, nil
}

// Inventory is [Count] and what `wsunify apply` would do with the same
// options: it runs [Migrate] in memory, every step of it, so that Next
// counts the sites and files apply rewrites and Findings are those apply
// leaves. It writes nothing, and uses prog up as [Migrate] does.
func Inventory(ctx context.Context, prog *Program, opts *Options) (*Plan, error) {
	if opts == nil {
		opts = &Options{}
	}
	plan, err := Count(prog, opts)
	if err != nil {
		return nil, err
	}
	res, _, err := Migrate(ctx, prog, opts)
	if err != nil {
		return nil, err
	}
	plan.Findings = onDisk(res.Findings, res.Changes)
	plan.Exported = res.Exported
	if len(res.Changes) == 0 {
		return plan, nil
	}
	rules, err := Rules(prog, opts)
	if err != nil {
		return nil, err
	}
	steps := map[Step]bool{}
	for _, r := range rules {
		if res.Rewritten[r.ID] > 0 {
			steps[r.Step] = true
		}
	}
	var names []string
	for _, s := range []Step{StepCallSite, StepRetype} {
		if steps[s] {
			names = append(names, s.String())
		}
	}
	plan.Next = &NextStep{Step: strings.Join(names, " + "), Sites: res.Rewritten, Files: len(res.Changes)}
	return plan, nil
}

// onDisk moves findings, positioned in the sources a simulated apply
// rewrote, to the files as they are on disk, with their related positions:
// a position on a line the rewrite
// kept moves with the line; one on a line it changed goes to the old line
// the change starts at, with its column kept inside that line.
func onDisk(findings []Finding, changes []FileChange) []Finding {
	maps := map[string]*lineMap{}
	mapOf := func(name string) *lineMap {
		if m, ok := maps[name]; ok {
			return m
		}
		var m *lineMap
		for _, c := range changes {
			if c.Name == name {
				m = newLineMap(c)
			}
		}
		maps[name] = m
		return m
	}
	for i, f := range findings {
		if m := mapOf(f.Pos.Filename); m != nil {
			f.Pos.Line, f.Pos.Column, f.Pos.Offset = m.old(f.Pos.Line, f.Pos.Column)
		}
		f.Related = slices.Clone(f.Related)
		for j, r := range f.Related {
			if m := mapOf(r.Pos.Filename); m != nil {
				f.Related[j].Pos.Line, f.Related[j].Pos.Column, f.Related[j].Pos.Offset = m.old(r.Pos.Line, r.Pos.Column)
			}
		}
		// The lines of one changed hunk go to one old line: the places
		// that now coincide are named once, and "the same" place as the
		// finding's not at all.
		var kept []Related
		for _, r := range f.Related {
			if !slices.Contains(kept, r) && (r.Message != sameMessage || r.Pos != f.Pos) {
				kept = append(kept, r)
			}
		}
		f.Related = kept
		findings[i] = f
	}
	return findings
}

// lineMap maps the lines of a changed file back to the old content.
type lineMap struct {
	oldLine []int // new line index → old line index, or -1-k: changed, before old line k
	starts  []int // offsets of the old lines
	size    int
}

func newLineMap(c FileChange) *lineMap {
	m := &lineMap{starts: []int{0}, size: len(c.Old)}
	for _, op := range diffLines(splitLines(c.Old), splitLines(c.New)) {
		switch op.kind {
		case ' ':
			m.oldLine = append(m.oldLine, op.a)
		case '+':
			m.oldLine = append(m.oldLine, -1-op.a)
		}
	}
	for i, b := range c.Old {
		if b == '\n' && i+1 < len(c.Old) {
			m.starts = append(m.starts, i+1)
		}
	}
	return m
}

// old returns the old line, column and offset of a new position.
func (m *lineMap) old(line, col int) (int, int, int) {
	if line < 1 || line > len(m.oldLine) {
		return line, col, 0
	}
	l := m.oldLine[line-1]
	if l < 0 {
		l = -1 - l
	}
	l = min(l, len(m.starts)-1)
	end := m.size
	if l+1 < len(m.starts) {
		end = m.starts[l+1] - 1
	}
	col = max(1, min(col, end-m.starts[l]+1))
	return l + 1, col, m.starts[l] + col - 1
}
