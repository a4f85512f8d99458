package shim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/format"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"go/version"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/imports"

	"github.com/wsunify/wsunify/codemod"
	"github.com/wsunify/wsunify/internal/gosrc"
)

// Config names a package that moved and where it moved to.
type Config struct {
	// Dir is a directory inside the module; "" means the current directory.
	Dir string
	// Old and New are import paths (or directories relative to Dir, such
	// as "./old"): Old becomes forwarders to New.
	Old, New string
	// Env is the environment of the go command that loads the packages;
	// nil means the current process's environment.
	Env []string
}

// Finding is a declaration of the old package that the shim cannot
// forward, with the reason; in [Result.Notes], what the shim did or
// left alone that the user should know of.
type Finding struct {
	Pos    token.Position // where the old package declares Name
	Name   string
	Reason string
	// Related are the places that explain the finding, such as the
	// importers that write a variable.
	Related []Related
}

// Related is a place that explains a finding.
type Related struct {
	Pos     token.Position
	Message string
}

// String formats f as "file:line:col: Name: reason", followed by a
// "\tfile:line:col: message" line for each related place.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s", f.Pos, f.Name, f.Reason)
	for _, r := range f.Related {
		fmt.Fprintf(&b, "\n\t%s: %s", r.Pos, r.Message)
	}
	return b.String()
}

// File is one file of the old package that the shim changes.
type File struct {
	Path string // absolute
	Old  []byte // content before the shim
	New  []byte // content after the shim; nil when the file is to be removed
}

// Result is what [Compute] computed. Nothing has been written.
type Result struct {
	// Files are the changed files of the old package, sorted by path.
	Files []File
	// Forwarded lists the exported names that became forwarders, sorted.
	Forwarded []string
	// Findings are the exported names kept as they were, with the reason.
	// Files is a complete shim only when Findings is empty.
	Findings []Finding
	// Notes are what the shim left alone without blocking it: files of the
	// old package that the current build configuration excludes.
	Notes []Finding
	// Diff is a unified diff of Files, with paths relative to Config.Dir.
	Diff []byte
}

// Compute rewrites the package cfg.Old into deprecated forwarders to the
// package cfg.New and returns the new file contents; it writes nothing.
//
// Every exported name of the old package becomes a forwarder to the same
// name in the new one: a type alias (generic ones too), a constant, a
// variable initialized from the new one, or a function calling the new
// one. Methods of forwarded types are removed (they come with the alias),
// and so are unexported declarations that nothing kept uses any more. Each
// forwarder has a "Deprecated:" paragraph and, where the inline analyzer
// of golang.org/x/tools can use it, a //go:fix inline directive.
//
// Names that exist only in the old package, or whose kind, type, value or
// method set differ, and variables that code writes through the old path
// (a forwarder would be a copy), are kept as they are and reported in
// [Result.Findings]. The package doc gains a Deprecated paragraph.
//
// The old package's initialization does not run again beside the new
// package's (see planInit): init functions and initializers with effects
// that the new package repeats are removed, with a note; those it does not
// repeat are findings. //go:generate directives are removed, with a note.
// Each variable forwarder gets a note that it is a copy.
// Both packages must type-check, and so must the result, together with
// the old package's own tests; otherwise Compute returns an error.
func Compute(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Old == "" || cfg.New == "" {
		return nil, errors.New("shim: old and new import paths are required")
	}
	if cfg.Old == cfg.New {
		return nil, fmt.Errorf("shim: old and new are the same package %q", cfg.Old)
	}
	s, err := load(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.classify()
	s.planInit()
	s.markLive()
	s.settleInit()
	res := &Result{}
	var changed []output
	// The package doc goes to the first file if no file has one.
	docFile := ""
	for i, f := range s.old.Syntax {
		if f.Doc != nil {
			docFile = ""
			break
		}
		if p := s.old.CompiledGoFiles[i]; docFile == "" || p < docFile {
			docFile = p
		}
	}
	for i, f := range s.old.Syntax {
		out, err := s.rewriteFile(f, s.old.CompiledGoFiles[i], s.old.CompiledGoFiles[i] == docFile)
		if err != nil {
			return nil, err
		}
		changed = append(changed, out)
	}
	if err := s.verify(changed); err != nil {
		return nil, err
	}
	res.Findings, res.Notes = s.findings, s.notes
	for _, out := range changed {
		if out.deleted || !bytes.Equal(out.src, out.out) {
			sf := File{Path: out.path, Old: out.src, New: out.out}
			if out.deleted {
				sf.New = nil
			}
			res.Files = append(res.Files, sf)
		}
	}
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	for name, ok := range s.forward {
		if ok {
			res.Forwarded = append(res.Forwarded, name)
		}
	}
	sort.Strings(res.Forwarded)
	for _, fs := range [][]Finding{res.Findings, res.Notes} {
		sort.SliceStable(fs, func(i, j int) bool {
			a, b := fs[i].Pos, fs[j].Pos
			if a.Filename != b.Filename {
				return a.Filename < b.Filename
			}
			return a.Offset < b.Offset
		})
	}
	res.Diff = diffAll(s.baseDir, res.Files)
	return res, nil
}

// state holds the state of one Compute run.
type state struct {
	cfg      Config
	baseDir  string
	fset     *token.FileSet
	old, new *packages.Package
	goVer    string // the module's go version, "" if unknown
	// oldTest and oldXTest are the old package with its internal tests and
	// its external test package; nil if absent or not type-checking.
	oldTest, oldXTest *packages.Package

	forward  map[string]bool // exported name -> becomes a forwarder
	findings []Finding
	notes    []Finding
	units    []*unit
	unitOf   map[types.Object]*unit
	byNode   map[ast.Node]*unit
	methods  map[*types.TypeName][]*unit
	live     map[*unit]bool
	// keepRefs are the identifiers used by files the shim does not rewrite
	// but that compile with the package: its internal tests, and files
	// that the current build configuration excludes.
	keepRefs map[string]bool
	// inits are the pieces of the old package's initialization with
	// effects outside it (see planInit).
	inits     []*initPiece
	varFiles  []varFile                     // files that may write the old package's variables
	exposed   string                        // why other modules may write them too (varWriters)
	funcDecls map[*types.Func]*ast.FuncDecl // the old package's, by object
	sources   map[string][]byte             // file contents read, by name
}

// unit is one top-level declaration: a function, a method or one spec.
type unit struct {
	node   ast.Node
	defs   []types.Object
	recv   *types.TypeName // for methods: the receiver's base type
	refs   map[types.Object]bool
	isRoot bool
	// localInit marks an init function whose effects stay inside the
	// package: it is kept only with the state it uses.
	localInit bool
	// lost marks an initialization with effects that the new package does
	// not repeat, kept because removing it would lose them.
	lost bool
}

// output is the rewritten form of one file of the old package.
type output struct {
	path     string
	src, out []byte
	deleted  bool
}

const loadMode = packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
	packages.NeedImports | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo |
	packages.NeedModule | packages.NeedForTest

// load loads both packages (and the old one's tests) and checks that
// a shim between them can exist at all.
func load(ctx context.Context, cfg Config) (*state, error) {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("shim: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("shim: %s is not a directory", dir)
	}
	if cfg.Old, cfg.New, err = resolve(ctx, dir, cfg); err != nil {
		return nil, err
	}
	if cfg.Old == cfg.New {
		return nil, fmt.Errorf("shim: old and new are the same package %q", cfg.Old)
	}
	// The files that may write the old package's variables are listed by a
	// second go command. Run in the module's root, as it usually is, it
	// lists them beside the load; elsewhere, once the load found the root.
	var (
		wg      sync.WaitGroup
		listed  varWriters
		listErr error
		lister  string // the directory listed beside the load
	)
	defer wg.Wait()
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
		lister = dir
		wg.Go(func() { listed, listErr = listVarFiles(lctx, dir, cfg) })
	}
	lc := &packages.Config{Context: ctx, Mode: loadMode, Dir: dir, Env: cfg.Env, Tests: true}
	pkgs, err := packages.Load(lc, cfg.Old, cfg.New)
	if err != nil {
		return nil, fmt.Errorf("shim: load: %w", err)
	}
	s := &state{cfg: cfg, baseDir: dir}
	for _, p := range pkgs {
		switch {
		case p.ID == cfg.Old:
			s.old = p
		case p.ID == cfg.New:
			s.new = p
		case p.ForTest == cfg.Old && p.PkgPath == cfg.Old && len(p.Errors) == 0:
			s.oldTest = p
		case p.ForTest == cfg.Old && p.PkgPath == cfg.Old+"_test" && len(p.Errors) == 0:
			s.oldXTest = p
		}
	}
	for _, c := range []struct {
		path string
		p    *packages.Package
	}{{cfg.Old, s.old}, {cfg.New, s.new}} {
		if c.p == nil || len(c.p.GoFiles)+len(c.p.IgnoredFiles) == 0 {
			return nil, missingPackage(cfg, c.path)
		}
		if len(c.p.Errors) > 0 {
			return nil, fmt.Errorf("shim: load: %s does not type-check: %v", c.path, c.p.Errors[0])
		}
		if c.p.Types == nil || c.p.TypesInfo == nil {
			return nil, fmt.Errorf("shim: load: %s has no type information", c.path)
		}
	}
	if s.old.Name == "main" {
		return nil, fmt.Errorf("shim: %s is a command, not a package to import", cfg.Old)
	}
	if !slices.Equal(s.old.GoFiles, s.old.CompiledGoFiles) {
		return nil, fmt.Errorf("shim: %s uses cgo; shim it by hand", cfg.Old)
	}
	if s.old.Module == nil || !s.old.Module.Main {
		return nil, fmt.Errorf("shim: %s is not in the main module", cfg.Old)
	}
	if !canImport(cfg.Old, cfg.New) {
		return nil, fmt.Errorf("shim: %s may not import %s (internal package)", cfg.Old, cfg.New)
	}
	if gosrc.Imports(s.new.Types, cfg.Old) {
		return nil, fmt.Errorf("shim: %s imports %s; forwarding would create an import cycle", cfg.New, cfg.Old)
	}
	wg.Wait()
	if lister != s.old.Module.Dir {
		listed, listErr = listVarFiles(ctx, s.old.Module.Dir, cfg)
	}
	if listErr != nil {
		return nil, listErr
	}
	own := map[string]bool{}
	for _, p := range s.old.CompiledGoFiles {
		own[p] = true
	}
	for _, f := range listed.files {
		if !own[f.path] {
			s.varFiles = append(s.varFiles, f)
		}
	}
	s.exposed = listed.exposed
	s.goVer = s.old.Module.GoVersion
	s.fset = s.old.Fset
	s.keepRefs = map[string]bool{}
	for _, f := range s.internalTests() {
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				s.keepRefs[id.Name] = true
			}
			return true
		})
	}
	return s, nil
}

