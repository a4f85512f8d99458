package codemod

import (
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsunify/wsunify/codemod/recipe"
	"github.com/wsunify/wsunify/codemod/recipe/builtin"

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

// analyzerRecipeFile is the analyzer's -recipe flag: the recipe file to
// run instead of the built-in one.
var analyzerRecipeFile string

func init() {
	Analyzer.Flags.StringVar(&analyzerRecipeFile, "recipe", "", "run the rules of this recipe `file` instead of the built-in recipe")
}

// analyzerRecipe parses the analyzer's recipe against the packages pass
// imports, so that its types are the package's own. It returns nil when
// the package does not reach every package the recipe imports: it cannot
// use the legacy API then. Under go vet, a package's indirect imports
// hold only what its direct ones need: the recipe is then checked against
// packages the go command loads, and rebind is set.
func analyzerRecipe(pass *analysis.Pass) (rc *recipe.Recipe, rebind bool, err error) {
	name, src := builtin.Filename, builtin.Source
	if analyzerRecipeFile != "" {
		b, err := os.ReadFile(analyzerRecipeFile)
		if err != nil {
			return nil, false, fmt.Errorf("codemod: %w", err)
		}
		name, src = analyzerRecipeFile, b
	}
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
	if err != nil {
		return nil, false, fmt.Errorf("codemod: recipe: %w", err)
	}
	deps := gosrc.Deps(pass.Pkg)
	complete := true
	for _, spec := range af.Imports {
		p := deps[gosrc.ImportPath(spec)]
		if p == nil && !isStdPath(gosrc.ImportPath(spec)) {
			return nil, false, nil
		}
		complete = complete && p != nil && p.Complete()
	}
	if !complete {
		dir := filepath.Dir(pass.Fset.File(pass.Files[0].FileStart).Name())
		pkgs, err := recipe.LoadImports(context.Background(), dir, fset, name, src, recipe.LoadMode)
		if err != nil {
			return nil, false, err
		}
		rc, err := recipe.Parse(fset, name, src, recipe.ImporterOf(pkgs))
		return rc, true, err
	}
	rc, err = recipe.Parse(fset, name, src, importerFunc(func(path string) (*types.Package, error) {
		if p := deps[path]; p != nil {
			return p, nil
		}
		return stdImporter.Import(path)
	}))
	return rc, false, err
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
	rc, rebind, err := analyzerRecipe(pass)
	if rc == nil || err != nil {
		return nil, err // the package does not reach the recipe's packages, or the recipe is refused
	}
	deps := gosrc.Deps(pass.Pkg)
	lookup := func(path string) *types.Package { return deps[path] }
	var l *legacy
	if rebind {
		l = newLegacyRebound(rc, lookup)
	} else {
		l = newLegacy(rc, lookup, nil)
	}
	l.everyRef = analyzerRecipeFile == ""
	prog := &Program{Fset: pass.Fset, Packages: []*Package{pkg}, byPath: map[string]*Package{pkg.Path: pkg}}
	callSites := &Options{Rules: RuleSet{}}
	for _, r := range l.rules {
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
				Message:  fmt.Sprintf("legacy %s: use %s", shortLegacy(u.rule), u.rule.Form),
			}
			switch u.kind {
			case useMethodValue:
				d.Message = fmt.Sprintf("legacy %s taken as a method value: use a func literal calling %s", shortLegacy(u.rule), u.rule.Form)
			case useMethodExpr:
				d.Message = fmt.Sprintf("legacy %s taken as a method expression: use a func literal calling %s", shortLegacy(u.rule), u.rule.Form)
			}
			if !fixable(u, rt, callSites) {
				d.Message += " (" + u.reason + ")"
				pass.Report(d)
				continue
			}
			e := newFileEditor(pass.Fset, pkg, f)
			e.l = l
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

// shortLegacy is the short name of the legacy API a rule rewrites.
func shortLegacy(r *Rule) string {
	if r.src != nil && r.src.Legacy != nil {
		return r.src.LegacyName(func(p *types.Package) string { return p.Name() })
	}
	return strings.TrimPrefix(r.Legacy, BridgePath[:strings.LastIndex(BridgePath, "/")+1])
}

// fileOf returns the token.File of f.
func (p *Package) fileOf(f *File) *token.File { return p.fset.File(f.AST.FileStart) }
