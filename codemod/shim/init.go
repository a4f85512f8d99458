package shim

import (
	"go/ast"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// The old package's initialization must not run again beside the new
// package's: after the shim, importing the old path imports the new
// package, whose init functions and variable initializers run once for
// both paths. Kept in the forwarders, an init that registers a driver, a
// flag or an expvar did it a second time and panicked ("sql: Register
// called twice", "flag redefined").
//
// So the shim sorts the old package's initialization by what it does. An
// init function, or a variable initializer, whose effects stay inside
// the package (it computes values and sets the package's own variables)
// goes with the state it sets. One with effects outside the package
// (a call that is not known to be pure, a variable of another package
// set, a goroutine started) is removed when the new package runs the same
// code (same tokens, comments and layout aside), with a note; otherwise
// it is a finding: removing it would lose its effect, and keeping it
// would run it beside the new package's initialization. A variable with
// such an initializer that the shim must keep (the package's own tests
// use it) is a finding too.

// initPiece is what the shim knows of one piece of the old package's
// initialization with effects outside the package.
type initPiece struct {
	u       *unit
	effect  string // what it does, "calls database/sql.Register"
	matched bool   // the new package runs the same code
}

// planInit classifies the init functions and the package-level variable
// initializers of the old package before liveness is computed: an init
// or a blank variable with effects that the new package repeats stops
// being a root; one whose effects stay inside the package becomes
// removable with its state (unit.localInit).
func (s *state) planInit() {
	newInits, newValues := s.newInitTokens()
	for _, u := range s.units {
		var body ast.Node
		var key string
		var tokens map[string]int
		switch n := u.node.(type) {
		case *ast.FuncDecl:
			if n.Recv != nil || n.Name.Name != "init" || n.Body == nil {
				continue
			}
			body, tokens = n.Body, newInits
			key = s.tokens(s.fset, n.Body.Pos(), n.Body.End())
		case *ast.ValueSpec:
			if len(n.Values) == 0 || s.reportedAny(u) || s.forwardedAll(u) {
				continue
			}
			body, tokens = n, newValues
			key = s.tokens(s.fset, n.Values[0].Pos(), n.Values[len(n.Values)-1].End())
		default:
			continue
		}
		eff := s.effect(body, map[*types.Func]bool{})
		_, isFunc := u.node.(*ast.FuncDecl)
		if eff == "" {
			if isFunc {
				u.isRoot, u.localInit = false, true
			}
			continue
		}
		in := &initPiece{u: u, effect: eff}
		if tokens[key] > 0 {
			tokens[key]--
			in.matched = true
		}
		// An init or a blank variable is no longer kept for its own sake:
		// settleInit keeps it if removing it would lose its effects.
		u.isRoot = false
		s.inits = append(s.inits, in)
	}
}

// settleInit runs after liveness: an initialization with effects that the
// shim would remove although the new package does not repeat it is kept
// and reported, and liveness is computed again; then every piece is
// reported (kept) or noted (removed).
func (s *state) settleInit() {
	again := false
	for _, in := range s.inits {
		if !in.matched && !s.live[in.u] {
			in.u.isRoot, in.u.lost = true, true
			again = true
		}
	}
	if again {
		s.markLive()
	}
	for _, in := range s.inits {
		name, pos := s.initName(in.u)
		what := "its initializer " + in.effect
		if name == "init" {
			what = "it " + in.effect
		}
		switch {
		case in.u.lost:
			s.findings = append(s.findings, Finding{Pos: pos, Name: name,
				Reason: what + ", and " + s.cfg.New + " does not do the same: removing it would lose that, keeping it would run it beside " + s.cfg.New + "'s initialization; move it to " + s.cfg.New + " first"})
		case s.live[in.u]:
			s.findings = append(s.findings, Finding{Pos: pos, Name: name,
				Reason: what + ", and the shim must keep it (kept code or the package's own tests use it), so it would run at initialization beside " + s.cfg.New + "'s; move what uses it to " + s.cfg.New + " first"})
		default:
			s.notes = append(s.notes, Finding{Pos: pos, Name: name,
				Reason: "removed: " + what + ", and " + s.cfg.New + " runs the same code once for both import paths (kept, it would run twice)"})
		}
	}
}

// initName names a piece of initialization for findings and notes.
func (s *state) initName(u *unit) (string, token.Position) {
	switch n := u.node.(type) {
	case *ast.FuncDecl:
		return "init", s.fset.Position(n.Name.Pos())
	case *ast.ValueSpec:
		names := make([]string, len(n.Names))
		for i, id := range n.Names {
			names[i] = id.Name
		}
		return strings.Join(names, ", "), s.fset.Position(n.Names[0].Pos())
	}
	return "", token.Position{}
}

// reportedAny reports whether a finding names one of u's declarations.
func (s *state) reportedAny(u *unit) bool {
	for _, o := range u.defs {
		if o.Exported() && !s.forward[o.Name()] {
			return true
		}
	}
	return false
}

// forwardedAll reports whether every name u declares becomes a forwarder,
// whose initializer is the new package's variable.
func (s *state) forwardedAll(u *unit) bool {
	vs := u.node.(*ast.ValueSpec)
	for _, id := range vs.Names {
		if !token.IsExported(id.Name) || !s.forward[id.Name] {
			return false
		}
	}
	return true
}

// newInitTokens returns the token strings of the new package's init
// bodies and of its variable initializers, with their counts.
func (s *state) newInitTokens() (inits, values map[string]int) {
	inits, values = map[string]int{}, map[string]int{}
	fset := s.new.Fset
	for _, f := range s.new.Syntax {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == "init" && d.Body != nil {
					inits[s.tokens(fset, d.Body.Pos(), d.Body.End())]++
				}
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				for _, spec := range d.Specs {
					if vs := spec.(*ast.ValueSpec); len(vs.Values) > 0 {
						values[s.tokens(fset, vs.Values[0].Pos(), vs.Values[len(vs.Values)-1].End())]++
					}
				}
			}
		}
	}
	return inits, values
}

