package codemod

import (
	"fmt"
	"go/types"
	"maps"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// The exported API of a library. The retype step changes a declaration
// only when it sees every use of it, and the packages of the main module
// are all it sees. In a service (a module with a command, and no package
// for importers in its root directory) that is
// every use there is: nothing outside imports it. A library is imported by
// modules the step never sees, and retyping an exported field, parameter,
// result, variable or func type of it breaks them: exactly the breaking
// change of a constructor's signature a step must never make. So in a
// library the declarations importers outside the module can reach keep
// their type, each with a finding that says why and how to opt in
// ([Options.API]); the legacy calls inside them are still rewritten
// (through bridge.NotifierOf and the like), and so is everything the API
// does not show: unexported declarations, internal packages, tests.

// API says what the retype step may do to the exported API of the
// packages it migrates: the declarations that importers outside the
// module can reach.
type API int

const (
	// APIAuto keeps the exported API of a library (a module with no main
	// package outside its example, test, tool and internal directories,
	// or with a package that is not a command in its root directory) and
	// changes a service's, in the packages its commands import.
	APIAuto API = iota
	// APIKeep keeps the exported API in every module.
	APIKeep
	// APIChange changes it in every module: a breaking change for a
	// library's importers, to be released as one.
	APIChange
)

// ParseAPI parses the value of the -api flag: auto, keep or change.
func ParseAPI(s string) (API, error) {
	switch s {
	case "", "auto":
		return APIAuto, nil
	case "keep":
		return APIKeep, nil
	case "change":
		return APIChange, nil
	}
	return APIAuto, fmt.Errorf("-api=%s: want auto, keep or change", s)
}

func (a API) String() string {
	switch a {
	case APIKeep:
		return "keep"
	case APIChange:
		return "change"
	}
	return "auto"
}

// mainModule is a main module of a program: its path and its commands.
type mainModule struct {
	path string
	// commands are its main packages outside example, test, tool and
	// internal directories (exampleDir): a module with none is a library.
	commands []string
	// root is the name of the package in its root directory, when that is
	// not a command: a package for importers, which makes the module a
	// library even with commands (klauspost/compress has s2/cmd/s2c).
	root string
	// served are the module's packages that its commands import, directly
	// or not. In a service, a package none of them imports is there for
	// other modules (golang.org/x/sys/cpu beside the generator
	// windows/mkwinsyscall), and keeps its exported API as a library's.
	served map[string]bool
}

// service reports whether the module is taken for a service: it has a
// command, and no package for importers in its root directory.
func (m *mainModule) service() bool { return len(m.commands) > 0 && m.root == "" }

// serves reports whether the package path belongs to a service and one of
// its commands imports it: every importer of it is then in the module.
func (m *mainModule) serves(pkgPath string) bool {
	return m.service() && m.served[strings.TrimSuffix(pkgPath, "_test")]
}

// addServed records that a command of m imports the package path.
func (m *mainModule) addServed(path string) {
	if m.served == nil {
		m.served = map[string]bool{}
	}
	m.served[path] = true
}

// exampleDir reports whether the package path rel (relative to its
// module) lies in a directory whose programs are a library's own
// helpers, not a service's commands: examples and demos, tests
// (go-redis's maintnotifications/e2e/cmd/proxy-fi-server), code
// generators and tools, and anything internal.
func exampleDir(rel string) bool {
	for elem := range strings.SplitSeq(rel, "/") {
		switch elem {
		case "example", "examples", "demo", "demos", "sample", "samples",
			"test", "tests", "testing", "testutil", "e2e", "integration", "bench", "benchmarks", "fuzz",
			"internal", "tools", "hack", "scripts", "gen", "generate", "generator":
			return true
		}
	}
	return false
}

// addCommand records that the package pkgPath, named name, of the main
// module modPath is listed.
func addCommand(mods map[string]*mainModule, modPath, pkgPath, name string) {
	m := mods[modPath]
	if m == nil {
		m = &mainModule{path: modPath}
		mods[modPath] = m
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(pkgPath, modPath), "/")
	if pkgPath == modPath && name != "main" && !strings.HasSuffix(name, "_test") {
		m.root = name
	}
	if name == "main" && !exampleDir(rel) && !slices.Contains(m.commands, pkgPath) {
		m.commands = append(m.commands, pkgPath)
		slices.Sort(m.commands)
	}
}

// mergeModules merges the main modules other configurations list into
// mods: a command of any configuration makes a service.
func mergeModules(mods map[string]*mainModule, others ...map[string]*mainModule) {
	for _, o := range others {
		for p, om := range o {
			for _, c := range om.commands {
				addCommand(mods, p, c, "main")
			}
			if mods[p] == nil {
				mods[p] = &mainModule{path: p}
			}
			if mods[p].root == "" {
				mods[p].root = om.root
			}
			for path := range om.served {
				mods[p].addServed(path)
			}
		}
	}
}

// moduleOf is the main module the package path belongs to: the longest
// module path that is a prefix of it.
func (p *Program) moduleOf(pkgPath string) *mainModule {
	var best *mainModule
	for mp, m := range p.mods {
		if (pkgPath == mp || strings.HasPrefix(pkgPath, mp+"/") || strings.HasPrefix(pkgPath, mp+"_")) &&
			(best == nil || len(mp) > len(best.path)) {
			best = m
		}
	}
	return best
}

// apiReason returns why the retype step keeps d, a declaration of the
// exported API of a package importers outside its module can reach, or ""
// when it may change it.
func (rt *retyper) apiReason(d *decl) string {
	if rt.opts.API == APIChange || !rt.exportedAPI(d) {
		return ""
	}
	m := rt.prog.moduleOf(d.pkg.Path)
	if m == nil {
		return ""
	}
	what := "it is exported API of " + d.pkg.Path
	if rt.opts.API == APIKeep {
		return what + ", and -api=keep keeps it; without the flag, a module with a main package retypes it with its importers"
	}
	why := m.exposed(d.pkg.Path, "the step")
	if why == "" {
		return "" // a service's package its commands import: every importer is in the module (-api=keep keeps it all the same)
	}
	return what + why + ": run with -api=change to retype it, a breaking change for them"
}

// exposed returns why modules that who does not see may import the
// package path of m (", and m is a library …, so modules the step does
// not see may use it"), or "" when only m's own packages can: a package
// of a service that its commands import.
func (m *mainModule) exposed(pkgPath, who string) string {
	switch {
	case m.serves(pkgPath):
		return ""
	case m.service():
		return fmt.Sprintf(", a package that no command of %s imports (%s), so it is there for other modules, which %s does not see",
			m.path, strings.Join(m.commands, ", "), who)
	case len(m.commands) > 0:
		return fmt.Sprintf(", and %s is a library: its root directory is package %s, for importers, though it has commands (%s), "+
			"so modules %s does not see may use it", m.path, m.root, strings.Join(m.commands, ", "), who)
	}
	return fmt.Sprintf(", and %s is a library (no main package outside its examples, tests, tools and internal directories), "+
		"so modules %s does not see may use it", m.path, who)
}

// Exposed returns why modules other than its own, which who does not
// see, may import the package path, from pkgs, the packages of its module
// as go/packages lists them (with NeedName, NeedImports and NeedModule):
// the reasons, in the same words, for which the retype step keeps a
// library's exported API (", and example.com/lib is a library …"); or ""
// when only its own module can import it: an internal package, or a
// package that a service's commands import.
func Exposed(pkgs []*packages.Package, path, who string) string {
	mods := map[string]*mainModule{}
	graph := map[string]*packages.Package{}
	for _, p := range pkgs {
		if p.Module != nil && p.Module.Main && !isTestMain(p) {
			addCommand(mods, p.Module.Path, p.PkgPath, p.Name)
			if graph[p.PkgPath] == nil || p.ID == p.PkgPath {
				graph[p.PkgPath] = p // the package, not a test variant of it
			}
		}
	}
	markAllServed(mods, graph)
	p := graph[path]
	if p == nil {
		return ""
	}
	m := mods[p.Module.Path]
	if internalTo(m.path, path) {
		return ""
	}
	return m.exposed(path, who)
}

// markAllServed records in each module of mods the packages its commands
// import, from graph (package path → the package as listed).
func markAllServed(mods map[string]*mainModule, graph map[string]*packages.Package) {
	for _, m := range mods {
		seen := map[string]bool{}
		for _, c := range m.commands {
			if p := graph[c]; p != nil {
				markServed(m, p, graph, seen)
			}
		}
	}
}

// markServed records in m the packages of m that p imports, directly or
// not.
func markServed(m *mainModule, p *packages.Package, graph map[string]*packages.Package, seen map[string]bool) {
	for _, imp := range p.Imports {
		if seen[imp.PkgPath] {
			continue
		}
		seen[imp.PkgPath] = true
		q := graph[imp.PkgPath]
		if q == nil || q.Module == nil || q.Module.Path != m.path {
			continue // another module's: what it imports of m is its own business
		}
		m.addServed(imp.PkgPath)
		markServed(m, q, graph, seen)
	}
}

// exportedAPI reports whether importers outside d's module can reach d: an
// exported declaration (or a parameter or result of one) of a package
// they may import, outside its tests.
func (rt *retyper) exportedAPI(d *decl) bool {
	pkg := d.pkg
	if pkg.Name == "main" || strings.HasSuffix(pkg.Path, "_test") || strings.HasSuffix(d.file.Name, "_test.go") {
		return false
	}
	if m := rt.prog.moduleOf(pkg.Path); m == nil || internalTo(m.path, pkg.Path) {
		return false
	}
	reach := rt.reachable(pkg)
	switch d.kind {
	case declField, declEmbedded:
		return reach.fields[d.v]
	case declPkgVar:
		return d.v.Exported()
	case declParam, declResult:
		if d.fn != nil {
			return reach.funcs(d.fn)
		}
		if d.owner != nil { // a result of a func type, a func-typed field or variable
			switch o := d.owner.(type) {
			case *types.TypeName:
				return reach.types[o]
			case *types.Var:
				if o.IsField() {
					return reach.fields[o]
				}
				return reach.vars[o] || o.Exported() && o.Parent() == pkg.Types.Scope()
			}
		}
	}
	return false
}

// internalTo reports whether the package path lies in an internal
// directory of the module mod: only the module imports it.
func internalTo(mod, pkgPath string) bool {
	rel := strings.TrimPrefix(pkgPath, mod)
	return strings.Contains(rel+"/", "/internal/")
}

// reach is what importers of a package can reach of it: the named types
// they can name or get through an exported field, an embedding or a
// result, the struct fields they can select, and the parameters and
// results of the functions and methods they can call.
type reach struct {
	types  map[*types.TypeName]bool
	fields map[*types.Var]bool
	vars   map[*types.Var]bool
}

// funcs reports whether fn, a function or a method of the package, can be
// called from outside it.
func (r *reach) funcs(fn *types.Func) bool {
	if !fn.Exported() {
		return false
	}
	recv := fn.Signature().Recv()
	if recv == nil {
		return fn.Parent() != nil && fn.Parent() == fn.Pkg().Scope()
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && r.types[n.Origin().Obj()]
}

// reachable returns what importers of pkg can reach of it, once per
// package.
func (rt *retyper) reachable(pkg *Package) *reach {
	if r := rt.reach[pkg]; r != nil {
		return r
	}
	r := &reach{types: map[*types.TypeName]bool{}, fields: map[*types.Var]bool{}, vars: map[*types.Var]bool{}}
	if rt.reach == nil {
		rt.reach = map[*Package]*reach{}
	}
	rt.reach[pkg] = r
	var visit func(t types.Type)
	// What a reachable function returns is reachable too, named or not
	// (func New() *tracer); its parameters and results are its callers'.
	visitFunc := func(fn *types.Func) {
		for v := range fn.Signature().Params().Variables() {
			r.vars[v] = true
		}
		for v := range fn.Signature().Results().Variables() {
			r.vars[v] = true
			visit(v.Type())
		}
	}
	visitNamed := func(tn *types.TypeName) {
		if tn.Pkg() != pkg.Types || r.types[tn] {
			return
		}
		r.types[tn] = true
		visit(tn.Type().Underlying())
		if n, ok := tn.Type().(*types.Named); ok {
			for m := range n.Methods() {
				if m.Exported() {
					visitFunc(m)
				}
			}
		}
	}
	visit = func(t types.Type) {
		switch t := types.Unalias(t).(type) {
		case *types.Pointer:
			visit(t.Elem())
		case *types.Named:
			visitNamed(t.Origin().Obj())
		case *types.Struct:
			for i := range t.NumFields() {
				f := t.Field(i)
				if f.Exported() {
					r.fields[f] = true
				}
				if f.Exported() || f.Embedded() {
					// An embedded field, exported or not, promotes its
					// fields and methods.
					visit(f.Type())
				}
			}
		case *types.Interface:
			for i := range t.NumEmbeddeds() {
				visit(t.EmbeddedType(i))
			}
		}
	}
	scope := pkg.Types.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch obj := obj.(type) {
		case *types.TypeName:
			visitNamed(obj)
			if !obj.IsAlias() {
				continue
			}
			visit(obj.Type())
		case *types.Var:
			visit(obj.Type()) // an exported variable of an anonymous struct type
		case *types.Func:
			visitFunc(obj)
		}
	}
	return r
}

// ExportedChange is a declaration of a service's exported API that the
// migration retypes. With [APIAuto] a module with a command is taken for
// a service, whose packages no other module imports; the change is listed
// so that a library that ships commands of its own, whose importers the
// step never sees, is not broken unawares: its owner runs with -api=keep.
type ExportedChange struct {
	Pos    Position `json:"pos"`    // the declaration on disk
	Decl   string   `json:"decl"`   // what it is: "parameter ws of relay.NewRelay"
	Module string   `json:"module"` // the module taken for a service
	// Commands are the module's main packages that make it a service.
	Commands []string `json:"commands"`
}

func (c ExportedChange) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", c.Pos.File, c.Pos.Line, c.Pos.Column, c.Decl)
}