// missingPackage explains that the package path of cfg has no files: the
// shim reads the old package, so it runs before the old package goes
// ("git mv old new" is one step too far), and after the new one exists.
func missingPackage(cfg Config, path string) error {
	if path == cfg.Old {
		return fmt.Errorf("shim: package %s has no Go files (moved with git mv?): the old package must still exist: copy it, run shim, then delete it when nothing imports it", path)
	}
	return fmt.Errorf("shim: package %s has no Go files: the new package must exist: copy the old one there (or write it) first, then run shim", path)
}

// resolve turns relative directory patterns ("./old") into the import
// paths of the packages they name; import paths are returned as they are.
func resolve(ctx context.Context, dir string, cfg Config) (old, new string, err error) {
	rel := func(p string) bool { return build.IsLocalImport(p) || filepath.IsAbs(p) }
	if !rel(cfg.Old) && !rel(cfg.New) {
		return cfg.Old, cfg.New, nil
	}
	for _, p := range []*string{&cfg.Old, &cfg.New} {
		if !rel(*p) {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, *p)); err != nil || !fi.IsDir() {
			return "", "", missingPackage(cfg, *p)
		}
		lc := &packages.Config{Context: ctx, Mode: packages.NeedName, Dir: dir, Env: cfg.Env}
		pkgs, err := packages.Load(lc, *p)
		if err != nil {
			return "", "", fmt.Errorf("shim: load: %w", err)
		}
		if len(pkgs) == 1 && len(pkgs[0].Errors) > 0 {
			// Say why: another module's directory, say (a go.mod copied
			// with the package).
			return "", "", fmt.Errorf("shim: load: %s does not name a package of this module: %s", *p, pkgs[0].Errors[0].Msg)
		}
		if len(pkgs) != 1 {
			return "", "", fmt.Errorf("shim: load: %s does not name one package", *p)
		}
		*p = pkgs[0].PkgPath
	}
	return cfg.Old, cfg.New, nil
}

// internalTests returns the syntax of the _test.go files that belong to
// the old package itself (not to its external test package).
func (s *state) internalTests() []*ast.File {
	if s.oldTest == nil {
		return nil
	}
	own := map[string]bool{}
	for _, p := range s.old.CompiledGoFiles {
		own[p] = true
	}
	var tests []*ast.File
	for i, f := range s.oldTest.Syntax {
		if !own[s.oldTest.CompiledGoFiles[i]] {
			tests = append(tests, f)
		}
	}
	return tests
}

// classify decides which exported names become forwarders and records a
// finding for each of the others.
func (s *state) classify() {
	s.forward = map[string]bool{}
	scope := s.old.Types.Scope()
	for _, name := range scope.Names() {
		o := scope.Lookup(name)
		if !o.Exported() {
			continue
		}
		n := s.new.Types.Scope().Lookup(name)
		reason := s.mismatch(o, n)
		if reason == "" {
			reason = s.unspellable(n)
		}
		if reason != "" {
			s.report(o, reason)
			continue
		}
		s.forward[name] = true
	}
	// A forwarder stands for the new declaration, whose API names the new
	// types. If the old API names an old type that is not forwarded, the
	// two differ after all: keep that name too, until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, name := range scope.Names() {
			o := scope.Lookup(name)
			if !s.forward[name] {
				continue
			}
			var why string
			walkTypes(apiTypes(o), func(tn *types.TypeName) {
				if why == "" && tn.Pkg() == s.old.Types && tn.Exported() && !s.forward[tn.Name()] {
					why = "its API mentions " + tn.Name() + ", which is not forwarded"
				}
			})
			if why != "" {
				s.forward[name] = false
				s.report(o, why)
				changed = true
			}
		}
	}
	s.ignoredFiles()
	s.collectUnits()
	s.checkVars()
	// A variable declared with others in one tuple assignment can be
	// forwarded only if all of them go.
	for _, u := range s.units {
		vs, ok := u.node.(*ast.ValueSpec)
		if !ok || len(vs.Values) != 1 || len(vs.Names) < 2 {
			continue
		}
		all := true
		for _, id := range vs.Names {
			all = all && s.forward[id.Name]
		}
		if all {
			continue
		}
		for _, id := range vs.Names {
			if s.forward[id.Name] {
				s.forward[id.Name] = false
				s.report(s.old.TypesInfo.Defs[id], "assigned in one tuple with names that are kept")
			}
		}
	}
	s.noteCopies()
}

