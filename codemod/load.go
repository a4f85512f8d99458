package codemod

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/tools/go/packages"
)

// BridgePath is the import path of the legacy shapes.
const BridgePath = "github.com/wsunify/wsunify/bridge"

// FacadePath is the import path of the facade.
const FacadePath = "github.com/wsunify/wsunify/facade"

// Program is a set of packages parsed and type-checked from source: the
// packages to migrate and, inside the main module, the packages that import
// them. Everything else is read from compiler export data.
type Program struct {
	Fset *token.FileSet
	// Packages are in dependency order: a package comes after the source
	// packages it imports.
	Packages []*Package
	// Module is the main module's path ("" outside a module).
	Module string

	byPath   map[string]*Package
	ext      *exportData
	progress Progress
	// legacy are the legacy paths the program was loaded for; reach says,
	// for each package read from export data, whether it depends on one.
	legacyPaths map[string]bool
	reach       map[string]bool

	// Set by Load for the build configurations (see config.go).
	config    BuildConfig      // the configuration the program is checked in
	others    []*Program       // the other configurations, for the first
	unchecked []*uncheckedFile // files no configuration checks, for the first
	// cycleTests are the test files this configuration leaves out of the
	// check for an import cycle through tests (testcycle.go).
	cycleTests []*uncheckedFile
	source     map[string]bool   // the paths loaded from source
	ignored    map[string]string // a main-module file the configuration leaves out → its package path
	dirs       map[string]string // a main-module package directory → its path
	listErrs   []error           // the go command's errors on selected packages not loaded from source
	// mods are the main modules by path, with their commands (api.go);
	// selected the package paths the patterns match; selection what they
	// select of the unchecked files (selection.go).
	mods      map[string]*mainModule
	selected  map[string]bool
	selection *selection
}

// Package is one package of a [Program].
type Package struct {
	Path string
	Name string
	Dir  string
	// Selected reports whether the package patterns matched the package;
	// other packages are loaded only to keep them compiling.
	Selected bool
	Files    []*File
	Types    *types.Package
	// Info is nil in a program [Migrate] returns for a package that no
	// longer depends on a legacy path; so is the AST of its files (their
	// Src holds the content).
	Info *types.Info
	// Errors are the package's load and type errors; a package with errors
	// is never rewritten.
	Errors []error

	imports  map[string]string // import path as written → package path
	done     chan struct{}     // closed once Types is set
	fset     *token.FileSet
	released bool // verify dropped Types, Info and the syntax (see restore)
	noInfo   bool // checked without Info: it no longer reaches a legacy path
}

// File is one Go source file of a [Package].
type File struct {
	Name string // absolute path
	Src  []byte
	AST  *ast.File

	parseErr error
}

// LoadConfig says where and how to load packages. The zero value loads from
// the current directory.
type LoadConfig struct {
	Dir        string   // working directory of the go command ("" = current)
	Env        []string // environment of the go command (nil = os.Environ())
	BuildFlags []string // e.g. -tags
	// LegacyPaths are the import paths of the legacy shapes; a package is
	// loaded from source only if it depends on one of them. Nil means
	// [BridgePath].
	LegacyPaths []string
	// NoTests leaves the _test.go files out. By default a package's tests
	// are loaded, rewritten and checked with it.
	NoTests bool
	// Configs are the build configurations to check, the first loaded
	// first. Nil means the go command's default and, when files it leaves
	// out may refer to a legacy name, the configurations that include them
	// (see config.go).
	Configs []BuildConfig
	// Progress, if not nil, is told the stages of the load and of what
	// the program is used for afterwards.
	Progress Progress
}

// Load loads the packages matched by patterns (as the go command takes
// them) that depend on a legacy path, plus the packages of the main module
// that import them, and type-checks them from source in parallel. While the
// go command lists the packages, the files that file-system patterns name
// are read and parsed, and the export data they import is loaded (see
// speculation).
func Load(ctx context.Context, cfg *LoadConfig, patterns ...string) (*Program, error) {
	if cfg == nil {
		cfg = &LoadConfig{}
	}
	return loadConfigs(ctx, cfg, patterns)
}