// tokens returns the tokens of the source between from and to, without
// comments or layout, one per line.
func (s *state) tokens(fset *token.FileSet, from, to token.Pos) string {
	tf := fset.File(from)
	if tf == nil {
		return ""
	}
	src := s.source(tf.Name())
	start, end := tf.Offset(from), tf.Offset(to)
	if src == nil || end > len(src) {
		return ""
	}
	var b strings.Builder
	sfset := token.NewFileSet()
	var sc scanner.Scanner
	sc.Init(sfset.AddFile("", -1, end-start), src[start:end], nil, 0)
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			return b.String()
		}
		if tok == token.SEMICOLON || lit == "" {
			lit = tok.String()
		}
		b.WriteString(lit + "\n")
	}
}

// source returns the content of a file of either package, read once.
func (s *state) source(name string) []byte {
	if src, ok := s.sources[name]; ok {
		return src
	}
	src, _ := os.ReadFile(name)
	if s.sources == nil {
		s.sources = map[string][]byte{}
	}
	s.sources[name] = src
	return src
}

// effect says what the initialization code n does outside the old
// package ("calls database/sql.Register"), or "" if it only computes
// values and sets the package's own variables. Functions and methods of
// the old package that it calls are followed.
func (s *state) effect(n ast.Node, seen map[*types.Func]bool) string {
	info := s.old.TypesInfo
	var found string
	ast.Inspect(n, func(n ast.Node) bool {
		if found != "" {
			return false
		}
		switch n := n.(type) {
		case *ast.GoStmt:
			found = "starts a goroutine"
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				break
			}
			for _, lhs := range n.Lhs {
				if v := s.otherVar(lhs); v != nil {
					found = "sets " + v.Pkg().Path() + "." + v.Name()
				}
			}
		case *ast.IncDecStmt:
			if v := s.otherVar(n.X); v != nil {
				found = "sets " + v.Pkg().Path() + "." + v.Name()
			}
		case *ast.CallExpr:
			if tv, ok := info.Types[n.Fun]; ok && (tv.IsType() || tv.IsBuiltin()) {
				break
			}
			if _, ok := ast.Unparen(n.Fun).(*ast.FuncLit); ok {
				break // its body is inspected in place
			}
			fn := typeutil.StaticCallee(info, n)
			switch {
			case fn == nil:
				found = "calls " + types.ExprString(n.Fun)
			case fn.Pkg() == s.old.Types:
				fn = fn.Origin()
				if !seen[fn] {
					seen[fn] = true
					if d := s.funcDecl(fn); d != nil && d.Body != nil {
						found = s.effect(d.Body, seen)
					}
				}
			case !isPure(fn):
				found = "calls " + fn.FullName()
			}
		}
		return found == ""
	})
	return found
}

// otherVar returns the package-level variable of another package that an
// assignment to e sets, if any: e may select fields and index arrays of
// it, or dereference it.
func (s *state) otherVar(e ast.Expr) *types.Var {
	info := s.old.TypesInfo
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			v, _ := info.Uses[x].(*types.Var)
			if v != nil && v.Pkg() != nil && v.Pkg() != s.old.Types && v.Parent() == v.Pkg().Scope() {
				return v
			}
			return nil
		case *ast.SelectorExpr:
			if sel := info.Selections[x]; sel != nil {
				e = x.X
				continue
			}
			e = x.Sel // a qualified identifier
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		default:
			return nil
		}
	}
}

// funcDecl returns the declaration of a function or method of the old
// package.
func (s *state) funcDecl(fn *types.Func) *ast.FuncDecl {
	if s.funcDecls == nil {
		s.funcDecls = map[*types.Func]*ast.FuncDecl{}
		for _, f := range s.old.Syntax {
			for _, d := range f.Decls {
				if d, ok := d.(*ast.FuncDecl); ok {
					if o, ok := s.old.TypesInfo.Defs[d.Name].(*types.Func); ok {
						s.funcDecls[o] = d
					}
				}
			}
		}
	}
	return s.funcDecls[fn]
}

// purePkgs are the standard packages whose functions and methods
// change nothing outside the values they are given: calling them from an
// initializer has no effect that could run twice.
var purePkgs = map[string]bool{
	"bytes": true, "cmp": true, "context": true, "encoding/base64": true, "encoding/binary": true,
	"encoding/hex": true, "encoding/json": true, "errors": true, "html/template": true, "iter": true,
	"maps": true, "math": true, "math/big": true, "math/bits": true, "net/netip": true, "net/url": true,
	"path": true, "path/filepath": true, "reflect": true, "regexp": true, "slices": true, "sort": true,
	"strconv": true, "strings": true, "sync": true, "sync/atomic": true, "text/template": true,
	"time": true, "unicode": true, "unicode/utf16": true, "unicode/utf8": true,
}

// isPure reports whether calling fn has no effect outside its arguments
// and results.
func isPure(fn *types.Func) bool {
	if fn.Pkg() == nil {
		return true // the Error method of the universe's error
	}
	switch path, name := fn.Pkg().Path(), fn.Name(); path {
	case "fmt":
		return strings.HasPrefix(name, "Sprint") || strings.HasPrefix(name, "Append") || name == "Errorf"
	case "os":
		return name == "Getenv" || name == "LookupEnv"
	default:
		return purePkgs[path]
	}
}