// serviceAPI reports whether retyping d changes the exported API of a
// module taken for a service, and the change if it does.
func (rt *retyper) serviceAPI(d *decl) (ExportedChange, bool) {
	if rt.opts.API != APIAuto || !rt.exportedAPI(d) {
		return ExportedChange{}, false
	}
	m := rt.prog.moduleOf(d.pkg.Path)
	if m == nil || !m.serves(d.pkg.Path) {
		return ExportedChange{}, false
	}
	return ExportedChange{Decl: nameDecl(d), Module: m.path, Commands: slices.Clone(m.commands)}, true
}

// nameDecl names d for a reader: "field relay.Relay.WS", "parameter ws
// of relay.NewRelay", "a result of (*relay.Relay).Dial", "variable
// relay.Default".
func nameDecl(d *decl) string {
	pkg := d.pkg.Types
	switch d.kind {
	case declField, declEmbedded:
		if owner := fieldOwner(pkg, d.v); owner != "" {
			return "field " + pkg.Name() + "." + owner + "." + d.ident.Name
		}
		return "field " + d.ident.Name + " of a struct of " + pkg.Name()
	case declPkgVar:
		return "variable " + pkg.Name() + "." + d.ident.Name
	case declParam, declResult:
		of := "a func type of " + pkg.Name()
		switch {
		case d.fn != nil:
			of = shortPkg(d.fn.FullName(), pkg.Path(), pkg.Name())
		case d.owner != nil:
			of = pkg.Name() + "." + d.owner.Name()
		}
		if d.kind == declResult {
			return "a result of " + of
		}
		return "parameter " + d.ident.Name + " of " + of
	}
	return d.ident.Name
}

