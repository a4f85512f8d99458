package shim

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/wsunify/wsunify/codemod"
	"github.com/wsunify/wsunify/internal/gosrc"
)

// An exported variable of the old package becomes a forwarder that is a
// copy of the new one, made when the package is initialized: a hook or a
// counter set through the old path is no longer the new package's. The
// shim says so for every variable it forwards (a note), and one that code
// writes through the old path (assigns, increments, takes the address
// of, or calls a pointer method on, directly or through a field or an
// array element of it) is a finding with the places that write it; it is
// kept as it is. So is every exported variable that modules the shim does
// not see may write: all but sentinel errors, in a package that other
// modules may import (codemod.Exposed: a library's, or a service's that
// none of its commands imports).

// varFile is a file that may write variables of the old package:
// a file of another package that imports it (by the name name, "." for a
// dot import), or a file of the old package itself that the shim does
// not rewrite (its tests, files excluded by build constraints), whose
// references to the package's variables are plain identifiers.
type varFile struct {
	path     string
	src      []byte
	internal bool
}

// varWriters are who may write the variables of the old package: the
// files of its module that may, and why modules the shim does not see may
// import it ("" if none can: an internal package, or one a service's
// commands import; see codemod.Exposed).
type varWriters struct {
	files   []varFile
	exposed string
}

// listVarFiles lists the files of the module at root that may write the
// variables of the package cfg.Old: those that mention its import path,
// and the package's own files (its tests, files excluded by build
// constraints; the caller leaves out those the shim rewrites); and
// whether other modules may import it.
func listVarFiles(ctx context.Context, root string, cfg Config) (varWriters, error) {
	lc := &packages.Config{Context: ctx, Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedModule,
		Dir: root, Env: cfg.Env, Tests: true}
	pkgs, err := packages.Load(lc, "./...")
	if err != nil {
		return varWriters{}, fmt.Errorf("shim: list the importers of %s: %w", cfg.Old, err)
	}
	var files []varFile
	seen := map[string]bool{}
	quoted := []byte(strconv.Quote(cfg.Old))
	for _, p := range pkgs {
		internal := p.PkgPath == cfg.Old
		for _, name := range slices.Concat(p.GoFiles, p.IgnoredFiles) {
			if seen[name] || !strings.HasSuffix(name, ".go") {
				continue
			}
			seen[name] = true
			src, err := os.ReadFile(name)
			if err != nil || !internal && !bytes.Contains(src, quoted) {
				continue
			}
			files = append(files, varFile{path: name, src: src, internal: internal})
		}
	}
	return varWriters{files: files, exposed: codemod.Exposed(pkgs, cfg.Old, "the shim")}, nil
}

// checkVars turns every forwarded variable that a listed file writes into
// a finding, and notes that each variable still forwarded is a copy.
func (s *state) checkVars() {
	vars := map[string]*types.Var{}
	scope := s.old.Types.Scope()
	for name, ok := range s.forward {
		if v, isVar := scope.Lookup(name).(*types.Var); ok && isVar {
			vars[name] = v
		}
	}
	if len(vars) == 0 {
		return
	}
	writes := map[string][]Related{}
	for _, vf := range s.varFiles {
		w := &varScan{s: s, vars: vars, fset: token.NewFileSet()}
		f, err := parser.ParseFile(w.fset, vf.path, vf.src, 0)
		if err != nil {
			continue // the go command reports it
		}
		w.name = "."
		if !vf.internal {
			w.name = ""
			for _, spec := range f.Imports {
				if gosrc.ImportPath(spec) == s.cfg.Old {
					w.name = s.old.Name
					if spec.Name != nil {
						w.name = spec.Name.Name
					}
				}
			}
			if w.name == "" || w.name == "_" {
				continue
			}
		}
		w.scan(f, func(name string, pos token.Pos, how string) {
			writes[name] = append(writes[name], Related{Pos: w.fset.Position(pos), Message: how})
		})
	}
	for _, name := range scope.Names() {
		v := vars[name]
		if v == nil {
			continue
		}
		if lock := lockIn(v.Type(), map[types.Type]bool{}); lock != "" {
			s.forward[name] = false
			s.findings = append(s.findings, Finding{Pos: s.fset.Position(v.Pos()), Name: name,
				Reason: "its type holds a lock (" + lock + "), which a forwarder would copy (go vet: copies lock value); make its users use " + s.cfg.New + "." + name + " first"})
			continue
		}
		if rel := writes[name]; len(rel) > 0 {
			s.forward[name] = false
			s.findings = append(s.findings, Finding{Pos: s.fset.Position(v.Pos()), Name: name, Related: rel,
				Reason: fmt.Sprintf("written through the old path (below): forwarded, it would be a copy of %s.%s made at initialization, which these writes would no longer reach; make them write %s.%s first",
					s.cfg.New, name, s.cfg.New, name)})
			continue
		}
		if s.exposed != "" && !isSentinel(v) {
			// gomega's format.MaxLength is set by the test suites of the
			// modules that import gomega, none of which the shim sees.
			s.forward[name] = false
			s.findings = append(s.findings, Finding{Pos: s.fset.Position(v.Pos()), Name: name,
				Reason: fmt.Sprintf("exported, so other modules may write it: %s%s; forwarded, it would be a copy of %s.%s made at initialization, which their writes would no longer reach",
					s.cfg.Old, s.exposed, s.cfg.New, name)})
		}
	}
}