// loadOne is [Load] in one build configuration; other is set for every
// configuration but the first, which alone speculates. It runs the stages
// of a [loader] in order.
func loadOne(ctx context.Context, cfg *LoadConfig, patterns []string, other bool) (*Program, error) {
	l := newLoader(ctx, cfg, patterns, other)
	if cfg.Progress != nil {
		cfg.Progress(StageLoading, 0, 0)
	}
	var spec *speculation
	if !other {
		spec = speculate(ctx, cfg, l.fset, l.legacy, l.patterns)
	}
	if spec != nil {
		defer spec.close()
	}
	if err := l.list(); err != nil {
		return nil, err
	}
	if spec != nil {
		spec.halt()
		l.early = spec.files
	}
	l.chooseVariants()
	l.findSource()
	l.breakTestCycles()
	prog := l.program()
	prog.cycleTests = l.testCycleFiles(prog)
	external := l.addPackages(prog, l.sourceOrder())
	if len(prog.Packages) == 0 {
		return prog, nil
	}
	l.setReach(prog, external)
	if err := l.typeCheck(prog, spec, external); err != nil {
		return nil, err
	}
	return prog, nil
}

// loader loads one build configuration in named stages, each reading what
// the stages before it set:
//
//	list            the package graph of the patterns (and of the rest of
//	                the main module, or of the workspace): roots, all,
//	                selected, module
//	chooseVariants  one variant per package path: graph
//	findSource      the packages loaded from source: inSource
//	program         the Program, with what the other configurations and
//	                the unchecked files are found from
//	sourceOrder     the source packages in dependency order
//	addPackages     a Package per source package; the paths read from
//	                export data
//	setReach        which of those reach a legacy path
//	typeCheck       export data, parsing and type-checking
type loader struct {
	ctx      context.Context
	cfg      *LoadConfig
	patterns []string
	other    bool // not the first configuration
	legacy   []string
	isLegacy map[string]bool
	fset     *token.FileSet

	roots    []*packages.Package // the patterns' packages
	all      []*packages.Package // roots and the reverse dependencies' candidates
	selected map[string]bool     // the paths the patterns match
	module   *packages.Module    // the main module of the roots, or nil
	early    map[string]*File    // files the speculation read

	graph    map[string]*packages.Package // path → the variant standing for it
	plain    map[string]*packages.Package // path → its variant without tests
	inSource map[string]bool              // the paths loaded from source
	memo     map[string]bool              // reachesLegacy's answers

	// cycles are the packages breakTestCycles made plain (testcycle.go),
	// and the external tests it left out, with the reason; testVariant
	// the variants they had.
	cycles      map[string]string
	testVariant map[string]*packages.Package
}

func newLoader(ctx context.Context, cfg *LoadConfig, patterns []string, other bool) *loader {
	l := &loader{ctx: ctx, cfg: cfg, patterns: patterns, other: other, legacy: cfg.LegacyPaths,
		isLegacy: map[string]bool{}, fset: token.NewFileSet(), memo: map[string]bool{}}
	if l.legacy == nil {
		l.legacy = []string{BridgePath}
	}
	if len(l.patterns) == 0 {
		l.patterns = []string{"."}
	}
	for _, p := range l.legacy {
		l.isLegacy[p] = true
	}
	return l
}

// list loads the package graph of the patterns and, unless they cover it,
// of the rest of the main module (every module of a workspace): the
// reverse dependencies are among them.
func (l *loader) list() error {
	graphCfg := &packages.Config{Context: l.ctx, Mode: graphMode, Dir: l.cfg.Dir, Env: l.cfg.Env, BuildFlags: l.cfg.BuildFlags, Tests: !l.cfg.NoTests}
	roots, err := packages.Load(graphCfg, l.patterns...)
	if err != nil {
		if oe := otherModule(l.cfg.Dir, l.patterns); oe != nil {
			return oe
		}
		return fmt.Errorf("codemod: load: %w", err)
	}
	if len(roots) == 0 {
		return fmt.Errorf("codemod: load: no packages match %s", strings.Join(l.patterns, " "))
	}
	l.roots, l.selected = roots, map[string]bool{}
	for _, r := range roots {
		if len(r.GoFiles) == 0 && len(r.Errors) > 0 {
			if oe := otherModule(l.cfg.Dir, l.patterns); oe != nil {
				return oe
			}
			return fmt.Errorf("codemod: load: %v", r.Errors[0])
		}
		if isTestMain(r) {
			continue
		}
		l.selected[r.PkgPath] = true
		if r.Module != nil && r.Module.Main && l.module == nil {
			l.module = r.Module
		}
	}
	l.all = roots
	if l.module != nil && (inWorkspace(l.cfg) || !coversModule(l.patterns, l.cfg.Dir, l.module)) {
		rest, err := packages.Load(graphCfg, "work")
		if err != nil {
			return fmt.Errorf("codemod: load module: %w", err)
		}
		l.all = append(slices.Clone(roots), rest...)
	}
	return nil
}

