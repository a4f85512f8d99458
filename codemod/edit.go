package codemod

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"go/types"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/wsunify/wsunify/internal/gosrc"
)

// fileEditor rewrites one file. Each outermost node an edit touches is
// rendered as text (render.go) and spliced in place: the rest of the file
// stays byte for byte, and the cost follows the size of the edits, not of
// the file. Import names come from the package's type information, never
// from loading again.
type fileEditor struct {
	pkg  *Package
	f    *File
	fset *token.FileSet

	facadeName string // name the file refers to package facade by
	bridgeName string // name the file refers to package bridge by
	hasFacade  bool   // the file imports facade already
	hasBridge  bool   // the file imports bridge already
	needFacade bool

	pkgUses map[*ast.Ident]*types.PkgName // original package qualifiers
	direct  map[*ast.SelectorExpr]bool    // calls whose receiver the step retypes
	lookup  func(path string) *types.Package
	l       *legacy // the rules

	usesAddedText bool // the edits wrote bridge qualifiers

	fresh        func(names ...string) string // a name no identifier of the file uses
	imports      map[string]addedImport       // packages the edits import, by path
	assignedVars map[*types.Var]bool          // see assigned
	keep         map[*types.PkgName]bool      // imports the edits refer to

	pending []edit
}

// edit is one change to a file: text writes the new text of target, with
// the edits inside it rendered in (renderer.of).
type edit struct {
	target ast.Node
	text   func(*renderer) string
}

// textEdit replaces the bytes [Start, End) of a file with New.
type textEdit = gosrc.Edit

func newFileEditor(fset *token.FileSet, pkg *Package, f *File) *fileEditor {
	e := &fileEditor{
		pkg: pkg, f: f, fset: fset,
		pkgUses: map[*ast.Ident]*types.PkgName{},
		imports: map[string]addedImport{},
		keep:    map[*types.PkgName]bool{},
	}
	// Names declared in the file: an import under one of them would be
	// shadowed where the edits use it.
	taken := map[string]bool{}
	ast.Inspect(f.AST, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if obj := pkg.Info.Defs[id]; obj != nil {
				if _, isImport := obj.(*types.PkgName); !isImport {
					taken[id.Name] = true
				}
			}
			if pn, ok := pkg.Info.Uses[id].(*types.PkgName); ok {
				e.pkgUses[id] = pn
			}
		}
		return true
	})
	imported := map[string]bool{}
	for _, spec := range f.AST.Imports {
		pn := pkg.Info.PkgNameOf(spec)
		if pn == nil || pn.Name() == "_" || pn.Name() == "." {
			continue
		}
		imported[pn.Name()] = true
		switch {
		case taken[pn.Name()]:
			// shadowed somewhere in the file: import it again under a free name
		case pn.Imported().Path() == FacadePath:
			e.facadeName, e.hasFacade = pn.Name(), true
		case pn.Imported().Path() == BridgePath:
			e.bridgeName, e.hasBridge = pn.Name(), true
		}
	}
	for n := range imported {
		taken[n] = true
	}
	fresh := func(names ...string) string {
		for i := 0; ; i++ {
			for _, n := range names {
				if i > 0 {
					n += strconv.Itoa(i + 1)
				}
				if !taken[n] && (pkg.Types == nil || pkg.Types.Scope().Lookup(n) == nil) {
					taken[n] = true
					return n
				}
			}
		}
	}
	e.fresh = fresh
	if !e.hasFacade {
		e.facadeName = fresh("facade", "wsfacade")
	}
	if !e.hasBridge {
		e.bridgeName = fresh("bridge", "wsbridge")
	}
	return e
}

// add records an edit; it runs in finish.
func (e *fileEditor) add(ed edit) { e.pending = append(e.pending, ed) }