// ignoredFiles looks at the files of the old package that the current
// build configuration excludes. The shim cannot rewrite them: an exported
// name or a method of a forwarded type declared there is a finding; any
// other such file is left as it is, with a note.
func (s *state) ignoredFiles() {
	for _, p := range s.old.IgnoredFiles {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil || f.Name.Name != s.old.Name {
			continue // not Go, or another package (a //go:build ignore generator)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				s.keepRefs[id.Name] = true
			}
			return true
		})
		found := false
		report := func(id *ast.Ident, what string) {
			found = true
			s.findings = append(s.findings, Finding{Pos: fset.Position(id.Pos()), Name: id.Name,
				Reason: what + " in a file excluded by build constraints here; shim it by hand"})
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					report(d.Name, "declared")
				} else if d.Recv != nil && s.forward[recvName(d.Recv.List[0].Type)] {
					report(d.Name, "a method of a forwarded type declared")
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch spec := spec.(type) {
					case *ast.ValueSpec:
						for _, id := range spec.Names {
							if id.IsExported() {
								report(id, "declared")
							}
						}
					case *ast.TypeSpec:
						if spec.Name.IsExported() {
							report(spec.Name, "declared")
						}
					}
				}
			}
		}
		if !found {
			s.notes = append(s.notes, Finding{Pos: token.Position{Filename: p, Line: 1, Column: 1}, Name: filepath.Base(p),
				Reason: "excluded by build constraints here and left as it is; check that it still builds with its tags"})
		}
	}
}

// recvName is the base type name of a receiver type expression.
func recvName(t ast.Expr) string {
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// report records that o is kept as it is, and why.
func (s *state) report(o types.Object, reason string) {
	s.findings = append(s.findings, Finding{Pos: s.fset.Position(o.Pos()), Name: o.Name(), Reason: reason})
}

// mismatch says why o (old) cannot forward to n (new), or "" if it can.
func (s *state) mismatch(o, n types.Object) string {
	if n == nil {
		return "not declared in " + s.cfg.New
	}
	if !n.Exported() {
		return "not exported by " + s.cfg.New
	}
	if ok, nk := kindOf(o), kindOf(n); ok != nk {
		return fmt.Sprintf("a %s here, a %s in %s", ok, nk, s.cfg.New)
	}
	switch o := o.(type) {
	case *types.Const:
		n := n.(*types.Const)
		if !s.sameType(o.Type(), n.Type()) {
			return s.differ("type", o.Type(), n.Type())
		}
		if !constant.Compare(o.Val(), token.EQL, n.Val()) {
			return fmt.Sprintf("value %s here, %s in %s", o.Val().ExactString(), n.Val().ExactString(), s.cfg.New)
		}
	case *types.Var:
		if !s.sameType(o.Type(), n.Type()) {
			return s.differ("type", o.Type(), n.Type())
		}
	case *types.Func:
		if !s.sameType(o.Type(), n.Type()) {
			return s.differ("signature", o.Type(), n.Type())
		}
	case *types.TypeName:
		return s.typeMismatch(o, n.(*types.TypeName))
	}
	return ""
}

// unspellable says why the forwarder of n cannot be written in the old
// package, or "": a function's signature and the type parameters of
// functions and types must name only exported types of packages that the
// old package may import. Constants, variables and plain type aliases
// name nothing but n itself.
func (s *state) unspellable(n types.Object) string {
	var ts []types.Type
	switch n := n.(type) {
	case *types.Func:
		ts = append(ts, n.Type())
	case *types.TypeName:
		if tps := typeParams(n); tps != nil {
			for tp := range tps.TypeParams() {
				ts = append(ts, tp.Constraint())
			}
		}
	}
	var why string
	walkTypes(ts, func(obj *types.TypeName) {
		switch {
		case why != "" || obj.Pkg() == nil:
		case !obj.Exported():
			why = "its declaration mentions the unexported type " + obj.Pkg().Path() + "." + obj.Name()
		case !canImport(s.cfg.Old, obj.Pkg().Path()):
			why = "its declaration mentions " + obj.Pkg().Path() + "." + obj.Name() + ", which " + s.cfg.Old + " may not import"
		}
	})
	return why
}

// apiTypes returns the types that make up the API of o: a const's or
// var's type, a func's signature, and for a type name its type parameter
// constraints, the types of its exported fields and the signatures of its
// exported methods.
func apiTypes(o types.Object) []types.Type {
	tn, ok := o.(*types.TypeName)
	if !ok {
		return []types.Type{o.Type()}
	}
	var ts []types.Type
	if tps := typeParams(tn); tps != nil {
		for tp := range tps.TypeParams() {
			ts = append(ts, tp.Constraint())
		}
	}
	if tn.IsAlias() {
		return append(ts, tn.Type())
	}
	switch u := tn.Type().Underlying().(type) {
	case *types.Struct:
		for f := range u.Fields() {
			if f.Exported() {
				ts = append(ts, f.Type())
			}
		}
	default:
		ts = append(ts, u)
	}
	for sel := range types.NewMethodSet(types.NewPointer(tn.Type())).Methods() {
		if sel.Obj().Exported() {
			ts = append(ts, sel.Type())
		}
	}
	return ts
}

// walkTypes calls visit for every named type or alias that ts mention.
func walkTypes(ts []types.Type, visit func(*types.TypeName)) {
	seen := map[types.Type]bool{}
	var walk func(t types.Type)
	walk = func(t types.Type) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		switch t := t.(type) {
		case *types.Named:
			visit(t.Obj())
			for a := range t.TypeArgs().Types() {
				walk(a)
			}
		case *types.Alias:
			visit(t.Obj())
			for a := range t.TypeArgs().Types() {
				walk(a)
			}
		case *types.Pointer:
			walk(t.Elem())
		case *types.Slice:
			walk(t.Elem())
		case *types.Array:
			walk(t.Elem())
		case *types.Map:
			walk(t.Key())
			walk(t.Elem())
		case *types.Chan:
			walk(t.Elem())
		case *types.Tuple:
			for v := range t.Variables() {
				walk(v.Type())
			}
		case *types.Signature:
			if tps := t.TypeParams(); tps != nil {
				for tp := range tps.TypeParams() {
					walk(tp.Constraint())
				}
			}
			walk(t.Params())
			walk(t.Results())
		case *types.Struct:
			for f := range t.Fields() {
				walk(f.Type())
			}
		case *types.Interface:
			for m := range t.ExplicitMethods() {
				walk(m.Type())
			}
			for e := range t.EmbeddedTypes() {
				walk(e)
			}
		case *types.Union:
			for term := range t.Terms() {
				walk(term.Type())
			}
		}
	}
	for _, t := range ts {
		walk(t)
	}
}

// canImport reports whether the package from may import the package
// to under the go command's rule for internal directories.
func canImport(from, to string) bool {
	i := strings.LastIndex(to, "/internal/")
	switch {
	case i >= 0:
	case strings.HasSuffix(to, "/internal"):
		i = len(to) - len("/internal")
	case to == "internal" || strings.HasPrefix(to, "internal/"):
		return true // the standard library's own: go/types would not load it
	default:
		return true
	}
	parent := to[:i]
	return from == parent || strings.HasPrefix(from, parent+"/")
}

// differ words a difference between an old and a new type.
func (s *state) differ(what string, o, n types.Type) string {
	return fmt.Sprintf("%s %s here, %s in %s", what, s.typeStr(o, s.cfg.Old), s.typeStr(n, s.cfg.New), s.cfg.New)
}