// chooseVariants keeps one variant per package path: a package's own test
// variant (its files and its _test.go files) stands for the package, so
// that tests are rewritten and checked with the code they test.
func (l *loader) chooseVariants() {
	l.graph, l.plain = map[string]*packages.Package{}, map[string]*packages.Package{}
	packages.Visit(l.all, nil, func(p *packages.Package) {
		if isTestMain(p) {
			return
		}
		if p.ID == p.PkgPath {
			l.plain[p.PkgPath] = p
		}
		if cur, ok := l.graph[p.PkgPath]; !ok || variantRank(p) > variantRank(cur) {
			l.graph[p.PkgPath] = p
		}
	})
}

// chosen is the variant of imp's path that stands for it.
func (l *loader) chosen(imp *packages.Package) *packages.Package {
	if c := l.graph[imp.PkgPath]; c != nil {
		return c
	}
	return imp
}

// reachesLegacy reports whether p imports a legacy path, directly or not.
func (l *loader) reachesLegacy(p *packages.Package) bool {
	if v, ok := l.memo[p.PkgPath]; ok {
		return v
	}
	l.memo[p.PkgPath] = false
	for _, imp := range p.Imports {
		if l.isLegacy[imp.PkgPath] || l.reachesLegacy(l.chosen(imp)) {
			l.memo[p.PkgPath] = true
			break
		}
	}
	return l.memo[p.PkgPath]
}

// findSource finds the source set: the selected packages that reach a
// legacy path, and the packages that import one of them, directly or not
// (when the patterns are in a main module): their export data would hold
// other objects for the source set's types. An external test package is
// checked against its package's test variant, which export_test.go files
// may give more declarations than its export data has: that package joins
// the set with it, and its importers with it (a package the external test
// of go/ssa pulls in is imported by go/callgraph/internal/chautil).
func (l *loader) findSource() {
	l.inSource = map[string]bool{}
	importers := map[string][]string{}
	if l.module != nil {
		for path, p := range l.graph {
			for _, imp := range p.Imports {
				ip := l.chosen(imp).PkgPath
				importers[ip] = append(importers[ip], path)
			}
		}
	}
	var queue []string
	add := func(path string) {
		if !l.inSource[path] && !l.isLegacy[path] {
			l.inSource[path] = true
			queue = append(queue, path)
		}
	}
	for path := range l.selected {
		if p := l.graph[path]; p != nil && !l.isLegacy[path] && l.reachesLegacy(p) {
			add(path)
		}
	}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		if under, ok := strings.CutSuffix(path, "_test"); ok && l.graph[under] != nil && l.graph[path].Name == l.graph[under].Name+"_test" {
			add(under)
		}
		for _, imp := range importers[path] {
			add(imp)
		}
	}
}

// program returns the Program of the configuration, with what the other
// configurations and the unchecked files are found from: the files of the
// main modules this configuration leaves out, and the packages that do not
// parse.
func (l *loader) program() *Program {
	prog := &Program{Fset: l.fset, byPath: map[string]*Package{}, legacyPaths: l.isLegacy, source: l.inSource,
		ignored: map[string]string{}, dirs: map[string]string{}, progress: l.cfg.Progress,
		mods: map[string]*mainModule{}, selected: l.selected}
	if l.module != nil {
		prog.Module = l.module.Path
	}
	for _, p := range l.graph {
		if p.Module == nil || !p.Module.Main {
			continue
		}
		if len(p.GoFiles) > 0 {
			prog.dirs[filepath.Dir(p.GoFiles[0])] = strings.TrimSuffix(p.PkgPath, "_test")
		}
		addCommand(prog.mods, p.Module.Path, p.PkgPath, p.Name)
		if l.isLegacy[p.PkgPath] {
			continue // the legacy implementation is left alone
		}
		for _, name := range p.IgnoredFiles {
			if strings.HasSuffix(name, ".go") {
				prog.ignored[name] = strings.TrimSuffix(p.PkgPath, "_test")
			}
		}
		if l.selected[p.PkgPath] && !l.inSource[p.PkgPath] && !l.other {
			// (In another configuration, a package that is not loaded
			// from source has nothing to check there.)
			for _, e := range p.Errors {
				if e.Kind != packages.TypeError {
					prog.listErrs = append(prog.listErrs, listError(p.PkgPath, e))
				}
			}
		}
	}
	// What a command imports is its packages without their tests.
	plain := map[string]*packages.Package{}
	packages.Visit(l.all, nil, func(p *packages.Package) {
		if p.ID == p.PkgPath {
			plain[p.PkgPath] = p
		}
	})
	markAllServed(prog.mods, plain)
	return prog
}

