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

	"github.com/dave/dst"
	"github.com/dave/dst/decorator"
	"github.com/dave/dst/dstutil"
)

// fileEditor rewrites one file. Each outermost node an edit touches is cut
// out with its comments, decorated with github.com/dave/dst, rewritten,
// printed, and spliced back in place: the rest of the file stays byte for
// byte, and the cost follows the size of the edits, not of the file. Import
// names come from the package's type information, never from loading again.
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
	added   map[*dst.Ident]bool           // bridge qualifiers the edits wrote
	replace map[dst.Node]dst.Node
	direct  map[*ast.SelectorExpr]bool // calls whose receiver the step retypes
	dstOnly bool                       // no text path (tests)

	usesAddedText bool // the text path wrote bridge qualifiers

	fresh        func(names ...string) string // a name no identifier of the file uses
	imports      map[string]addedImport       // packages the edits import, by path
	assignedVars map[*types.Var]bool          // see assigned
	keep         map[*types.PkgName]bool      // imports the edits refer to

	pending []edit
	units   []*unit
	nodes   map[ast.Node]dst.Node // original node → its dst node in a unit
}

// edit is one change to a file: do rewrites the dst nodes of target (and
// of nodes inside it); text writes the same change as text.
type edit struct {
	target ast.Node
	do     func(*fileEditor)
	text   func(*renderer) string
}

// unit is one outermost rewritten node, decorated on its own.
type unit struct {
	root       ast.Node
	start, end int // offsets of root in the file
	dec        *decorator.Decorator
	df         *dst.File
	orig       map[ast.Node]ast.Node // snippet node → original node
}

// textEdit replaces the bytes [Start, End) of a file with New.
type textEdit struct {
	Start, End int
	New        string
}