// kindOf names the kind of declaration o is, for findings.
func kindOf(o types.Object) string {
	switch o := o.(type) {
	case *types.Const:
		return "const"
	case *types.Var:
		return "var"
	case *types.Func:
		return "func"
	case *types.TypeName:
		if types.IsInterface(o.Type()) {
			return "interface type"
		}
		return "type"
	}
	return "name"
}

// typeMismatch compares the API of two named types: type parameters,
// underlying type (exported fields only for structs) and exported methods.
func (s *state) typeMismatch(o, n *types.TypeName) string {
	if types.Identical(types.Unalias(o.Type()), types.Unalias(n.Type())) {
		return "" // already an alias of the new type, or of the same type
	}
	otp, ntp := typeParams(o), typeParams(n)
	if otp.Len() != ntp.Len() {
		return fmt.Sprintf("%d type parameters here, %d in %s", otp.Len(), ntp.Len(), s.cfg.New)
	}
	for i := range otp.Len() {
		if !s.sameType(otp.At(i).Constraint(), ntp.At(i).Constraint()) {
			return s.differ("type parameter constraint", otp.At(i).Constraint(), ntp.At(i).Constraint())
		}
	}
	if otp.Len() > 0 && s.goVer != "" && version.Compare("go"+s.goVer, "go1.24") < 0 {
		return "a generic type alias needs go 1.24 or later in go.mod (it says go " + s.goVer + ")"
	}
	if o.IsAlias() != n.IsAlias() && !o.IsAlias() {
		// old defines a type, new only aliases one: compare what it denotes.
		return s.underlyingMismatch(o.Type(), types.Unalias(n.Type()))
	}
	if r := s.underlyingMismatch(o.Type(), n.Type()); r != "" {
		return r
	}
	if types.Comparable(o.Type()) && !types.Comparable(n.Type()) {
		return "comparable here, not in " + s.cfg.New
	}
	return s.methodsMismatch(o.Type(), n.Type())
}

// typeParams returns the type parameters of a named type or alias.
func typeParams(tn *types.TypeName) *types.TypeParamList {
	switch t := tn.Type().(type) {
	case *types.Named:
		return t.TypeParams()
	case *types.Alias:
		return t.TypeParams()
	}
	return nil
}

// underlyingMismatch compares what the underlying types of two named
// types let importers do.
func (s *state) underlyingMismatch(o, n types.Type) string {
	ou, nu := o.Underlying(), n.Underlying()
	if os, ok := ou.(*types.Struct); ok {
		if ns, ok := nu.(*types.Struct); ok {
			return s.fieldsMismatch(os, ns)
		}
	}
	os, ns := s.surface(ou, s.cfg.Old), s.surface(nu, s.cfg.New)
	if os != ns {
		return fmt.Sprintf("underlying type %s here, %s in %s", os, ns, s.cfg.New)
	}
	return ""
}

// fieldsMismatch checks that every exported field of the old struct is in
// the new one, with the same type, tag and embedding. The new struct may
// add fields: keyed composite literals and selectors keep working.
func (s *state) fieldsMismatch(o, n *types.Struct) string {
	type field struct {
		v   *types.Var
		tag string
	}
	nf := map[string]field{}
	for i := range n.NumFields() {
		if f := n.Field(i); f.Exported() {
			nf[f.Name()] = field{f, n.Tag(i)}
		}
	}
	var why []string
	for i := range o.NumFields() {
		f := o.Field(i)
		if !f.Exported() {
			continue
		}
		g, ok := nf[f.Name()]
		switch {
		case !ok:
			why = append(why, "field "+f.Name()+" is not in "+s.cfg.New)
		case !s.sameType(f.Type(), g.v.Type()):
			why = append(why, "field "+f.Name()+": "+s.differ("type", f.Type(), g.v.Type()))
		case o.Tag(i) != g.tag:
			why = append(why, fmt.Sprintf("field %s: tag %q here, %q in %s", f.Name(), o.Tag(i), g.tag, s.cfg.New))
		case f.Embedded() != g.v.Embedded():
			why = append(why, "field "+f.Name()+" is embedded in one package only")
		}
	}
	return strings.Join(why, "; ")
}

// surface renders an underlying type other than a struct, with the old
// and the new package written alike; for a plain interface, its sorted
// method set.
func (s *state) surface(t types.Type, self string) string {
	if t, ok := t.(*types.Interface); ok && t.IsMethodSet() {
		var ms []string
		for i := range t.NumMethods() {
			m := t.Method(i)
			ms = append(ms, m.Name()+s.typeStr(m.Type(), self)[len("func"):])
		}
		sort.Strings(ms)
		return "interface{" + strings.Join(ms, "; ") + "}"
	}
	return s.typeStr(t, self)
}

// methodsMismatch compares the exported methods of two named types,
// including whether each is in the method set of the value type.
func (s *state) methodsMismatch(o, n types.Type) string {
	if types.IsInterface(o) {
		return "" // the underlying type already lists the methods
	}
	oval, optr := types.NewMethodSet(o), types.NewMethodSet(types.NewPointer(o))
	nval, nptr := types.NewMethodSet(n), types.NewMethodSet(types.NewPointer(n))
	var why []string
	for sel := range optr.Methods() {
		m := sel.Obj()
		if !m.Exported() {
			continue
		}
		nsel := nptr.Lookup(m.Pkg(), m.Name())
		switch {
		case nsel == nil:
			why = append(why, "method "+m.Name()+" is not in "+s.cfg.New)
		case !s.sameType(m.Type(), nsel.Obj().Type()):
			why = append(why, "method "+m.Name()+": "+s.differ("signature", m.Type(), nsel.Obj().Type()))
		case oval.Lookup(m.Pkg(), m.Name()) != nil && nval.Lookup(m.Pkg(), m.Name()) == nil:
			why = append(why, "method "+m.Name()+" has a value receiver here, a pointer receiver in "+s.cfg.New)
		}
	}
	return strings.Join(why, "; ")
}

// sameType reports whether o (in old) and n (in new) are the same type
// once the old package is read as the new one.
func (s *state) sameType(o, n types.Type) bool {
	return types.Identical(o, n) || s.typeStr(o, s.cfg.Old) == s.typeStr(n, s.cfg.New)
}

// typeStr writes t with self (the old or the new package) as "§" and
// every other package by its path. Signatures lose parameter names.
func (s *state) typeStr(t types.Type, self string) string {
	q := func(p *types.Package) string {
		if p.Path() == self {
			return "§"
		}
		return p.Path()
	}
	if sig, ok := t.(*types.Signature); ok {
		var b strings.Builder
		b.WriteString("func")
		if tps := sig.TypeParams(); tps.Len() > 0 {
			b.WriteString("[")
			for i := range tps.Len() {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(tps.At(i).Obj().Name() + " " + types.TypeString(tps.At(i).Constraint(), q))
			}
			b.WriteString("]")
		}
		tuple := func(t *types.Tuple, variadic bool) string {
			var parts []string
			for i := range t.Len() {
				typ := t.At(i).Type()
				if variadic && i == t.Len()-1 {
					parts = append(parts, "..."+types.TypeString(typ.(*types.Slice).Elem(), q))
					continue
				}
				parts = append(parts, types.TypeString(typ, q))
			}
			return "(" + strings.Join(parts, ", ") + ")"
		}
		b.WriteString(tuple(sig.Params(), sig.Variadic()))
		switch r := sig.Results(); r.Len() {
		case 0:
		case 1:
			b.WriteString(" " + types.TypeString(r.At(0).Type(), q))
		default:
			b.WriteString(" " + tuple(r, false))
		}
		return b.String()
	}
	return types.TypeString(t, q)
}