// sourceOrder returns the paths of the source set in dependency order: a
// package after the source packages it imports, deterministically.
func (l *loader) sourceOrder() []string {
	var order []string
	visited := map[string]bool{}
	var visit func(p *packages.Package)
	visit = func(p *packages.Package) {
		if visited[p.PkgPath] {
			return
		}
		visited[p.PkgPath] = true
		for _, imp := range sortedImports(p) {
			visit(l.chosen(imp))
		}
		if l.inSource[p.PkgPath] {
			order = append(order, p.PkgPath)
		}
	}
	for _, p := range l.all {
		visit(l.chosen(p))
	}
	return order
}

// addPackages adds a Package to prog for each path of order, with the files
// the speculation read, and returns the paths the source set imports that
// are read from export data.
func (l *loader) addPackages(prog *Program, order []string) map[string]bool {
	external := map[string]bool{}
	for _, path := range order {
		lp := l.graph[path]
		pkg := &Package{
			Path:     path,
			Name:     lp.Name,
			Selected: l.selected[path],
			imports:  map[string]string{},
			fset:     prog.Fset,
		}
		for _, e := range lp.Errors {
			pkg.Errors = append(pkg.Errors, errors.New(e.Error()))
		}
		for _, name := range lp.GoFiles {
			f := l.early[name]
			if f == nil {
				f = &File{Name: name}
			}
			pkg.Files = append(pkg.Files, f)
		}
		if len(lp.GoFiles) > 0 {
			pkg.Dir = filepath.Dir(lp.GoFiles[0])
		}
		for written, imp := range lp.Imports {
			pkg.imports[written] = imp.PkgPath
			if !l.inSource[imp.PkgPath] && imp.PkgPath != "unsafe" {
				external[imp.PkgPath] = true
			}
		}
		prog.Packages = append(prog.Packages, pkg)
		prog.byPath[path] = pkg
	}
	return external
}

// setReach adds to external what the rewritten sources import even where
// the old ones did not (context and time for the type of a method value's
// func literal), and records for each whether it reaches a legacy path.
func (l *loader) setReach(prog *Program, external map[string]bool) {
	external[FacadePath], external[BridgePath] = true, true
	external["context"], external["time"] = true, true
	external[facadetestPath] = true // what a test double becomes (doubleswap.go)
	prog.reach = map[string]bool{}
	for path := range external {
		p := l.graph[path]
		prog.reach[path] = l.isLegacy[path] || p == nil || l.reachesLegacy(p)
	}
}

// typeCheck gives prog the types of everything the source set imports,
// from compiler export data, read by go/packages (one shared universe of
// packages) while the sources are read and parsed, unless the speculation
// has them already; then it type-checks the sources.
func (l *loader) typeCheck(prog *Program, spec *speculation, external map[string]bool) error {
	exportDone := make(chan error, 1)
	go func() {
		if spec != nil {
			if ext, err := spec.exportFor(l.ctx, external); ext != nil && err == nil {
				prog.ext = ext
				exportDone <- nil
				return
			}
		}
		var err error
		prog.ext, err = loadExportData(l.ctx, l.cfg, prog.Fset, external)
		exportDone <- err
	}()
	parseErr := prog.parse(l.ctx, prog.Packages)
	if err := <-exportDone; err != nil {
		return err
	}
	if parseErr != nil {
		return parseErr
	}
	if err := l.dependencyError(prog, external); err != nil {
		return err
	}
	return prog.check(l.ctx, prog.Packages)
}