func newFileEditor(fset *token.FileSet, pkg *Package, f *File) *fileEditor {
	e := &fileEditor{
		pkg: pkg, f: f, fset: fset,
		pkgUses: map[*ast.Ident]*types.PkgName{},
		added:   map[*dst.Ident]bool{},
		replace: map[dst.Node]dst.Node{},
		nodes:   map[ast.Node]dst.Node{},
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

// node returns the dst node of an original node inside an edited unit.
func (e *fileEditor) node(n ast.Node) dst.Node {
	d, ok := e.nodes[n]
	if !ok {
		panic(fmt.Sprintf("codemod: %s: no dst node for %T at %s", e.f.Name, n, e.fset.Position(n.Pos())))
	}
	return d
}

// facadeSel is facade.name.
func (e *fileEditor) facadeSel(name string) *dst.SelectorExpr {
	e.needFacade = true
	return &dst.SelectorExpr{X: dst.NewIdent(e.facadeName), Sel: dst.NewIdent(name)}
}

// bridgeCall is bridge.fn(arg).
func (e *fileEditor) bridgeCall(fn string, arg dst.Expr) *dst.CallExpr {
	id := dst.NewIdent(e.bridgeName)
	e.added[id] = true
	return &dst.CallExpr{Fun: &dst.SelectorExpr{X: id, Sel: dst.NewIdent(fn)}, Args: []dst.Expr{arg}}
}

// wrap returns fun(args...), moving the spacing and the comments around
// the arguments to the new call, so that a multi-line argument list keeps
// its shape and a comment stays where it was. Comments between arguments
// stay with their argument.
func wrap(fun dst.Expr, args ...dst.Expr) *dst.CallExpr {
	c := &dst.CallExpr{Fun: fun, Args: args}
	if len(args) == 0 {
		return c
	}
	first, last := args[0].Decorations(), args[len(args)-1].Decorations()
	c.Decs.Before, c.Decs.Start = first.Before, first.Start
	c.Decs.After, c.Decs.End = last.After, last.End
	first.Start, last.End = nil, nil
	for _, a := range args {
		a.Decorations().Before, a.Decorations().After = dst.None, dst.None
	}
	return c
}

// snippetPrefix is what a unit's text is parsed after: a unit is an
// expression or a type, and both parse as the value of a var.
const snippetPrefix = "package p\n\nvar _ = "

// makeUnits finds the outermost targets of the pending edits.
func (e *fileEditor) makeUnits() {
	tf := e.pkg.fileOf(e.f)
	targets := make([]ast.Node, 0, len(e.pending))
	for _, ed := range e.pending {
		targets = append(targets, ed.target)
	}
	slices.SortFunc(targets, func(a, b ast.Node) int {
		if a.Pos() != b.Pos() {
			return int(a.Pos() - b.Pos())
		}
		return int(b.End() - a.End())
	})
	for _, t := range targets {
		if n := len(e.units); n > 0 && t.End() <= e.units[n-1].root.End() {
			continue // inside the previous unit
		}
		e.units = append(e.units, &unit{root: t, start: tf.Offset(t.Pos()), end: tf.Offset(t.End())})
	}
}

// decorate parses the text of u on its own, with the comments inside it,
// and decorates it.
func (e *fileEditor) decorate(u *unit) error {
	src := snippetPrefix + string(e.f.Src[u.start:u.end]) + "\n"
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return fmt.Errorf("codemod: %s: reparse %q: %w", e.f.Name, src[len(snippetPrefix):], err)
	}
	mini := af.Decls[0].(*ast.GenDecl).Specs[0].(*ast.ValueSpec).Values[0]
	var from, to []ast.Node
	ast.Inspect(u.root, func(n ast.Node) bool {
		if n != nil {
			from = append(from, n)
		}
		return true
	})
	ast.Inspect(mini, func(n ast.Node) bool {
		if n != nil {
			to = append(to, n)
		}
		return true
	})
	if len(from) != len(to) {
		return fmt.Errorf("codemod: %s: %T at %s does not reparse alike", e.f.Name, u.root, e.fset.Position(u.root.Pos()))
	}
	u.dec = decorator.NewDecorator(fset)
	if u.df, err = u.dec.DecorateFile(af); err != nil {
		return fmt.Errorf("codemod: decorate %s: %w", e.f.Name, err)
	}
	u.orig = map[ast.Node]ast.Node{}
	for i, n := range from {
		if fmt.Sprintf("%T", n) != fmt.Sprintf("%T", to[i]) {
			return fmt.Errorf("codemod: %s: %T at %s does not reparse alike", e.f.Name, u.root, e.fset.Position(u.root.Pos()))
		}
		e.nodes[n] = u.dec.Dst.Nodes[to[i]]
		u.orig[to[i]] = n
	}
	return nil
}

// edits runs the pending edits and returns the text edits of the file:
// each unit printed in place, and the import changes. It returns nil if
// there are no edits. A unit with comments inside goes through dst; one
// without is written from its source text (see text.go).
func (e *fileEditor) edits() ([]textEdit, error) {
	if len(e.pending) == 0 {
		return nil, nil
	}
	e.makeUnits()
	r := newRenderer(e)
	// Replacements may nest (a replaced node inside a replacement), so
	// each replacement is walked in turn.
	var pre func(c *dstutil.Cursor) bool
	pre = func(c *dstutil.Cursor) bool {
		r, ok := e.replace[c.Node()]
		if !ok {
			return true
		}
		delete(e.replace, c.Node())
		c.Replace(r)
		dstutil.Apply(r, pre, nil)
		return false
	}
	used := map[*types.PkgName]bool{}
	usesAdded := false
	var out []textEdit
	var viaDST []*unit
	for _, u := range e.units {
		if !e.dstOnly && !e.hasComment(u.root.Pos(), u.root.End()) {
			out = append(out, textEdit{Start: u.start, End: u.end, New: r.of(u.root)})
			continue
		}
		if err := e.decorate(u); err != nil {
			return nil, err
		}
		viaDST = append(viaDST, u)
		for _, ed := range e.pending {
			if ed.target.Pos() >= u.root.Pos() && ed.target.End() <= u.root.End() {
				ed.do(e)
			}
		}
		dstutil.Apply(u.df, pre, nil)
		dst.Inspect(u.df, func(n dst.Node) bool {
			if id, ok := n.(*dst.Ident); ok {
				if e.added[id] {
					usesAdded = true
				} else if a, ok := u.dec.Ast.Nodes[id]; ok {
					if pn := e.pkgUses[asIdent(u.orig[a])]; pn != nil {
						used[pn] = true
					}
				}
			}
			return true
		})
		rs := decorator.NewRestorer()
		af, err := rs.RestoreFile(u.df)
		if err != nil {
			return nil, fmt.Errorf("codemod: print %s: %w", e.f.Name, err)
		}
		var buf bytes.Buffer
		if err := format.Node(&buf, rs.Fset, af); err != nil {
			return nil, fmt.Errorf("codemod: print %s: %w", e.f.Name, err)
		}
		text, ok := strings.CutPrefix(buf.String(), snippetPrefix)
		if !ok {
			return nil, fmt.Errorf("codemod: print %s: unexpected snippet %q", e.f.Name, buf.String())
		}
		out = append(out, textEdit{Start: u.start, End: u.end, New: strings.TrimSuffix(text, "\n")})
	}
	usesAdded = usesAdded || e.usesAddedText
	for pn := range e.keep {
		used[pn] = true
	}
	// Qualifiers outside the units are untouched; inside a unit written
	// from text, those in copied source are kept.
	tf := e.pkg.fileOf(e.f)
	for id, pn := range e.pkgUses {
		off := tf.Offset(id.Pos())
		in := func(a, b int) bool { return off >= a && off < b }
		if slices.ContainsFunc(viaDST, func(u *unit) bool { return in(u.start, u.end) }) {
			continue
		}
		if !slices.ContainsFunc(e.units, func(u *unit) bool { return in(u.start, u.end) }) ||
			slices.ContainsFunc(r.copied, func(c [2]int) bool { return in(c[0], c[1]) }) {
			used[pn] = true
		}
	}
	out = append(out, e.importEdits(used, usesAdded)...)
	// An insertion goes before a replacement that starts where it does.
	slices.SortFunc(out, func(a, b textEdit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	return out, nil
}

func asIdent(n ast.Node) *ast.Ident {
	id, _ := n.(*ast.Ident)
	return id
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
	out, af, err := gofmtFile(e.fset, e.f.Name, applyEdits(e.f.Src, edits))
	if err != nil {
		return nil, nil, fmt.Errorf("codemod: %s: the rewritten file does not parse: %w", e.f.Name, err)
	}
	if bytes.Equal(out, e.f.Src) {
		return nil, nil, nil
	}
	return out, af, nil
}

// gofmtFile returns src formatted as gofmt (go/format.Source) does, with
// one parse: src is parsed into fset and printed. If the printed text is
// src itself, the syntax tree is returned too, since it is then the tree
// of the result.
func gofmtFile(fset *token.FileSet, name string, src []byte) ([]byte, *ast.File, error) {
	af, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, err
	}
	if !numbersNormal(af) {
		// gofmt rewrites these literals; only go/format knows how.
		out, err := format.Source(src)
		return out, nil, err
	}
	ast.SortImports(fset, af)
	var buf bytes.Buffer
	buf.Grow(len(src))
	if err := gofmtPrinter.Fprint(&buf, fset, af); err != nil {
		return nil, nil, err
	}
	if bytes.Equal(buf.Bytes(), src) {
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

// applyEdits applies sorted, non-overlapping edits to src.
func applyEdits(src []byte, edits []textEdit) []byte {
	var b bytes.Buffer
	b.Grow(len(src) + 256)
	last := 0
	for _, ed := range edits {
		b.Write(src[last:ed.Start])
		b.WriteString(ed.New)
		last = ed.End
	}
	b.Write(src[last:])
	return b.Bytes()
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
		if first := firstDecl.Specs[0].(*ast.ImportSpec); !isStdPath(importPath(first)) {
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
		if isStdPath(importPath(spec)) {
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

// importPath is the path an import spec names.
func importPath(spec *ast.ImportSpec) string {
	p, err := strconv.Unquote(spec.Path.Value)
	if err != nil {
		return spec.Path.Value
	}
	return p
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