// collectUnits splits the old package into top-level declarations and
// records which package-level objects each one uses.
func (s *state) collectUnits() {
	info := s.old.TypesInfo
	s.unitOf = map[types.Object]*unit{}
	s.byNode = map[ast.Node]*unit{}
	s.methods = map[*types.TypeName][]*unit{}
	add := func(node ast.Node, defs []*ast.Ident) *unit {
		u := &unit{node: node, refs: map[types.Object]bool{}}
		for _, id := range defs {
			if o := info.Defs[id]; o != nil {
				u.defs = append(u.defs, o)
				s.unitOf[o] = u
			}
			if id.Name == "_" {
				u.isRoot = true
			}
		}
		ast.Inspect(node, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if o := info.Uses[id]; o != nil && o.Pkg() == s.old.Types && o.Parent() == s.old.Types.Scope() {
					u.refs[o] = true
				}
			}
			return true
		})
		s.units = append(s.units, u)
		s.byNode[node] = u
		return u
	}
	for _, f := range s.old.Syntax {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil {
					u := add(d, nil)
					u.recv = recvType(info, d)
					s.methods[u.recv] = append(s.methods[u.recv], u)
					continue
				}
				u := add(d, []*ast.Ident{d.Name})
				if d.Name.Name == "init" {
					u.isRoot = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch spec := spec.(type) {
					case *ast.ValueSpec:
						add(spec, spec.Names)
					case *ast.TypeSpec:
						add(spec, []*ast.Ident{spec.Name})
					}
				}
			}
		}
	}
}

// recvType returns the base type that method d is declared on.
func recvType(info *types.Info, d *ast.FuncDecl) *types.TypeName {
	fn, _ := info.Defs[d.Name].(*types.Func)
	if fn == nil {
		return nil
	}
	t := fn.Type().(*types.Signature).Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Origin().Obj()
	}
	return nil
}

// markLive finds the declarations the shim keeps: exported names that are
// not forwarded, init functions, blank declarations, what the internal
// tests use, and everything those use in turn.
func (s *state) markLive() {
	s.live = map[*unit]bool{}
	var work []*unit
	mark := func(u *unit) {
		if u != nil && !s.live[u] {
			s.live[u] = true
			work = append(work, u)
		}
	}
	for _, u := range s.units {
		for _, o := range u.defs {
			if (o.Exported() && !s.forward[o.Name()]) || (!o.Exported() && s.keepRefs[o.Name()]) {
				mark(u)
			}
		}
		if u.isRoot {
			mark(u)
		}
	}
	for len(work) > 0 {
		for len(work) > 0 {
			u := work[len(work)-1]
			work = work[:len(work)-1]
			for o := range u.refs {
				if !s.forward[o.Name()] {
					mark(s.unitOf[o])
				}
			}
			for _, o := range u.defs {
				if tn, ok := o.(*types.TypeName); ok {
					for _, m := range s.methods[tn] {
						mark(m)
					}
				}
			}
		}
		// An init whose effects stay inside the package stays with the
		// state it uses.
		for _, u := range s.units {
			if !u.localInit || s.live[u] {
				continue
			}
			for o := range u.refs {
				if !s.forward[o.Name()] && s.live[s.unitOf[o]] {
					mark(u)
					break
				}
			}
		}
	}
}

// fate is what happens to one declared name.
type fate int

const (
	fateKeep fate = iota
	fateForward
	fateDrop
)

// action decides the fate of name, declared by u.
func (s *state) action(u *unit, name string) fate {
	switch {
	case token.IsExported(name) && s.forward[name]:
		return fateForward
	case s.live[u]:
		return fateKeep
	}
	return fateDrop
}

// rewriteFile computes the shim form of one file.
// If addDoc is set, it gives the package a doc comment.
func (s *state) rewriteFile(f *ast.File, path string, addDoc bool) (output, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return output{}, fmt.Errorf("shim: %w", err)
	}
	out := output{path: path, src: src}
	im := s.newImports(f)
	tf := s.fset.File(f.Pos())
	off := func(p token.Pos) int { return tf.Offset(p) }
	var edits []gosrc.Edit
	for _, d := range f.Decls {
		start := d.Pos()
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Doc != nil {
				start = d.Doc.Pos()
			}
			u := s.unitOfNode(d)
			if d.Recv != nil {
				if u.recv != nil && s.forward[u.recv.Name()] || !s.live[u] {
					edits = append(edits, gosrc.Edit{Start: off(start), End: off(d.End())})
				}
				continue
			}
			switch s.action(u, d.Name.Name) {
			case fateForward:
				text := s.funcForwarder(d, im)
				edits = append(edits, gosrc.Edit{Start: off(start), End: off(d.End()), New: text})
			case fateDrop:
				edits = append(edits, gosrc.Edit{Start: off(start), End: off(d.End())})
			}
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			if d.Doc != nil {
				start = d.Doc.Pos()
			}
			end := d.End()
			if !d.Lparen.IsValid() {
				if c := specComment(d.Specs[0]); c != nil {
					end = c.End()
				}
			}
			text, changed := s.genDecl(d, src, off, im)
			if changed {
				edits = append(edits, gosrc.Edit{Start: off(start), End: off(end), New: text})
			}
		}
	}
	docEdit, hasDoc := s.packageDoc(f, off, addDoc)
	if docEdit != nil {
		edits = append(edits, *docEdit)
	}
	generates := s.generateNotes(f)
	if len(edits) == 0 && !generates {
		out.out = src
		return out, nil
	}
	edited, err := gosrc.Apply(src, edits)
	if err != nil {
		return out, fmt.Errorf("shim: %s: %w", path, err)
	}
	res, empty, err := s.fixImports(path, dropGenerate(edited), im)
	if err != nil {
		return out, err
	}
	out.out = res
	out.deleted = empty && !hasDoc
	return out, nil
}

// generateNotes records a note for each //go:generate directive of f,
// which the shim drops, and reports whether there is one. Left in the
// forwarders, the next "go generate" would write its code beside them
// again: methods on what is now an alias of the new package's type, which
// do not compile, or copies of what the new package generates.
func (s *state) generateNotes(f *ast.File) bool {
	found := false
	for _, g := range f.Comments {
		for _, c := range g.List {
			pos := s.fset.Position(c.Pos())
			if pos.Column != 1 || !strings.HasPrefix(c.Text, generatePrefix) {
				continue
			}
			found = true
			cmd := strings.TrimSpace(strings.TrimPrefix(c.Text, generatePrefix))
			s.notes = append(s.notes, Finding{Pos: pos, Name: strings.TrimSpace(generatePrefix),
				Reason: "dropped \"" + cmd + "\": its code belongs to " + s.cfg.New + " now; run go generate there"})
		}
	}
	return found
}

// generatePrefix opens a generation directive.
const generatePrefix = "//go:generate "

// dropGenerate removes the lines of src that are //go:generate
// directives: comments that start a line, as the go command reads them.
func dropGenerate(src []byte) []byte {
	fset := token.NewFileSet()
	tf := fset.AddFile("", -1, len(src))
	var sc scanner.Scanner
	sc.Init(tf, src, nil, scanner.ScanComments)
	var out []byte
	last := 0
	for {
		pos, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		if tok != token.COMMENT || !strings.HasPrefix(lit, generatePrefix) {
			continue
		}
		start := tf.Offset(pos)
		if start > 0 && src[start-1] != '\n' {
			continue // not at the start of a line: not a directive
		}
		end := start + len(lit)
		if end < len(src) && src[end] == '\n' {
			end++
		}
		out = append(out, src[last:start]...)
		last = end
	}
	if out == nil {
		return src
	}
	return append(out, src[last:]...)
}

