package main

import (
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsunify/wsunify/codemod"
)

//go:embed report.html
var reportHTML string

var reportTemplate = template.Must(template.New("report").Parse(reportHTML))

// reportData is what the report template shows.
type reportData struct {
	Dir       string
	Generated string
	Elapsed   string
	Total     int
	Rules     []bar
	Packages  []bar
	Next      *nextView
	NextShare string // share of the uses left that the next apply rewrites
	Findings  []findingView

	History   []point
	Chart     *chart
	ShareDone string // "" without history
	Baseline  int
}

// bar is one row of a bar chart.
type bar struct {
	Name   string
	Uses   int
	Pct    float64 // width of the bar, of the largest row
	Detail string
	Help   string // shown on hover: what the rule rewrites, and to what
}

type nextView struct {
	Command string
	Step    string
	Sites   int
	Files   int
}

type findingView struct {
	File         string
	Line, Column int
	Rule         string
	Package      string
	Message      string
	Source       []sourceLine
	Related      []relatedView
}

type sourceLine struct {
	N    int
	Text string
	Hit  bool
}

type relatedView struct {
	File         string
	Line, Column int
	Message      string
}

// contextLines is how many lines the report shows around a finding.
const contextLines = 2

func newReportData(base string, planArgs []string, plan *codemod.Plan) *reportData {
	d := &reportData{Dir: base, Generated: time.Now().UTC().Format(time.RFC3339), Total: plan.Total()}
	maxRule := 0
	for _, n := range plan.Remaining {
		maxRule = max(maxRule, n)
	}
	for _, id := range sortedKeys(plan.Remaining) {
		n := plan.Remaining[id]
		b := bar{Name: id, Uses: n, Pct: pct(n, maxRule), Detail: ruleShort(nil, id)}
		if r, ok := plan.Rules[id]; ok {
			b.Detail, b.Help = r.Doc, r.Legacy+" → "+r.Form
		}
		d.Rules = append(d.Rules, b)
	}
	maxPkg := 0
	totals := make([]int, len(plan.Packages))
	for i, p := range plan.Packages {
		for _, n := range p.Uses {
			totals[i] += n
		}
		maxPkg = max(maxPkg, totals[i])
	}
	for i, p := range plan.Packages {
		var parts []string
		for _, id := range sortedKeys(p.Uses) {
			parts = append(parts, fmt.Sprintf("%s %d", id, p.Uses[id]))
		}
		d.Packages = append(d.Packages, bar{Name: p.Path, Uses: totals[i], Pct: pct(totals[i], maxPkg), Detail: strings.Join(parts, ", ")})
	}
	if plan.Next != nil {
		n := 0
		for _, v := range plan.Next.Sites {
			n += v
		}
		d.Next = &nextView{Command: applyCommand(planArgs), Step: plan.Next.Step, Sites: n, Files: plan.Next.Files}
		if d.Total > 0 {
			d.NextShare = fmt.Sprintf("%.0f%%", 100*float64(min(n, d.Total))/float64(d.Total))
		}
	}
	files := map[string][]string{}
	for _, f := range plan.Findings {
		v := findingView{File: f.Pos.Filename, Line: f.Pos.Line, Column: f.Pos.Column, Rule: f.Rule, Package: f.Package, Message: f.Message}
		name := f.Pos.Filename
		if !filepath.IsAbs(name) {
			name = filepath.Join(base, name)
		}
		lines, ok := files[name]
		if !ok {
			if b, err := os.ReadFile(name); err == nil {
				lines = strings.Split(string(b), "\n")
			}
			files[name] = lines
		}
		for n := max(1, f.Pos.Line-contextLines); n <= min(len(lines), f.Pos.Line+contextLines); n++ {
			v.Source = append(v.Source, sourceLine{N: n, Text: lines[n-1], Hit: n == f.Pos.Line})
		}
		for _, r := range f.Related {
			v.Related = append(v.Related, relatedView{File: r.Pos.Filename, Line: r.Pos.Line, Column: r.Pos.Column, Message: r.Message})
		}
		d.Findings = append(d.Findings, v)
	}
	return d
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// applyCommand is the wsunify apply command with the flags and patterns
// the report was made with.
func applyCommand(planArgs []string) string {
	parts := []string{"wsunify", "apply"}
	for _, a := range planArgs {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "json" || name == "format") {
			continue
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// chart is the history as an inline SVG line chart.
type chart struct {
	Width, Height int
	Line          string // the polyline's points
	Marks         []mark
	YMax          int
	Left, Bottom  int
}

type mark struct {
	X, Y  float64
	Label string
	Total int
}

func (d *reportData) setHistory(points []point) {
	d.History = points
	const w, h, left, right, top, bottom = 720, 240, 48, 16, 16, 32
	c := &chart{Width: w, Height: h, Left: left, Bottom: h - bottom}
	for _, p := range points {
		c.YMax = max(c.YMax, p.Total)
		d.Baseline = max(d.Baseline, p.Total)
	}
	c.YMax = max(c.YMax, 1)
	var line []string
	for i, p := range points {
		if p.Total < 0 {
			continue
		}
		x := float64(left)
		if len(points) > 1 {
			x += float64(i) * float64(w-left-right) / float64(len(points)-1)
		}
		y := float64(h-bottom) - float64(p.Total)*float64(h-bottom-top)/float64(c.YMax)
		line = append(line, fmt.Sprintf("%.1f,%.1f", x, y))
		c.Marks = append(c.Marks, mark{X: x, Y: y, Total: p.Total, Label: fmt.Sprintf("%s %s %s: %d legacy uses", p.Commit[:8], p.Date, p.Subject, p.Total)})
	}
	c.Line = strings.Join(line, " ")
	d.Chart = c
	if d.Baseline > 0 {
		d.ShareDone = fmt.Sprintf("%.0f%%", 100*float64(d.Baseline-min(d.Total, d.Baseline))/float64(d.Baseline))
	}
}
