package codemod

import (
	"fmt"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/wsunify/wsunify/internal/gosrc"
)

// Analyzer reports the legacy calls of a package and offers the call-site
// rewrite of each as a suggested fix, for go vet -vettool and gopls. It runs
// the engine of [Rewrite] on one package at a time, so it offers the
// call-site step only: retyping a declaration needs the whole program, which
// `wsunify apply` loads.
var Analyzer = &analysis.Analyzer{
	Name: "wsunify",
	Doc: `report legacy bridge calls and offer their facade form

wsunify reports every call of a legacy bridge method (WebSocketManager,
AgentWebSocketBridge, or a concrete implementation of them) and every use of
bridge.Message, with a suggested fix that rewrites it to package facade
through bridge.NotifierOf / bridge.EmitterOf. Run "wsunify apply" for the
whole migration, including the retype of declarations.`,
	URL: "https://pkg.go.dev/github.com/wsunify/wsunify/codemod",
	Run: runAnalyzer,
}

func runAnalyzer(pass *analysis.Pass) (any, error) {
	pkg := &Package{Path: pass.Pkg.Path(), Name: pass.Pkg.Name(), Selected: true, Types: pass.Pkg, Info: pass.TypesInfo, fset: pass.Fset}
	for _, af := range pass.Files {
		name := pass.Fset.File(af.FileStart).Name()
		src, err := pass.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("codemod: %w", err)
		}
		pkg.Files = append(pkg.Files, &File{Name: name, Src: src, AST: af})
	}
	deps := gosrc.Deps(pass.Pkg)
	l := newLegacy(func(path string) *types.Package { return deps[path] }, nil)
	if l.bridge == nil {
		return nil, nil // the package does not reach bridge
	}
	prog := &Program{Fset: pass.Fset, Packages: []*Package{pkg}, byPath: map[string]*Package{pkg.Path: pkg}}
	callSites := &Options{Rules: RuleSet{}}
	for _, r := range Rules {
		if r.Step == StepCallSite {
			callSites.Rules[r.ID] = true
		}
	}
	rt := newRetyper(prog, l, callSites, nil)
	for _, f := range pkg.Files {
		for _, u := range l.scanFile(pkg, f) {
			if u.kind == useRef {
				continue
			}
			d := analysis.Diagnostic{
				Pos:      u.pos,
				Category: u.rule.ID,
				Message:  fmt.Sprintf("legacy %s: use %s", legacyName(u.rule), u.rule.Form),
			}
			switch u.kind {
			case useMethodValue:
				d.Message = fmt.Sprintf("legacy %s taken as a method value: use a func literal calling %s", legacyName(u.rule), u.rule.Form)
			case useMethodExpr:
				d.Message = fmt.Sprintf("legacy %s taken as a method expression: use a func literal calling %s", legacyName(u.rule), u.rule.Form)
			}
			if !fixable(u, rt, callSites) {
				d.Message += " (" + u.reason + ")"
				pass.Report(d)
				continue
			}
			e := newFileEditor(pass.Fset, pkg, f)
			e.add(useEdit(u))
			edits, err := e.edits()
			if err != nil {
				return nil, err
			}
			tf := pkg.fileOf(f)
			fix := analysis.SuggestedFix{Message: "Rewrite to package facade"}
			for _, ed := range edits {
				fix.TextEdits = append(fix.TextEdits, gosrc.Edit(ed).TextEdit(tf))
			}
			d.SuggestedFixes = []analysis.SuggestedFix{fix}
			pass.Report(d)
		}
	}
	return nil, nil
}

// legacyName is the short name of the legacy API a rule rewrites.
func legacyName(r *Rule) string {
	return strings.TrimPrefix(r.Legacy, BridgePath[:strings.LastIndex(BridgePath, "/")+1])
}

// fileOf returns the token.File of f.
func (p *Package) fileOf(f *File) *token.File { return p.fset.File(f.AST.FileStart) }