// loadExportData loads the types of paths, and of the packages they
// import, from compiler export data: one universe of packages, in which
// every path has one *types.Package.
func loadExportData(ctx context.Context, cfg *LoadConfig, fset *token.FileSet, paths map[string]bool) (*exportData, error) {
	ecfg := &packages.Config{
		Context: ctx, Mode: packages.NeedName | packages.NeedTypes,
		Dir: cfg.Dir, Env: cfg.Env, BuildFlags: cfg.BuildFlags, Fset: fset,
	}
	deps, err := packages.Load(ecfg, slices.Sorted(maps.Keys(paths))...)
	if err != nil {
		return nil, fmt.Errorf("codemod: load dependencies: %w", err)
	}
	ext := &exportData{pkgs: map[string]*types.Package{}, errs: map[string]error{}}
	for _, d := range deps {
		switch {
		case len(d.Errors) > 0:
			ext.errs[d.PkgPath] = fmt.Errorf("%s does not build: %s", d.PkgPath, buildError(d.Errors[0]))
		case d.Types != nil && !d.IllTyped:
			ext.pkgs[d.PkgPath] = d.Types
		default:
			ext.errs[d.PkgPath] = fmt.Errorf("%s has no export data: a package it imports does not build here (go build %s says why)", d.PkgPath, d.PkgPath)
		}
	}
	return ext, nil
}

// buildError is the text of the go command's error on a package, without
// the "-: # path" header a failed compile has: "dep_windows.go:3:14:
// invalid operation: …", the lines after the first indented below it.
func buildError(e packages.Error) string {
	msg := e.Msg
	if e.Pos != "" && e.Pos != "-" {
		msg = e.Pos + ": " + msg
	}
	var lines []string
	for l := range strings.SplitSeq(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "# ") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n\t")
}

// errDependency marks the load of a configuration other than the first
// in which a package the sources import does not build: one the go
// command cannot build here (a custom tag that breaks the standard
// library, a dependency without support for that GOOS). Its files are
// left unchecked, with the reason, rather than refusing the run.
var errDependency = errors.New("a dependency does not build")

// dependencyError returns, for a configuration other than the first, an
// errDependency naming the first import of the sources that has no
// types, or nil. What only the rewrite may import (setReach: facadetest,
// which a vendor directory need not hold) does not count: the sources
// build without it, and a rewrite that needs it fails its verification.
func (l *loader) dependencyError(prog *Program, external map[string]bool) error {
	if !l.other || prog.ext == nil {
		return nil
	}
	imported := map[string]bool{}
	for _, pkg := range prog.Packages {
		for _, path := range pkg.imports {
			imported[path] = true
		}
	}
	for _, path := range slices.Sorted(maps.Keys(external)) {
		if !imported[path] || path == "unsafe" || path == "C" || prog.ext.pkgs[path] != nil {
			continue
		}
		if _, err := prog.ext.load(path); err != nil {
			return fmt.Errorf("%w: %w", errDependency, err)
		}
	}
	return nil
}

// parse reads (when Src is nil) and parses the files of pkgs in parallel.
// A syntax error is kept with its file; the error returned is for files
// that cannot be read.
func (p *Program) parse(ctx context.Context, pkgs []*Package) error {
	var files []*File
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			if f.AST == nil && f.parseErr == nil {
				files = append(files, f)
			}
		}
	}
	var next atomic.Int64
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) || ctx.Err() != nil {
					return
				}
				f := files[i]
				if f.Src == nil {
					if f.Src, errs[i] = os.ReadFile(f.Name); errs[i] != nil {
						continue
					}
				}
				f.AST, f.parseErr = parser.ParseFile(p.Fset, f.Name, f.Src, parser.ParseComments|parser.SkipObjectResolution)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("codemod: load: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("codemod: load: %w", err)
	}
	return nil
}

// listError is an error the go command reports on a package, labelled a
// syntax error when the file it names does not parse.
func listError(path string, e packages.Error) error {
	file, _, _ := strings.Cut(e.Pos, ":")
	if strings.HasSuffix(file, ".go") {
		if _, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution); err != nil {
			return fmt.Errorf("%s: %w: %w", path, errSyntax, err)
		}
	}
	return fmt.Errorf("%s: %s", path, e.Error())
}