// isSentinel reports whether v is a sentinel error named as Go's
// convention names one (var ErrX = errors.New(…), io.ErrUnexpectedEOF),
// which callers compare against and never assign: a copy holds the same
// error, and errors.Is matches across both paths. An error without the
// Err prefix (io.EOF) is not taken for one: the shim refuses rather than
// guess.
func isSentinel(v *types.Var) bool {
	return strings.HasPrefix(v.Name(), "Err") && types.Implements(v.Type(), types.Universe.Lookup("error").Type().Underlying().(*types.Interface))
}

// noteCopies notes, for every variable that becomes a forwarder, that it
// is a copy.
func (s *state) noteCopies() {
	scope := s.old.Types.Scope()
	for _, name := range scope.Names() {
		if v, ok := scope.Lookup(name).(*types.Var); ok && s.forward[name] {
			s.notes = append(s.notes, Finding{Pos: s.fset.Position(v.Pos()), Name: name,
				Reason: "becomes a copy of " + s.cfg.New + "." + name + " made at initialization: nothing writes it through the old path, and a later write to either one does not change the other"})
		}
	}
}

// varScan finds the writes of the old package's variables in one file.
type varScan struct {
	s    *state
	vars map[string]*types.Var
	fset *token.FileSet
	name string // the old package's name in the file; "." for plain identifiers
}

// scan reports each write of a variable in f, with how it writes it.
func (w *varScan) scan(f *ast.File, write func(name string, pos token.Pos, how string)) {
	report := func(e ast.Expr, how string) {
		if name, _, ok := w.storage(e); ok {
			write(name, e.Pos(), how)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE {
				for _, lhs := range n.Lhs {
					report(lhs, "assigned here")
				}
			}
		case *ast.IncDecStmt:
			report(n.X, "assigned here")
		case *ast.RangeStmt:
			if n.Tok == token.ASSIGN {
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if e != nil {
						report(e, "assigned here")
					}
				}
			}
		case *ast.UnaryExpr:
			if n.Op == token.AND {
				report(n.X, "its address is taken here")
			}
		case *ast.SelectorExpr:
			name, t, ok := w.storage(n.X)
			if !ok || types.IsInterface(t) {
				break
			}
			if _, isPtr := t.Underlying().(*types.Pointer); isPtr {
				break
			}
			pkg := w.s.old.Types
			if types.NewMethodSet(t).Lookup(pkg, n.Sel.Name) == nil && types.NewMethodSet(types.NewPointer(t)).Lookup(pkg, n.Sel.Name) != nil {
				write(name, n.Pos(), "the pointer method "+n.Sel.Name+" takes its address here")
			}
		}
		return true
	})
}

// storage reports whether e denotes the storage of a variable of the old
// package (the variable, a field of a struct it holds, an element of an
// array it holds), and returns the variable's name and e's type.
func (w *varScan) storage(e ast.Expr) (string, types.Type, bool) {
	e = ast.Unparen(e)
	if name, ok := w.root(e); ok {
		return name, w.vars[name].Type(), true
	}
	switch x := e.(type) {
	case *ast.SelectorExpr:
		name, t, ok := w.storage(x.X)
		if !ok {
			break
		}
		if _, isPtr := t.Underlying().(*types.Pointer); isPtr {
			break // the pointee is shared
		}
		obj, _, indirect := types.LookupFieldOrMethod(t, false, w.s.old.Types, x.Sel.Name)
		if f, isVar := obj.(*types.Var); isVar && !indirect {
			return name, f.Type(), true
		}
	case *ast.IndexExpr:
		name, t, ok := w.storage(x.X)
		if !ok {
			break
		}
		if a, isArray := t.Underlying().(*types.Array); isArray {
			return name, a.Elem(), true
		}
	}
	return "", nil, false
}

// root reports whether e names a variable of the old package: name.X in
// an importer, or a plain X that the file does not declare in a dot
// importer or in the old package's own files.
func (w *varScan) root(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.Ident:
		if w.name == "." && x.Obj == nil && w.vars[x.Name] != nil {
			return x.Name, true
		}
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok && w.name != "." && id.Name == w.name && id.Obj == nil && w.vars[x.Sel.Name] != nil {
			return x.Sel.Name, true
		}
	}
	return "", false
}

// lockIn returns the type of a lock that a value of type t holds, as
// go vet's copylocks check finds one: a type whose pointer has Lock and
// Unlock methods, in t itself or in its fields and array elements; "" if
// there is none.
func lockIn(t types.Type, seen map[types.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	if _, ok := t.Underlying().(*types.Interface); ok {
		return ""
	}
	ms := types.NewMethodSet(types.NewPointer(t))
	if ms.Lookup(nil, "Lock") != nil && ms.Lookup(nil, "Unlock") != nil {
		return types.TypeString(t, nil)
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		for f := range u.Fields() {
			if l := lockIn(f.Type(), seen); l != "" {
				return l
			}
		}
	case *types.Array:
		return lockIn(u.Elem(), seen)
	}
	return ""
}