// edits renders the pending edits and returns the text edits of the
// file: each outermost target written in place, and the import changes.
// It returns nil if there are no edits.
func (e *fileEditor) edits() ([]textEdit, error) {
	if len(e.pending) == 0 {
		return nil, nil
	}
	r := newRenderer(e)
	tf := e.pkg.fileOf(e.f)
	var out []textEdit
	var units [][2]int
	for _, t := range r.targets {
		if n := len(units); n > 0 && tf.Offset(t.End()) <= units[n-1][1] {
			continue // inside the previous unit
		}
		start, end := tf.Offset(t.Pos()), tf.Offset(t.End())
		units = append(units, [2]int{start, end})
		out = append(out, textEdit{Start: start, End: end, New: r.of(t)})
	}
	used := map[*types.PkgName]bool{}
	for pn := range e.keep {
		used[pn] = true
	}
	// Qualifiers outside the units are untouched; inside a unit, those in
	// copied source are kept.
	for id, pn := range e.pkgUses {
		off := tf.Offset(id.Pos())
		in := func(c [2]int) bool { return off >= c[0] && off < c[1] }
		if !slices.ContainsFunc(units, in) || slices.ContainsFunc(r.copied, in) {
			used[pn] = true
		}
	}
	out = append(out, e.importEdits(used, e.usesAddedText)...)
	// An insertion goes before a replacement that starts where it does.
	slices.SortFunc(out, func(a, b textEdit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	return out, nil
}

// finish applies the edits and returns the new content, gofmt-formatted,
// or nil if nothing changed. When the spliced text is gofmt-formatted
// already (the common case), its syntax tree, parsed into e.fset, comes
// with it, so that verifying the change need not parse it again.
func (e *fileEditor) finish() ([]byte, *ast.File, error) {
	edits, err := e.edits()
	if err != nil || edits == nil {
		return nil, nil, err
	}
	src, err := gosrc.Apply(e.f.Src, edits)
	if err != nil {
		return nil, nil, fmt.Errorf("codemod: %s: %w", e.f.Name, err)
	}
	out, af, err := gofmtFile(e.fset, e.f.Name, src)
	if err != nil {
		return nil, nil, fmt.Errorf("codemod: %s: the rewritten file does not parse: %w", e.f.Name, err)
	}
	if bytes.Equal(out, e.f.Src) {
		return nil, nil, nil
	}
	return out, af, nil
}

// gofmtFile returns src formatted as gofmt (go/format.Source) does, with
// one parse. If the printed text is src itself, the syntax tree is
// returned too, since it is then the tree of the result, and its file
// joins fset.
//
// src is parsed into a file set of its own, at a range of positions
// reserved in fset: the printer looks up the file of every position it
// prints, which in fset, shared by every file of the program and by the
// goroutines that rewrite them, is a search under a lock.
func gofmtFile(fset *token.FileSet, name string, src []byte) ([]byte, *ast.File, error) {
	reserved := fset.AddFile(name, -1, len(src))
	fset.RemoveFile(reserved)
	own := token.NewFileSet()
	if base := reserved.Base(); base > own.Base() {
		own.AddFile("", own.Base(), base-own.Base()-1) // positions below the reserved range
	}
	af, err := parser.ParseFile(own, name, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, err
	}
	if maybeAbnormal(src) && !numbersNormal(af) {
		// gofmt rewrites these literals; only go/format knows how.
		out, err := format.Source(src)
		return out, nil, err
	}
	ast.SortImports(own, af)
	var buf bytes.Buffer
	buf.Grow(len(src))
	if err := gofmtPrinter.Fprint(&buf, own, af); err != nil {
		return nil, nil, err
	}
	if bytes.Equal(buf.Bytes(), src) {
		fset.AddExistingFiles(own.File(af.FileStart))
		return src, af, nil
	}
	return buf.Bytes(), nil, nil
}

// gofmtPrinter prints as go/format does, but for the normalization of
// number literals (see numbersNormal).
var gofmtPrinter = printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}

// numbersNormal reports whether every number literal of f is written as
// gofmt writes it (lower-case prefixes and exponents; imaginary literals
// are left to gofmt).
func numbersNormal(f *ast.File) bool {
	ok := true
	ast.Inspect(f, func(n ast.Node) bool {
		lit, isLit := n.(*ast.BasicLit)
		if !isLit || len(lit.Value) < 2 {
			return ok
		}
		v := lit.Value
		switch lit.Kind {
		case token.IMAG:
			ok = false
		case token.INT, token.FLOAT:
			switch v[:2] {
			case "0X", "0O", "0B":
				ok = false
			case "0x":
				ok = ok && !strings.ContainsRune(v, 'P')
			case "0o", "0b":
			default:
				ok = ok && !strings.ContainsRune(v, 'E')
			}
		}
		return ok
	})
	return ok
}

// maybeAbnormal reports whether src may hold a number literal that
// numbersNormal rejects: one with X, O, B, E, P or i, in a token that
// starts with a digit, or with "." and a digit (an identifier never does).
func maybeAbnormal(src []byte) bool {
	for i, c := range src {
		switch c {
		case 'X', 'O', 'B', 'E', 'P', 'i':
		default:
			continue
		}
		j := i
		for j > 0 && isNumberByte(src[j-1]) {
			j--
		}
		if j < i && (isDigit(src[j]) || src[j] == '.' && isDigit(src[j+1])) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isNumberByte reports whether c may stand in a number literal or an
// identifier.
func isNumberByte(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '.'
}

// importEdits removes the imports the edits left unused and adds bridge
// and facade where the edits use them. used holds the imports the code
// still refers to; usesAdded says whether the edits wrote bridge
// qualifiers.
func (e *fileEditor) importEdits(used map[*types.PkgName]bool, usesAdded bool) []textEdit {
	tf := e.pkg.fileOf(e.f)
	src := e.f.Src
	off := func(p token.Pos) int { return tf.Offset(p) }
	// lineSpan widens [start, end) to whole lines when nothing else stands
	// on them.
	lineSpan := func(start, end int) (int, int) {
		ls := bytes.LastIndexByte(src[:start], '\n') + 1
		le := end
		if i := bytes.IndexByte(src[end:], '\n'); i >= 0 {
			le = end + i + 1
		}
		if len(bytes.TrimSpace(src[ls:start])) == 0 && len(bytes.TrimSpace(src[end:le])) == 0 {
			return ls, le
		}
		return start, end
	}
	var out []textEdit
	var bridgeSpec *ast.ImportSpec
	var bridgeDecl, firstDecl *ast.GenDecl
	usesBridge := false
	for _, d := range e.f.AST.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		removed := 0
		var dropped []textEdit
		for _, s := range gd.Specs {
			is := s.(*ast.ImportSpec)
			pn := e.pkg.Info.PkgNameOf(is)
			if pn == nil || pn.Name() == "_" || pn.Name() == "." {
				continue
			}
			if pn.Imported().Path() == BridgePath && bridgeSpec == nil {
				bridgeSpec, bridgeDecl = is, gd
				usesBridge = used[pn] || (usesAdded && e.hasBridge && pn.Name() == e.bridgeName)
				if usesBridge {
					continue
				}
			} else if used[pn] {
				continue
			}
			start := off(is.Pos())
			if is.Doc != nil {
				start = off(is.Doc.Pos())
			}
			end := off(is.End())
			if is.Comment != nil {
				end = off(is.Comment.End())
			}
			if is == bridgeSpec {
				continue // decided below: removed, or replaced by facade
			}
			s, en := lineSpan(start, end)
			dropped = append(dropped, textEdit{Start: s, End: en})
			removed++
		}
		bridgeGone := bridgeDecl == gd && !usesBridge
		if removed+b2i(bridgeGone) == len(gd.Specs) && !(bridgeGone && e.needFacade && !e.hasFacade) {
			// The whole declaration goes.
			start := off(gd.Pos())
			if gd.Doc != nil {
				start = off(gd.Doc.Pos())
			}
			s, en := lineSpan(start, off(gd.End()))
			out = append(out, textEdit{Start: s, End: en})
			if bridgeDecl == gd {
				bridgeSpec, bridgeDecl = nil, nil
			}
			continue
		}
		out = append(out, dropped...)
		if firstDecl == nil {
			firstDecl = gd
		}
	}
	addFacade := e.needFacade && !e.hasFacade
	addBridge := usesAdded && !e.hasBridge
	specText := func(path, name, std string) string {
		if name != std {
			return name + " " + strconv.Quote(path)
		}
		return strconv.Quote(path)
	}
	if bridgeSpec != nil && !usesBridge {
		start, end := off(bridgeSpec.Pos()), off(bridgeSpec.End())
		if addFacade {
			// facade takes the place of bridge, with its comments.
			out = append(out, textEdit{Start: start, End: end, New: specText(FacadePath, e.facadeName, "facade")})
			addFacade = false
		} else {
			if bridgeSpec.Doc != nil {
				start = off(bridgeSpec.Doc.Pos())
			}
			if bridgeSpec.Comment != nil {
				end = off(bridgeSpec.Comment.End())
			}
			s, en := lineSpan(start, end)
			out = append(out, textEdit{Start: s, End: en})
		}
	}
	// The standard library's imports go to a group of their own, first,
	// as goimports puts them; the others to the last group.
	var add, std []string
	if addBridge {
		add = append(add, specText(BridgePath, e.bridgeName, "bridge"))
	}
	if addFacade {
		add = append(add, specText(FacadePath, e.facadeName, "facade"))
	}
	for _, path := range slices.Sorted(maps.Keys(e.imports)) {
		spec := specText(path, e.imports[path].name, e.imports[path].pkgName)
		if isStdPath(path) {
			std = append(std, spec)
		} else {
			add = append(add, spec)
		}
	}
	lines := func(specs []string) string { return strings.Join(specs, "\n\t") }
	if len(std) > 0 && firstDecl != nil && firstDecl.Lparen.IsValid() {
		// At the top of the block, in the first group if it is the
		// standard library's.
		text := "\n\t" + lines(std)
		if first := firstDecl.Specs[0].(*ast.ImportSpec); !isStdPath(gosrc.ImportPath(first)) {
			text += "\n"
		}
		at := off(firstDecl.Lparen) + 1
		out = append(out, textEdit{Start: at, End: at, New: text})
		std = nil
	}
	if len(add) == 0 && len(std) == 0 {
		return out
	}
	switch {
	case len(add) > 0 && len(std) == 0 && bridgeSpec != nil && usesBridge && bridgeDecl.Lparen.IsValid():
		// Beside bridge's import, in its group.
		end := off(bridgeSpec.End())
		if bridgeSpec.Comment != nil {
			end = off(bridgeSpec.Comment.End())
		}
		out = append(out, textEdit{Start: end, End: end, New: "\n\t" + lines(add)})
	case len(add) > 0 && firstDecl != nil && firstDecl.Lparen.IsValid():
		at := off(firstDecl.Rparen)
		out = append(out, textEdit{Start: at, End: at, New: "\t" + lines(add) + "\n"})
	case firstDecl != nil:
		// One import without parentheses: the block around it.
		spec := firstDecl.Specs[0].(*ast.ImportSpec)
		before, after := "(\n\t", "\n)"
		if isStdPath(gosrc.ImportPath(spec)) {
			if len(std) > 0 {
				before += lines(std) + "\n\t"
			}
			if len(add) > 0 {
				after = "\n\n\t" + lines(add) + after
			}
		} else {
			if len(std) > 0 {
				before += lines(std) + "\n\n\t"
			}
			if len(add) > 0 {
				after = "\n\t" + lines(add) + after
			}
		}
		at, end := off(spec.Pos()), off(spec.End())
		out = append(out, textEdit{Start: at, End: at, New: before}, textEdit{Start: end, End: end, New: after})
	default:
		at := off(e.f.AST.Name.End())
		groups := []string{}
		for _, g := range [][]string{std, add} {
			if len(g) > 0 {
				groups = append(groups, "\t"+lines(g))
			}
		}
		out = append(out, textEdit{Start: at, End: at, New: "\n\nimport (\n" + strings.Join(groups, "\n\n") + "\n)"})
	}
	return out
}

// isStdPath reports whether path is a package of the standard library: its
// first element has no dot.
func isStdPath(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
