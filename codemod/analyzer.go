package codemod

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/printer"
	"go/token"
	"go/types"
	"strings"

	"github.com/dave/dst"
	"golang.org/x/tools/go/analysis"
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
	l := newLegacy(func(path string) *types.Package { return findImport(pass.Pkg, path) }, nil)
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
			if !fixable(u, rt, callSites) {
				d.Message += " (" + u.reason + ")"
				pass.Report(d)
				continue
			}
			e, err := newFileEditor(pass.Fset, pkg, f)
			if err != nil {
				return nil, err
			}
			node := e.apply(u)
			out, err := e.finish()
			if err != nil {
				return nil, err
			}
			if out != nil {
				edits, err := e.nodeEdits(u, node, out)
				if err != nil {
					return nil, err
				}
				d.SuggestedFixes = []analysis.SuggestedFix{{Message: "Rewrite to package facade", TextEdits: edits}}
			}
			pass.Report(d)
		}
	}
	return nil, nil
}

// legacyName is the short name of the legacy API a rule rewrites.
func legacyName(r *Rule) string {
	return strings.TrimPrefix(r.Legacy, BridgePath[:strings.LastIndex(BridgePath, "/")+1])
}

// findImport returns the package with the given path among the transitive
// imports of pkg.
func findImport(pkg *types.Package, path string) *types.Package {
	seen := map[*types.Package]bool{}
	var find func(p *types.Package) *types.Package
	find = func(p *types.Package) *types.Package {
		if p.Path() == path {
			return p
		}
		if seen[p] {
			return nil
		}
		seen[p] = true
		for _, imp := range p.Imports() {
			if found := find(imp); found != nil {
				return found
			}
		}
		return nil
	}
	return find(pkg)
}

// nodeEdits returns the edits of one rewritten use: the use's own range
// replaced by the new node (printed with its comments and indented like
// the line it stands on), and the import changes. Unlike whole-line edits,
// they leave the neighbouring lines alone, so the fixes of several
// diagnostics merge.
func (e *fileEditor) nodeEdits(u use, node dst.Node, out []byte) ([]analysis.TextEdit, error) {
	var old ast.Node = u.call
	if u.kind == useMessage {
		old = u.sel
	}
	var buf bytes.Buffer
	cn := &printer.CommentedNode{Node: e.restorer.Ast.Nodes[node], Comments: e.restored.Comments}
	if err := format.Node(&buf, e.restorer.Fset, cn); err != nil {
		return nil, fmt.Errorf("codemod: print %s: %w", e.f.Name, err)
	}
	tf := e.pkg.fileOf(e.f)
	start := tf.Offset(old.Pos())
	line := e.f.Src[bytes.LastIndexByte(e.f.Src[:start], '\n')+1 : start]
	indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
	text := bytes.ReplaceAll(buf.Bytes(), []byte("\n"), append([]byte("\n"), indent...))
	edits := []analysis.TextEdit{{Pos: old.Pos(), End: old.End(), NewText: text}}

	// The import block: the line diff of everything before the first
	// declaration that is not an import.
	end := len(e.f.Src)
	for _, d := range e.f.AST.Decls {
		if gd, ok := d.(*ast.GenDecl); !ok || gd.Tok != token.IMPORT {
			end = tf.Offset(d.Pos())
			break
		}
	}
	newEnd := bytes.Index(out, e.f.Src[end:min(end+64, len(e.f.Src))])
	if newEnd < 0 {
		return nil, fmt.Errorf("codemod: %s: cannot find the end of the imports in the rewritten file", e.f.Name)
	}
	return append(edits, textEdits(tf, e.f.Src[:end], out[:newEnd])...), nil
}

// fileOf returns the token.File of f.
func (p *Package) fileOf(f *File) *token.File { return p.fset.File(f.AST.FileStart) }

// textEdits turns the line diff from old to new into edits of tf, whose
// content starts with old.
func textEdits(tf *token.File, old, new []byte) []analysis.TextEdit {
	a, b := splitLines(old), splitLines(new)
	offsets := make([]int, len(a)+1) // offsets[i] is the start of line i of old
	for i, l := range a {
		offsets[i+1] = offsets[i] + len(strings.TrimSuffix(l, "\n\\ No newline at end of file\n"))
	}
	var edits []analysis.TextEdit
	ops := diffLines(a, b)
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := ops[i].a
		end := start
		var text strings.Builder
		for ; i < len(ops) && ops[i].kind != ' '; i++ {
			if ops[i].kind == '-' {
				end = ops[i].a + 1
			} else {
				text.WriteString(strings.TrimSuffix(b[ops[i].b], "\n\\ No newline at end of file\n"))
			}
		}
		edits = append(edits, analysis.TextEdit{
			Pos:     tf.Pos(offsets[start]),
			End:     tf.Pos(offsets[end]),
			NewText: []byte(text.String()),
		})
	}
	return edits
}