// unitOfNode returns the unit of a top-level declaration or spec.
func (s *state) unitOfNode(n ast.Node) *unit {
	if u := s.byNode[n]; u != nil {
		return u
	}
	return &unit{}
}

// specComment returns the line comment of a spec.
func specComment(spec ast.Spec) *ast.CommentGroup {
	switch spec := spec.(type) {
	case *ast.ValueSpec:
		return spec.Comment
	case *ast.TypeSpec:
		return spec.Comment
	}
	return nil
}

// packageDoc adds a Deprecated paragraph to the package doc comment, if
// this file carries it. It reports whether the file has a package doc.
func (s *state) packageDoc(f *ast.File, off func(token.Pos) int, add bool) (*gosrc.Edit, bool) {
	if f.Doc == nil {
		if !add {
			return nil, false
		}
		at := off(f.Package)
		return &gosrc.Edit{Start: at, End: at, New: "// Package " + f.Name.Name + " forwards to " + s.cfg.New + ".\n//\n// Deprecated: use " + s.cfg.New + ".\n"}, true
	}
	if strings.Contains(f.Doc.Text(), "Deprecated:") {
		return nil, true
	}
	at := off(f.Doc.End())
	return &gosrc.Edit{Start: at, End: at, New: "\n//\n// Deprecated: use " + s.cfg.New + "."}, true
}

// genDecl rebuilds a const, var or type declaration in which some names
// are forwarded or dropped. It returns changed=false if all are kept.
func (s *state) genDecl(d *ast.GenDecl, src []byte, off func(token.Pos) int, im *fileImports) (string, bool) {
	type part struct{ doc, body string }
	var parts []part
	changed := false
	dropped := false // a spec before this one was removed (iota shifts)
	text := func(from, to token.Pos) string { return string(src[off(from):off(to)]) }
	for _, spec := range d.Specs {
		u := s.unitOfNode(spec)
		switch spec := spec.(type) {
		case *ast.TypeSpec:
			doc := spec.Doc
			if !d.Lparen.IsValid() {
				doc = d.Doc
			}
			switch s.action(u, spec.Name.Name) {
			case fateForward:
				changed = true
				parts = append(parts, part{s.forwardDoc(doc, spec.Name.Name, "type", true, d.Lparen.IsValid()), s.typeForwarder(spec, im)})
			case fateDrop:
				changed, dropped = true, true
			default:
				parts = append(parts, part{docSrc(doc, text), specSrc(spec, text)})
			}
		case *ast.ValueSpec:
			doc := spec.Doc
			if !d.Lparen.IsValid() {
				doc = d.Doc
			}
			acts := make([]fate, len(spec.Names))
			allKeep := true
			for i, id := range spec.Names {
				acts[i] = s.action(u, id.Name)
				allKeep = allKeep && acts[i] == fateKeep
			}
			usesIota := d.Tok == token.CONST && usesIota(s.old.TypesInfo, spec)
			if allKeep && (d.Tok != token.CONST || len(spec.Values) > 0 && !(usesIota && dropped)) {
				parts = append(parts, part{docSrc(doc, text), specSrc(spec, text)})
				continue
			}
			changed = true
			first := true
			for i, id := range spec.Names {
				var p part
				if first {
					p.doc = docSrc(doc, text)
				}
				switch acts[i] {
				case fateForward:
					var od *ast.CommentGroup
					if first {
						od = doc
					}
					kind := "var"
					if d.Tok == token.CONST {
						kind = "const"
					}
					p = part{s.forwardDoc(od, id.Name, kind, d.Tok == token.CONST, d.Lparen.IsValid()), id.Name + " = " + im.q(s.new.Types) + "." + id.Name}
				case fateDrop:
					dropped = true
					continue
				default:
					if d.Tok == token.CONST {
						p.body = s.constExplicit(s.old.TypesInfo.Defs[id].(*types.Const), im)
					} else {
						p.body = s.varKept(spec, i, text)
					}
				}
				first = false
				if c := spec.Comment; c != nil && i == len(spec.Names)-1 {
					p.body += " " + text(c.Pos(), c.End())
				}
				parts = append(parts, p)
			}
		}
	}
	if !changed {
		return "", false
	}
	if len(parts) == 0 {
		return "", true
	}
	var b strings.Builder
	if d.Lparen.IsValid() || len(parts) > 1 {
		if d.Lparen.IsValid() && d.Doc != nil {
			b.WriteString(text(d.Doc.Pos(), d.Doc.End()) + "\n")
		}
		b.WriteString(d.Tok.String() + " (\n")
		for i, p := range parts {
			if p.doc != "" {
				if i > 0 {
					b.WriteString("\n")
				}
				b.WriteString(p.doc + "\n")
			}
			b.WriteString(p.body + "\n")
		}
		b.WriteString(")")
		return b.String(), true
	}
	p := parts[0]
	if p.doc != "" {
		b.WriteString(p.doc + "\n")
	}
	b.WriteString(d.Tok.String() + " " + p.body)
	return b.String(), true
}

// docSrc is the source of a doc comment, or "".
func docSrc(doc *ast.CommentGroup, text func(from, to token.Pos) string) string {
	if doc == nil {
		return ""
	}
	return text(doc.Pos(), doc.End())
}

// specSrc is the source of a kept spec with its line comment.
func specSrc(spec ast.Spec, text func(from, to token.Pos) string) string {
	end := spec.End()
	if c := specComment(spec); c != nil {
		end = c.End()
	}
	return text(spec.Pos(), end)
}

// usesIota reports whether a constant spec's values use iota.
func usesIota(info *types.Info, spec *ast.ValueSpec) bool {
	found := false
	for _, v := range spec.Values {
		ast.Inspect(v, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && info.Uses[id] == types.Universe.Lookup("iota") {
				found = true
			}
			return !found
		})
	}
	return found
}

// varKept is the source of the i-th variable of a spec kept on its own.
func (s *state) varKept(spec *ast.ValueSpec, i int, text func(from, to token.Pos) string) string {
	b := spec.Names[i].Name
	if spec.Type != nil {
		b += " " + text(spec.Type.Pos(), spec.Type.End())
	}
	if len(spec.Values) == len(spec.Names) {
		b += " = " + text(spec.Values[i].Pos(), spec.Values[i].End())
	}
	return b
}

// constExplicit writes a kept constant with its type and value spelled out,
// for when its implicit or iota-based form would change meaning.
func (s *state) constExplicit(c *types.Const, im *fileImports) string {
	val := c.Val()
	lit := val.ExactString()
	basic, _ := c.Type().(*types.Basic)
	untyped := basic != nil && basic.Info()&types.IsUntyped != 0
	switch val.Kind() {
	case constant.Float:
		f, _ := constant.Float64Val(val)
		lit = strconv.FormatFloat(f, 'g', -1, 64)
		if untyped && !strings.ContainsAny(lit, ".eEn") {
			lit += ".0"
		}
	case constant.Int:
		if untyped && basic.Kind() == types.UntypedRune {
			if r, ok := constant.Int64Val(val); ok {
				lit = strconv.QuoteRune(rune(r))
			}
		}
	}
	if untyped {
		return c.Name() + " = " + lit
	}
	return c.Name() + " " + types.TypeString(c.Type(), im.qualifier()) + " = " + lit
}

