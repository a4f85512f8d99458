package codemod

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/token"
	"go/types"
	"slices"
	"strconv"

	"github.com/dave/dst"
	"github.com/dave/dst/decorator"
	"github.com/dave/dst/dstutil"
)

// fileEditor rewrites one file through its dst decoration. Imports are
// resolved from the package's type information, never by loading again.
type fileEditor struct {
	pkg *Package
	f   *File
	dec *decorator.Decorator
	df  *dst.File

	facadeName string // name the file refers to package facade by
	bridgeName string // name the file refers to package bridge by
	hasFacade  bool   // the file imports facade already
	hasBridge  bool   // the file imports bridge already
	needFacade bool

	pkgUses map[*ast.Ident]*types.PkgName // original package qualifiers
	added   map[*dst.Ident]bool           // bridge qualifiers the edits wrote
	replace map[dst.Node]dst.Node
	edits   int

	restorer *decorator.Restorer // set by finish
	restored *ast.File
}

func newFileEditor(fset *token.FileSet, pkg *Package, f *File) (*fileEditor, error) {
	dec := decorator.NewDecorator(fset)
	df, err := dec.DecorateFile(f.AST)
	if err != nil {
		return nil, fmt.Errorf("codemod: decorate %s: %w", f.Name, err)
	}
	e := &fileEditor{
		pkg: pkg, f: f, dec: dec, df: df,
		pkgUses: map[*ast.Ident]*types.PkgName{},
		added:   map[*dst.Ident]bool{},
		replace: map[dst.Node]dst.Node{},
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
	if !e.hasFacade {
		e.facadeName = fresh("facade", "wsfacade")
	}
	if !e.hasBridge {
		e.bridgeName = fresh("bridge", "wsbridge")
	}
	return e, nil
}

// node returns the dst node of an ast node of the file.
func (e *fileEditor) node(n ast.Node) dst.Node { return e.dec.Dst.Nodes[n] }

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

// finish fixes the imports and prints the file, gofmt-formatted. It
// returns nil if nothing changed.
func (e *fileEditor) finish() ([]byte, error) {
	if e.edits == 0 {
		return nil, nil
	}
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
	dstutil.Apply(e.df, pre, nil)
	used := map[*types.PkgName]bool{}
	usesAdded := false
	dst.Inspect(e.df, func(n dst.Node) bool {
		if id, ok := n.(*dst.Ident); ok {
			if e.added[id] {
				usesAdded = true
			} else if a, ok := e.dec.Ast.Nodes[id].(*ast.Ident); ok && e.pkgUses[a] != nil {
				used[e.pkgUses[a]] = true
			}
		}
		return true
	})
	e.fixImports(used, usesAdded)

	r := decorator.NewRestorer()
	af, err := r.RestoreFile(e.df)
	if err != nil {
		return nil, fmt.Errorf("codemod: print %s: %w", e.f.Name, err)
	}
	e.restorer, e.restored = r, af
	var buf bytes.Buffer
	if err := format.Node(&buf, r.Fset, af); err != nil {
		return nil, fmt.Errorf("codemod: print %s: %w", e.f.Name, err)
	}
	// gofmt-stable: format once more, so that a later gofmt changes nothing.
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("codemod: print %s: %w", e.f.Name, err)
	}
	if bytes.Equal(out, e.f.Src) {
		return nil, nil
	}
	return out, nil
}

// fixImports removes the imports the edits left unused and adds bridge and
// facade when the edits use them. used holds the imports the code still
// refers to, usesAdded says whether the edits wrote bridge qualifiers.
func (e *fileEditor) fixImports(used map[*types.PkgName]bool, usesAdded bool) {
	var bridgeSpec *dst.ImportSpec
	var bridgeDecl *dst.GenDecl
	var firstDecl *dst.GenDecl
	usesOld := false
	for _, d := range slices.Clone(e.df.Decls) {
		gd, ok := d.(*dst.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		for _, s := range slices.Clone(gd.Specs) {
			is := s.(*dst.ImportSpec)
			as, _ := e.dec.Ast.Nodes[is].(*ast.ImportSpec)
			if as == nil {
				continue
			}
			pn := e.pkg.Info.PkgNameOf(as)
			if pn == nil || pn.Name() == "_" || pn.Name() == "." {
				continue
			}
			if pn.Imported().Path() == BridgePath {
				bridgeSpec, bridgeDecl, usesOld = is, gd, used[pn]
				continue
			}
			if !used[pn] {
				gd.Specs = slices.DeleteFunc(gd.Specs, func(x dst.Spec) bool { return x == s })
			}
		}
		if len(gd.Specs) == 0 && gd != bridgeDecl {
			e.df.Decls = slices.DeleteFunc(e.df.Decls, func(x dst.Decl) bool { return x == gd })
			continue
		}
		if firstDecl == nil {
			firstDecl = gd
		}
	}
	spec := func(path, name, std string) *dst.ImportSpec {
		is := &dst.ImportSpec{Path: &dst.BasicLit{Kind: token.STRING, Value: strconv.Quote(path)}}
		if name != std {
			is.Name = dst.NewIdent(name)
		}
		return is
	}
	addFacade := e.needFacade && !e.hasFacade
	addBridge := usesAdded && !e.hasBridge
	usesBridge := usesOld || (usesAdded && e.hasBridge)
	switch {
	case bridgeSpec != nil && !usesBridge && addFacade:
		// facade takes the place of bridge, with its spacing and comments.
		bridgeSpec.Path.Value = strconv.Quote(FacadePath)
		bridgeSpec.Name = nil
		if e.facadeName != "facade" {
			bridgeSpec.Name = dst.NewIdent(e.facadeName)
		}
		addFacade = false
	case bridgeSpec != nil && !usesBridge:
		bridgeDecl.Specs = slices.DeleteFunc(bridgeDecl.Specs, func(s dst.Spec) bool { return s == bridgeSpec })
		if len(bridgeDecl.Specs) == 0 {
			e.df.Decls = slices.DeleteFunc(e.df.Decls, func(d dst.Decl) bool { return d == bridgeDecl })
			if firstDecl == bridgeDecl {
				firstDecl = nil
			}
		}
	}
	var add []*dst.ImportSpec
	if addBridge {
		add = append(add, spec(BridgePath, e.bridgeName, "bridge"))
	}
	if addFacade {
		add = append(add, spec(FacadePath, e.facadeName, "facade"))
	}
	if len(add) == 0 {
		return
	}
	if firstDecl == nil {
		firstDecl = &dst.GenDecl{Tok: token.IMPORT}
		firstDecl.Decs.Before, firstDecl.Decs.After = dst.EmptyLine, dst.EmptyLine
		e.df.Decls = append([]dst.Decl{firstDecl}, e.df.Decls...)
	}
	// Add beside bridge's import when it stays, so the new one lands in
	// the same group; else at the end of the first block.
	at := len(firstDecl.Specs)
	target := firstDecl
	if bridgeSpec != nil && usesBridge {
		target = bridgeDecl
		at = slices.Index(bridgeDecl.Specs, dst.Spec(bridgeSpec)) + 1
	}
	for _, is := range add {
		is.Decs.Before = dst.NewLine
		if at == len(target.Specs) && at > 0 {
			// keep the block's closing spacing on the last spec
			prev := target.Specs[at-1].(*dst.ImportSpec)
			is.Decs.After, prev.Decs.After = prev.Decs.After, dst.None
		}
		target.Specs = slices.Insert(target.Specs, at, dst.Spec(is))
		at++
	}
	if len(target.Specs) > 1 {
		target.Lparen = true
	}
}