// graphMode is what the package graph is loaded with: no types, no syntax.
const graphMode = packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps | packages.NeedModule

// isTestMain reports whether p is the generated main package of a test.
func isTestMain(p *packages.Package) bool {
	return p.Name == "main" && strings.HasSuffix(p.ID, ".test")
}

// variantRank orders the variants of one package path: its own test
// variant ("p [p.test]", or the external test package "p_test [p.test]"),
// then the package itself, then variants recompiled for another package's
// tests.
func variantRank(p *packages.Package) int {
	switch {
	case p.ID == p.PkgPath:
		return 1
	case strings.HasSuffix(p.ID, " ["+strings.TrimSuffix(p.PkgPath, "_test")+".test]"):
		return 2
	}
	return 0
}

// coversModule reports whether patterns surely match every package of the
// main module.
func coversModule(patterns []string, dir string, m *packages.Module) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for _, p := range patterns {
		if p == m.Path+"/..." || (p == "./..." && abs == m.Dir) {
			return true
		}
	}
	return false
}

func sortedImports(p *packages.Package) []*packages.Package {
	keys := make([]string, 0, len(p.Imports))
	for k := range p.Imports {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*packages.Package, len(keys))
	for i, k := range keys {
		out[i] = p.Imports[k]
	}
	return out
}

// mayUseLegacy returns a function reporting whether a source package can
// refer to a legacy type: only a package that depends on a legacy path,
// through the imports it has now, can. It errs on the side of true.
func (p *Program) mayUseLegacy(opts *Options) func(*Package) bool {
	if p.reach == nil {
		return func(*Package) bool { return true }
	}
	if opts != nil {
		for _, names := range opts.Shapes {
			for _, n := range names {
				if i := strings.LastIndex(n, "."); i < 0 || !p.legacyPaths[n[:i]] {
					return func(*Package) bool { return true }
				}
			}
		}
	}
	return p.reaches(typesImportPaths)
}

// typesImportPaths returns the paths pkg imports according to its types.
func typesImportPaths(pkg *Package) ([]string, bool) {
	if pkg.Types == nil {
		return nil, false
	}
	var paths []string
	for _, imp := range pkg.Types.Imports() {
		paths = append(paths, imp.Path())
	}
	return paths, true
}

// reaches returns a function reporting whether a source package depends on
// a legacy path, given the paths each source package imports (false when
// they are unknown).
func (p *Program) reaches(importsOf func(*Package) ([]string, bool)) func(*Package) bool {
	memo := map[string]bool{}
	var reaches func(path string) bool
	reaches = func(path string) bool {
		if v, ok := memo[path]; ok {
			return v
		}
		memo[path] = false
		v := p.legacyPaths[path]
		if pkg := p.byPath[path]; pkg != nil && !v {
			imps, known := importsOf(pkg)
			v = !known
			for _, imp := range imps {
				if reaches(imp) {
					v = true
					break
				}
			}
		} else if r, ok := p.reach[path]; ok {
			v = v || r
		} else {
			v = path != "unsafe"
		}
		memo[path] = v
		return v
	}
	return func(pkg *Package) bool { return reaches(pkg.Path) }
}

// Package returns the source package with the given path, or nil.
func (p *Program) Package(path string) *Package { return p.byPath[path] }

// Err returns the load and type errors of the selected packages and of the
// packages loaded with them, or nil. Each error is said once, on a line of
// its own: the first configuration's as they are, another's after its
// name ("in GOOS=windows: ..."), unless the first or an earlier one has
// said the same (a file every configuration builds).
func (p *Program) Err() error {
	errs := slices.Clone(p.listErrs)
	for _, pkg := range p.Packages {
		for _, e := range pkg.Errors {
			errs = append(errs, fmt.Errorf("%s: %w", pkg.Path, e))
		}
	}
	said := map[string]bool{}
	for _, e := range errs {
		said[e.Error()] = true
	}
	for _, o := range p.others {
		for _, e := range unjoin(o.Err()) {
			if !said[e.Error()] {
				said[e.Error()] = true
				errs = append(errs, fmt.Errorf("in %s: %w", o.config, e))
			}
		}
	}
	return errors.Join(errs...)
}