// forwardDoc writes the doc comment of a forwarder: the old doc without
// its directives, then ours: a Deprecated paragraph pointing to the new
// declaration. A declaration that was deprecated already keeps its own
// note, whose advice still holds, as a paragraph of its own (code often
// writes it as the last line of a paragraph), and gets no second one.
// A declaration with no doc of its own gets a sentence saying what it
// forwards to, unless it sits in a group, whose doc speaks for it.
func (s *state) forwardDoc(doc *ast.CommentGroup, name, kind string, inline, grouped bool) string {
	target := s.cfg.New + "." + name
	ours := wrap("Deprecated: use " + target + ".")
	var paras []string
	deprecated := -1 // the index of the old doc's own Deprecated paragraph
	if doc != nil {
		for _, p := range strings.Split(strings.TrimSpace(doc.Text()), "\n\n") {
			if p == "" || strings.HasPrefix(p, copyNote) || p == ours {
				continue
			}
			lines := strings.Split(p, "\n")
			if i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Deprecated:") }); i >= 0 && deprecated < 0 {
				if i > 0 {
					paras = append(paras, strings.Join(lines[:i], "\n"))
				}
				deprecated = len(paras)
				paras = append(paras, strings.Join(lines[i:], "\n"))
				continue
			}
			paras = append(paras, p)
		}
	}
	if len(paras) == 0 && !grouped {
		switch kind {
		case "type":
			paras = append(paras, name+" is an alias of "+target+".")
		case "func":
			paras = append(paras, name+" calls "+target+".")
		case "const":
			paras = append(paras, name+" equals "+target+".")
		default:
			paras = append(paras, name+" holds the value of "+target+" at initialization.")
		}
	}
	if deprecated < 0 {
		deprecated = len(paras)
		paras = append(paras, ours)
	}
	if kind == "var" {
		paras = slices.Insert(paras, deprecated, wrap(copyNote+": assigning to it does not change "+target+", nor the reverse."))
	}
	var b strings.Builder
	for i, p := range paras {
		if i > 0 {
			b.WriteString("//\n")
		}
		for _, line := range strings.Split(p, "\n") {
			if line == "" {
				b.WriteString("//\n")
				continue
			}
			b.WriteString("// " + line + "\n")
		}
	}
	if inline {
		b.WriteString("//go:fix inline\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// copyNote opens the paragraph that tells a variable forwarder is a copy.
const copyNote = "It is a copy made when the package is initialized"

// wrap breaks a generated paragraph into lines of about 72 bytes.
func wrap(p string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(p) {
		if i > 0 && n+1+len(w) > 72 {
			b.WriteString("\n")
			n = 0
		} else if i > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// typeForwarder writes "Name[P C] = new.Name[P]" from the new declaration.
func (s *state) typeForwarder(spec *ast.TypeSpec, im *fileImports) string {
	n := s.new.Types.Scope().Lookup(spec.Name.Name).(*types.TypeName)
	tps := typeParams(n)
	decl, args := s.typeParamList(tps, im)
	return spec.Name.Name + decl + " = " + im.q(s.new.Types) + "." + spec.Name.Name + args
}

// typeParamList writes "[A any, B comparable]" and "[A, B]".
func (s *state) typeParamList(tps *types.TypeParamList, im *fileImports) (decl, args string) {
	if tps.Len() == 0 {
		return "", ""
	}
	var d, a []string
	for i := range tps.Len() {
		tp := tps.At(i)
		d = append(d, tp.Obj().Name()+" "+types.TypeString(tp.Constraint(), im.qualifier()))
		a = append(a, tp.Obj().Name())
	}
	return "[" + strings.Join(d, ", ") + "]", "[" + strings.Join(a, ", ") + "]"
}

// funcForwarder writes a function with the new one's signature whose body
// calls it. //go:fix inline is left off generic functions: the inliner of
// x/tools v0.52.0 cannot inline a call whose type arguments are inferred,
// and reports each such call as an error.
func (s *state) funcForwarder(d *ast.FuncDecl, im *fileImports) string {
	name := d.Name.Name
	fn := s.new.Types.Scope().Lookup(name).(*types.Func)
	sig := fn.Type().(*types.Signature)
	q := im.qualifier()
	typ := func(t types.Type) string { return types.TypeString(t, q) }
	tdecl, targs := s.typeParamList(sig.TypeParams(), im)
	newq := im.q(s.new.Types)
	// Write the types first: that settles which import names the file uses.
	for i := range sig.Params().Len() {
		gosrc.ParamType(sig, i, typ)
	}
	for i := range sig.Results().Len() {
		typ(sig.Results().At(i).Type())
	}
	taken := map[string]bool{}
	for _, n := range im.byPath {
		taken[n] = true
	}
	for i := range sig.TypeParams().Len() {
		taken[sig.TypeParams().At(i).Obj().Name()] = true
	}
	fresh := func(n string) string {
		n = gosrc.FreshName(n, func(n string) bool { return taken[n] })
		taken[n] = true
		return n
	}
	params := make([]string, sig.Params().Len())
	call := make([]string, sig.Params().Len())
	for i := range params {
		pn := sig.Params().At(i).Name()
		if pn == "" || pn == "_" || taken[pn] {
			pn = fmt.Sprintf("p%d", i)
		}
		params[i] = fresh(pn)
		call[i] = params[i]
		if sig.Variadic() && i == len(params)-1 {
			call[i] += "..."
		}
	}
	// Named results document what a function returns: they stay, renamed
	// like the parameters if they would shadow a name the body uses.
	var results []string
	if sig.Results().Len() > 0 && sig.Results().At(0).Name() != "" {
		for i := range sig.Results().Len() {
			rn := sig.Results().At(i).Name()
			if rn != "_" && taken[rn] {
				rn = fmt.Sprintf("r%d", i)
			}
			if rn != "_" {
				rn = fresh(rn)
			}
			results = append(results, rn)
		}
	}
	body := newq + "." + name + targs + "(" + strings.Join(call, ", ") + ")"
	if sig.Results().Len() > 0 {
		body = "return " + body
	}
	doc := s.forwardDoc(d.Doc, name, "func", sig.TypeParams().Len() == 0, false)
	return fmt.Sprintf("%s\nfunc %s%s%s {\n\t%s\n}", doc, name, tdecl, gosrc.Signature(sig, params, results, typ), body)
}

// fileImports chooses the names under which one file refers to packages.
type fileImports struct {
	s      *state
	taken  map[string]bool   // file- and package-scope names
	byPath map[string]string // import path -> name usable in this file
	names  map[string]string // import path -> the package's own name
	added  map[string]string // imports the forwarders need
}

// newImports starts from the imports f already has.
func (s *state) newImports(f *ast.File) *fileImports {
	im := &fileImports{s: s, taken: map[string]bool{}, byPath: map[string]string{}, names: map[string]string{}, added: map[string]string{}}
	for _, n := range s.old.Types.Scope().Names() {
		im.taken[n] = true
	}
	for _, spec := range f.Imports {
		path := gosrc.ImportPath(spec)
		name := ""
		if p := s.old.Imports[path]; p != nil {
			name = p.Name
		}
		im.names[path] = name
		if spec.Name != nil {
			name = spec.Name.Name
		}
		if name == "_" || name == "." || name == "" {
			continue
		}
		im.taken[name] = true
		im.byPath[path] = name
	}
	return im
}

// q returns the name of p in this file, adding an import if needed.
func (im *fileImports) q(p *types.Package) string {
	if n, ok := im.byPath[p.Path()]; ok {
		return n
	}
	name := gosrc.FreshName(p.Name(), func(n string) bool { return im.taken[n] })
	im.taken[name] = true
	im.byPath[p.Path()] = name
	im.names[p.Path()] = p.Name()
	im.added[p.Path()] = name
	return name
}

// qualifier writes packages as this file names them, adding imports as
// needed; the old package itself is unqualified.
func (im *fileImports) qualifier() types.Qualifier {
	return func(p *types.Package) string {
		if p == im.s.old.Types {
			return ""
		}
		return im.q(p)
	}
}

// fixImports adds the imports the forwarders need, removes the ones no
// kept code uses, and formats the file. empty reports a file left with no
// declarations.
func (s *state) fixImports(path string, src []byte, im *fileImports) (out []byte, empty bool, err error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return nil, false, fmt.Errorf("shim: rewritten %s does not parse: %w", path, err)
	}
	used := map[string]bool{}
	for _, id := range f.Unresolved {
		used[id.Name] = true
	}
	for _, spec := range slices.Clone(f.Imports) { // deleting changes f.Imports
		p := gosrc.ImportPath(spec)
		name := im.names[p]
		if spec.Name != nil {
			name = spec.Name.Name
		}
		if name != "_" && name != "." && !used[name] {
			if spec.Name != nil {
				astutil.DeleteNamedImport(fset, f, spec.Name.Name, p)
			} else {
				astutil.DeleteImport(fset, f, p)
			}
		}
	}
	paths := make([]string, 0, len(im.added))
	for p := range im.added {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		name := im.added[p]
		if !used[name] {
			continue
		}
		if name == im.names[p] && name == lastElem(p) {
			astutil.AddImport(fset, f, p)
		} else {
			astutil.AddNamedImport(fset, f, name, p)
		}
	}
	var b bytes.Buffer
	if err := format.Node(&b, fset, f); err != nil {
		return nil, false, fmt.Errorf("shim: format %s: %w", path, err)
	}
	// FormatOnly: gofmt, plus goimports' grouping of standard imports
	// apart from the others; no import is looked up.
	out, err = imports.Process(path, b.Bytes(), &imports.Options{FormatOnly: true, Comments: true, TabIndent: true, TabWidth: 8})
	if err != nil {
		return nil, false, fmt.Errorf("shim: format %s: %w", path, err)
	}
	// A file left with nothing but imports goes, unless it imports a
	// package for its side effects.
	empty = true
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); !ok || g.Tok != token.IMPORT {
			empty = false
		}
	}
	for _, spec := range f.Imports {
		if spec.Name != nil && spec.Name.Name == "_" {
			empty = false
		}
	}
	return out, empty, nil
}

// lastElem is the last element of an import path.
func lastElem(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}

// verify type-checks the rewritten old package against the loaded
// dependencies, then its tests against it, so that a shim that would not
// compile is never written.
func (s *state) verify(outs []output) error {
	v := &verifier{s: s, fset: token.NewFileSet(), src: map[string][]byte{}}
	var files []*ast.File
	for _, o := range outs {
		if o.deleted {
			continue
		}
		f, err := v.parse(o.path, o.out)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	if _, err := v.check(files, gosrc.Deps(s.old.Types, s.new.Types), s.cfg.Old); err != nil {
		hint := ""
		if s.oldTest != nil || len(s.old.IgnoredFiles) > 0 {
			hint = " (unexported declarations stay when the package's own tests or build-excluded files use them; move such tests to " + s.cfg.New + " first)"
		}
		return fmt.Errorf("shim: the shimmed package would not compile%s: %w", hint, err)
	}
	if s.oldTest == nil {
		return nil
	}
	// go/packages parsed the tests with another FileSet: parse them again.
	for _, f := range s.internalTests() {
		tf, err := v.parse(s.oldTest.Fset.Position(f.Package).Filename, nil)
		if err != nil {
			return err
		}
		files = append(files, tf)
	}
	tpkg, err := v.check(files, gosrc.Deps(s.oldTest.Types, s.new.Types), s.cfg.Old)
	if err != nil {
		return fmt.Errorf("shim: the tests of %s would not compile against the shim: %w", s.cfg.Old, err)
	}
	if s.oldXTest == nil {
		return nil
	}
	// The external tests see the shim through their imports; check them
	// unless another of those imports depends on the old package too, whose
	// loaded types would still be the unshimmed ones.
	for _, imp := range s.oldXTest.Types.Imports() {
		if imp.Path() != s.cfg.Old && gosrc.Imports(imp, s.cfg.Old) {
			return nil
		}
	}
	var xfiles []*ast.File
	for _, f := range s.oldXTest.Syntax {
		xf, err := v.parse(s.oldXTest.Fset.Position(f.Package).Filename, nil)
		if err != nil {
			return err
		}
		xfiles = append(xfiles, xf)
	}
	xpkgs := gosrc.Deps(s.oldXTest.Types)
	xpkgs[s.cfg.Old] = tpkg
	if _, err := v.check(xfiles, xpkgs, s.oldXTest.PkgPath); err != nil {
		return fmt.Errorf("shim: the tests of %s would not compile against the shim: %w", s.cfg.Old, err)
	}
	return nil
}

// verifier type-checks shimmed sources and quotes the offending line
// of each error, since the shimmed files exist nowhere yet.
type verifier struct {
	s    *state
	fset *token.FileSet
	src  map[string][]byte
}

// parse parses src, or the file on disk if src is nil.
func (v *verifier) parse(name string, src []byte) (*ast.File, error) {
	if src == nil {
		var err error
		if src, err = os.ReadFile(name); err != nil {
			return nil, fmt.Errorf("shim: %w", err)
		}
	}
	v.src[name] = src
	f, err := parser.ParseFile(v.fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("shim: %w", err)
	}
	return f, nil
}

// check type-checks files as the package path, importing from pkgs.
func (v *verifier) check(files []*ast.File, pkgs map[string]*types.Package, path string) (*types.Package, error) {
	delete(pkgs, path)
	var errs []error
	conf := types.Config{
		Importer: importer(pkgs),
		Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				pos := v.fset.Position(te.Pos)
				lines := bytes.Split(v.src[pos.Filename], []byte("\n"))
				if pos.Line >= 1 && pos.Line <= len(lines) {
					err = fmt.Errorf("%s: %s\n\t%s", pos, te.Msg, bytes.TrimSpace(lines[pos.Line-1]))
				}
			}
			errs = append(errs, err)
		},
	}
	if v.s.goVer != "" {
		conf.GoVersion = "go" + v.s.goVer
	}
	pkg, _ := conf.Check(path, v.fset, files, nil)
	if len(errs) > 5 {
		errs = append(errs[:5], fmt.Errorf("and %d more", len(errs)-5))
	}
	return pkg, errors.Join(errs...)
}

// importer imports already loaded packages.
type importer map[string]*types.Package

// Import implements [types.Importer].
func (m importer) Import(path string) (*types.Package, error) {
	if p := m[path]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("shim: package %s not loaded", path)
}

// diffAll is the unified diff of files, paths relative to base; a
// removed file is diffed against /dev/null.
func diffAll(base string, files []File) []byte {
	var b bytes.Buffer
	for _, f := range files {
		name := f.Path
		if rel, err := filepath.Rel(base, f.Path); err == nil {
			name = filepath.ToSlash(rel)
		}
		d := codemod.UnifiedDiff(name, f.Old, f.New)
		if f.New == nil {
			d = bytes.Replace(d, []byte("+++ b/"+name+"\n"), []byte("+++ /dev/null\n"), 1)
		}
		b.Write(d)
	}
	return b.Bytes()
}