// fieldOwner returns the name of the package-level type of pkg whose
// struct declares the field v, or "".
func fieldOwner(pkg *types.Package, v *types.Var) string {
	for _, name := range pkg.Scope().Names() {
		tn, ok := pkg.Scope().Lookup(name).(*types.TypeName)
		if !ok {
			continue
		}
		if st, ok := tn.Type().Underlying().(*types.Struct); ok {
			for f := range st.Fields() {
				if f == v {
					return tn.Name()
				}
			}
		}
	}
	return ""
}

// shortPkg replaces the package path in a qualified name with the
// package's name.
func shortPkg(s, path, name string) string {
	return strings.ReplaceAll(s, path+".", name+".")
}

// addExported adds the changes of from to to, by stable key; it returns
// to, made if nil.
func addExported(to, from map[string]ExportedChange) map[string]ExportedChange {
	if len(from) == 0 {
		return to
	}
	if to == nil {
		to = make(map[string]ExportedChange, len(from))
	}
	maps.Copy(to, from)
	return to
}

// exportedChanges lists the changes of m in file and line order.
func exportedChanges(m map[string]ExportedChange) []ExportedChange {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b ExportedChange) int {
		if c := strings.Compare(a.Pos.File, b.Pos.File); c != 0 {
			return c
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return strings.Compare(a.Decl, b.Decl)
	})
	return out
}