// unjoin returns the errors errors.Join joined into err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// check parses and type-checks pkgs (in dependency order) from the Src of
// their files, in parallel, one package per goroutine once its source
// dependencies are done. Errors in user code are recorded in
// Package.Errors; the returned error is for cancellation only.
func (p *Program) check(ctx context.Context, pkgs []*Package) error {
	for _, pkg := range pkgs {
		pkg.done = make(chan struct{})
		pkg.Types, pkg.Info = nil, nil
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	checked := p.counter(StageTypeChecking, len(pkgs))
	for _, pkg := range pkgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(pkg.done)
			for _, path := range pkg.imports {
				if dep := p.byPath[path]; dep != nil {
					select {
					case <-dep.done:
					case <-ctx.Done():
						return
					}
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			p.checkOne(pkg, p.Package)
			checked.add(1)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("codemod: type-check: %w", err)
	}
	return nil
}

// checkOne type-checks pkg from its files, parsing those without a syntax
// tree. The source packages it imports are found by source (by path),
// checked already; the others come from export data.
func (p *Program) checkOne(pkg *Package, source func(path string) *Package) {
	loadErrs := pkg.Errors[:0:0]
	for _, e := range pkg.Errors {
		if !errors.Is(e, errType) && !errors.Is(e, errSyntax) {
			loadErrs = append(loadErrs, e)
		}
	}
	pkg.Errors = loadErrs
	files := make([]*ast.File, 0, len(pkg.Files))
	for _, f := range pkg.Files {
		if f.AST == nil && f.parseErr == nil {
			f.AST, f.parseErr = parser.ParseFile(p.Fset, f.Name, f.Src, parser.ParseComments|parser.SkipObjectResolution)
		}
		if f.parseErr != nil {
			pkg.Errors = append(pkg.Errors, fmt.Errorf("%w: %w", errSyntax, f.parseErr))
		}
		if f.AST != nil {
			files = append(files, f.AST)
		}
	}
	// No Types: the type of every expression is most of the memory of a
	// large program, and the rules need only the objects and selections.
	// The maps are sized from the source: Go code has about one use per
	// 17 bytes, one definition per 70 and one selection per 100 (this
	// module's packages, and the benchmark's corpus), and a map that grows
	// to that size by doubling rehashes its entries on the way, a tenth of
	// the check's time.
	var info *types.Info
	if !pkg.noInfo {
		var size int
		for _, f := range pkg.Files {
			size += len(f.Src)
		}
		info = &types.Info{
			Defs:       make(map[*ast.Ident]types.Object, size/64),
			Uses:       make(map[*ast.Ident]types.Object, size/16),
			Selections: make(map[*ast.SelectorExpr]*types.Selection, size/96),
			Implicits:  map[ast.Node]types.Object{},
		}
	}
	cgo := cgoFiles(p.Fset, files)
	conf := types.Config{
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == "unsafe" {
				return types.Unsafe, nil
			}
			if real, ok := pkg.imports[path]; ok {
				path = real
			}
			if dep := source(path); dep != nil {
				if dep.Types == nil {
					return nil, fmt.Errorf("package %s did not load", path)
				}
				return dep.Types, nil
			}
			return p.ext.load(path)
		}),
		Error: func(err error) {
			if fakeCArtifact(err, cgo) {
				return // see cgo.go
			}
			pkg.Errors = append(pkg.Errors, fmt.Errorf("%w: %w", errType, err))
		},
		FakeImportC: true,
	}
	pkg.Types, _ = conf.Check(pkg.Path, p.Fset, files, info)
	pkg.Info = info
}

// errType marks errors found by parsing and type-checking, which a new
// check replaces.
var errType = errors.New("type error")

// errSyntax marks the syntax errors found by parsing, which a new check
// replaces too.
var errSyntax = errors.New("syntax error")

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// exportData holds the packages read from compiler export data. It is
// filled once by [Load] and only read afterwards, so every source package
// sees the same *types.Package for a dependency.
type exportData struct {
	pkgs map[string]*types.Package // package path → its types
	errs map[string]error          // package path → why it has no types
}

func (e *exportData) load(path string) (*types.Package, error) {
	if pkg := e.pkgs[path]; pkg != nil {
		return pkg, nil
	}
	if err := e.errs[path]; err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("no export data for %s", path)
}
