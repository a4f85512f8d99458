package codemod

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"go/build/constraint"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/wsunify/wsunify/internal/gosrc"
)

// A file the go command leaves out of one build configuration (another
// GOOS or GOARCH, a custom tag, a tagged test) is still the user's code:
// [Load] checks each such file that may refer to a legacy name, or to a
// package loaded from source, in a configuration that includes it. The
// first configuration is the go command's default (or the first the user
// gives); the others are found from the files' build constraints, and only
// when such a file exists, so that a module without one costs a read of the
// file names go list already returned. [Migrate] rewrites every
// configuration, keeps a declaration that any configuration keeps, and
// requires a file seen in two configurations to get the same edits.

// BuildConfig is one build configuration. The zero value is the go
// command's default.
type BuildConfig struct {
	GOOS, GOARCH string // "" = the default
	Tags         []string
}

// String names the configuration as a user sets it.
func (c BuildConfig) String() string {
	var parts []string
	if c.GOOS != "" {
		parts = append(parts, "GOOS="+c.GOOS)
	}
	if c.GOARCH != "" {
		parts = append(parts, "GOARCH="+c.GOARCH)
	}
	if len(c.Tags) > 0 {
		parts = append(parts, "-tags "+strings.Join(c.Tags, ","))
	}
	if len(parts) == 0 {
		return "the default build configuration"
	}
	return strings.Join(parts, " ")
}

// Check reports a GOOS or GOARCH the go command does not build for: the
// go command lists the packages of any, and only the build fails.
func (c BuildConfig) Check() error {
	if c.GOOS != "" && !knownOS[c.GOOS] {
		return fmt.Errorf("unknown GOOS %q: one of %s", c.GOOS, strings.Join(slices.Sorted(maps.Keys(knownOS)), ", "))
	}
	if c.GOARCH != "" && !knownArch[c.GOARCH] {
		return fmt.Errorf("unknown GOARCH %q: one of %s", c.GOARCH, strings.Join(slices.Sorted(maps.Keys(knownArch)), ", "))
	}
	if r := resolved(c.withPort()); !isPort(r.GOOS, r.GOARCH) {
		return fmt.Errorf("the go command does not build for GOOS=%s GOARCH=%s: GOARCH is one of %s there", r.GOOS, r.GOARCH, strings.Join(ports[r.GOOS], ", "))
	}
	return nil
}

// withPort sets the GOARCH of a c that names a GOOS and no GOARCH to the
// first of that GOOS's when the default GOARCH is not one: GOOS=aix alone
// means aix/ppc64.
func (c BuildConfig) withPort() BuildConfig {
	if c.GOOS != "" && c.GOARCH == "" && !isPort(c.GOOS, build.Default.GOARCH) && len(ports[c.GOOS]) > 0 {
		c.GOARCH = ports[c.GOOS][0]
	}
	return c
}

// apply returns cfg set to load in c.
func (c BuildConfig) apply(cfg *LoadConfig) *LoadConfig {
	out := *cfg
	c = c.withPort()
	if c.GOOS != "" || c.GOARCH != "" {
		env := cfg.Env
		if env == nil {
			env = os.Environ()
		}
		env = slices.Clone(env)
		if c.GOOS != "" {
			env = append(env, "GOOS="+c.GOOS)
		}
		if c.GOARCH != "" {
			env = append(env, "GOARCH="+c.GOARCH)
		}
		out.Env = env
	}
	if len(c.Tags) > 0 {
		out.BuildFlags = append(slices.Clone(cfg.BuildFlags), "-tags="+strings.Join(c.Tags, ","))
	}
	return &out
}

// uncheckedFile is a file of the main module that may refer to a legacy
// name or to a declaration the codemod retypes, and that no loaded
// configuration type-checks.
type uncheckedFile struct {
	name    string
	pkgPath string // the package of its directory, "" if unknown
	src     []byte
	imports []string
	test    bool   // a _test.go file left out by -test=false
	why     string // ", which …": why it is not checked
	// unloaded says why the configuration that includes it did not load.
	unloaded string
	// cycle says which import cycle through tests left it out (testcycle.go).
	cycle string

	idents  map[string]mention // the identifiers it contains, and how
	pkgName string             // its package clause's name, "?" if it does not parse; "" until belongsTo reads it
}

// sees reports whether the file may refer to the declarations of pkg: it
// belongs to pkg (it lies in its directory with its package name; a
// program built only with the ignore tag there is package main, and an
// external test package_test, which see its exported names only by
// importing it) or imports it.
func (u *uncheckedFile) sees(pkg *Package) bool {
	return slices.Contains(u.imports, pkg.Path) || u.belongsTo(pkg)
}

// belongsTo reports whether the file is one of pkg's: it lies in its
// directory with its package name. Only then may it refer to pkg's
// unexported names.
func (u *uncheckedFile) belongsTo(pkg *Package) bool {
	if filepath.Dir(u.name) != pkg.Dir {
		return false
	}
	if u.pkgName == "" {
		u.pkgName = "?"
		if af, err := parser.ParseFile(token.NewFileSet(), u.name, u.src, parser.PackageClauseOnly); err == nil {
			u.pkgName = af.Name.Name
		}
	}
	return u.pkgName == "?" || u.pkgName == pkg.Name || pkg.Name == ""
}

// mention says how a file names an identifier.
type mention uint8

const (
	mentioned mention = 1 << iota // anywhere
	selected                      // after a dot or before a colon: x.m, T{m: v}
)

// mentions reports whether the identifier name occurs in the file.
func (u *uncheckedFile) mentions(name string) bool { return u.scan()[name] != 0 }

// mentionsField reports whether the file may name the field name: only
// a selector (x.m) or a composite literal's key (T{m: v}) names a field,
// not a local variable of the same name.
func (u *uncheckedFile) mentionsField(name string) bool { return u.scan()[name]&selected != 0 }

// scan reads the identifiers of the file once.
func (u *uncheckedFile) scan() map[string]mention {
	if u.idents == nil {
		u.idents = map[string]mention{}
		var s scanner.Scanner
		fset := token.NewFileSet()
		s.Init(fset.AddFile(u.name, -1, len(u.src)), u.src, nil, 0)
		prev, prevLit := token.ILLEGAL, ""
		for {
			_, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			switch {
			case tok == token.IDENT && prev == token.PERIOD:
				u.idents[lit] |= mentioned | selected
			case tok == token.IDENT:
				u.idents[lit] |= mentioned
			case tok == token.COLON && prev == token.IDENT:
				u.idents[prevLit] |= selected
			}
			prev, prevLit = tok, lit
		}
	}
	return u.idents
}

// legacyRefs counts the references the file makes to the legacy
// packages it imports (bridge.X, or X where it imports one with a dot:
// exported gives the exported names of a legacy path) and, with methods,
// the calls of legacy method names (x.SendToUser), read from its tokens.
func (u *uncheckedFile) legacyRefs(legacy, methods map[string]bool, exported func(path string) map[string]bool) int {
	names := map[string]bool{}
	dotted := map[string]bool{} // the names of the packages imported with a dot
	dot := false
	if af, err := parser.ParseFile(token.NewFileSet(), u.name, u.src, parser.ImportsOnly); err == nil {
		for _, spec := range af.Imports {
			path := gosrc.ImportPath(spec)
			if !legacy[path] {
				continue
			}
			name := path[strings.LastIndex(path, "/")+1:]
			if spec.Name != nil {
				name = spec.Name.Name
			}
			if name == "." {
				dot = true
				for n := range exported(path) {
					dotted[n] = true
				}
				continue
			}
			names[name] = true
		}
	}
	n := 0
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile(u.name, -1, len(u.src)), u.src, nil, 0)
	var prevTok token.Token
	prevLit := ""
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		switch {
		case tok == token.PERIOD && prevTok == token.IDENT && names[prevLit]:
			n++
		case tok == token.IDENT && prevTok == token.PERIOD && methods[lit]:
			n++
		case tok == token.IDENT && prevTok != token.PERIOD && dotted[lit]:
			n++
		}
		prevTok, prevLit = tok, lit
	}
	if dot && n == 0 {
		n = 1 // the import itself, where the package's names are not loaded
	}
	return n
}

// all returns the program of every configuration, the first first.
func (p *Program) all() []*Program { return append([]*Program{p}, p.others...) }

// Configs returns the build configurations the program was checked in.
func (p *Program) Configs() []BuildConfig {
	var out []BuildConfig
	for _, o := range p.all() {
		out = append(out, o.config)
	}
	return out
}

// loadConfigs loads the first configuration, then the others the files
// it leaves out need.
func loadConfigs(ctx context.Context, cfg *LoadConfig, patterns []string) (*Program, error) {
	for _, c := range cfg.Configs {
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("codemod: load: %w", err)
		}
	}
	first := BuildConfig{}
	if len(cfg.Configs) > 0 {
		first = cfg.Configs[0]
	}
	// The directories of the module, listed while the go command lists
	// the packages: a directory whose files all belong to another
	// configuration is not in the list.
	dirsDone := make(chan map[string][]string, 1)
	go func() { dirsDone <- goFilesByDir(ctx, gosrc.ModuleRoot(absDir(cfg.Dir))) }()
	prog, err := loadOne(ctx, first.apply(cfg), patterns, false)
	allDirs := <-dirsDone
	if err != nil {
		return nil, err
	}
	prog.config = first
	outside := prog.outsideFiles(cfg, allDirs)
	var extra []BuildConfig
	if cfg.Configs != nil {
		extra = cfg.Configs[1:]
	} else {
		extra = configsFor(prog.worthChecking(outside), first)
	}
	for _, c := range extra {
		o, err := loadOne(ctx, c.apply(cfg), patterns, true)
		doesNot := "load"
		if err == nil && cfg.Configs == nil {
			if err = o.Err(); err != nil {
				// The module's own code does not type-check there:
				// google.golang.org/protobuf's tests with -tags
				// protoopaque, which go vet refuses as well.
				doesNot = "type-check"
			}
		}
		if err != nil && cfg.Configs == nil && ctx.Err() == nil {
			// A configuration the go command cannot load here (a GOOS
			// that needs cgo, say, or a dependency that does not build
			// there), or in which the code does not type-check: its
			// files stay unchecked, reported with the reason.
			msg, _, _ := strings.Cut(err.Error(), "\n")
			why := fmt.Sprintf("%s does not %s here: %s", c, doesNot, msg)
			for _, u := range outside {
				if u.unloaded == "" && includes(resolved(c), u) {
					u.unloaded = why
					u.why = "which no checked build configuration includes (" + why + ")"
				}
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("in %s: %w", c, err)
		}
		o.config = c
		prog.others = append(prog.others, o)
	}
	checked := map[string]bool{}
	for _, o := range prog.all() {
		for _, pkg := range o.Packages {
			for _, f := range pkg.Files {
				checked[f.Name] = true
			}
		}
	}
	for _, u := range outside {
		if !checked[u.name] {
			prog.unchecked = append(prog.unchecked, u)
			checked[u.name] = true
		}
	}
	for _, o := range prog.all() {
		for _, u := range o.cycleTests {
			if !checked[u.name] {
				prog.unchecked = append(prog.unchecked, u)
				checked[u.name] = true
			}
		}
	}
	if cfg.NoTests {
		prog.unchecked = append(prog.unchecked, prog.testFiles(allDirs)...)
	}
	prog.selection = newSelection(cfg.Dir, patterns, prog.selected)
	for _, o := range prog.others {
		mergeModules(prog.mods, o.mods)
		for path := range o.selected {
			prog.selected[path] = true
		}
	}
	for _, o := range prog.others {
		o.unchecked, o.mods = prog.unchecked, prog.mods
	}
	return prog, nil
}

func absDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	return abs
}

// goFilesByDir returns the names of the .go files under root, by
// directory, as the go command sees a module: without testdata, vendor,
// directories starting with . or _, and nested modules.
func goFilesByDir(ctx context.Context, root string) map[string][]string {
	out := map[string][]string{}
	if root == "" {
		return out
	}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || ctx.Err() != nil {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_") {
			out[filepath.Dir(path)] = append(out[filepath.Dir(path)], path)
		}
		return nil
	})
	return out
}

// outsideFiles returns the files of the main module that the program's
// configuration leaves out and that may refer to a legacy name or to a
// package loaded from source.
func (p *Program) outsideFiles(cfg *LoadConfig, allDirs map[string][]string) []*uncheckedFile {
	candidates := map[string]string{} // file → its package path
	for name, path := range p.ignored {
		candidates[name] = path
	}
	root := gosrc.ModuleRoot(absDir(cfg.Dir))
	for dir, names := range allDirs {
		if _, listed := p.dirs[dir]; listed {
			continue
		}
		path := ""
		if rel, err := filepath.Rel(root, dir); err == nil && p.Module != "" {
			path = p.Module + strings.TrimSuffix("/"+filepath.ToSlash(rel), "/.")
		}
		for _, name := range names {
			candidates[name] = path
		}
	}
	legacy := map[string]bool{}
	for _, l := range cfg.LegacyPaths {
		legacy[l] = true
	}
	if len(cfg.LegacyPaths) == 0 {
		legacy[BridgePath] = true
	}
	var out []*uncheckedFile
	for _, name := range slices.Sorted(maps.Keys(candidates)) {
		if cfg.NoTests && strings.HasSuffix(name, "_test.go") {
			continue
		}
		if u := p.relevant(name, candidates[name], legacy); u != nil {
			u.why = "which no checked build configuration includes"
			if ignoreOnly(u.src) {
				u.why = "which is built only with the ignore tag (go run " + filepath.Base(name) + ")"
			}
			out = append(out, u)
		}
	}
	return out
}

// relevant reads the file name of package path and returns it when it may
// refer to a legacy name or to a package loaded from source, or nil.
func (p *Program) relevant(name, path string, legacy map[string]bool) *uncheckedFile {
	src, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	imports, _ := fileImports(src)
	u := &uncheckedFile{name: name, pkgPath: path, src: src, imports: imports}
	if path != "" && p.source[path] {
		return u
	}
	for _, imp := range imports {
		if legacy[imp] || p.source[imp] {
			return u
		}
	}
	return nil
}

// testFiles returns the _test.go files of the main module that may refer
// to a package loaded from source, when the tests are not loaded.
func (p *Program) testFiles(allDirs map[string][]string) []*uncheckedFile {
	if len(p.source) == 0 {
		return nil
	}
	var out []*uncheckedFile
	for _, dir := range slices.Sorted(maps.Keys(p.dirs)) {
		for _, name := range allDirs[dir] {
			if !strings.HasSuffix(name, "_test.go") {
				continue
			}
			if u := p.relevant(name, p.dirs[dir], nil); u != nil {
				u.why, u.test = "which -test=false leaves unchecked", true
				out = append(out, u)
			}
		}
	}
	return out
}

// configsFor returns the configurations, other than first, that include
// the files: one per GOOS and GOARCH, with the union of the tags its files
// need when that union still includes each of them.
func configsFor(files []*uncheckedFile, first BuildConfig) []BuildConfig {
	def := resolved(first)
	type group struct {
		c     BuildConfig
		files []*uncheckedFile
	}
	var groups []*group
	for _, u := range files {
		c, ok := satisfy(u, def)
		if !ok {
			continue
		}
		if sameConfig(c, def) {
			continue // the first configuration has it, or it is a test left out
		}
		placed := false
		for _, g := range groups {
			if g.c.GOOS != c.GOOS || g.c.GOARCH != c.GOARCH {
				continue
			}
			union := BuildConfig{GOOS: c.GOOS, GOARCH: c.GOARCH, Tags: unionTags(g.c.Tags, c.Tags)}
			fits := includes(union, u)
			for _, o := range g.files {
				fits = fits && includes(union, o)
			}
			if fits {
				g.c, g.files, placed = union, append(g.files, u), true
				break
			}
		}
		if !placed {
			groups = append(groups, &group{c: c, files: []*uncheckedFile{u}})
		}
	}
	var out []BuildConfig
	for _, g := range groups {
		c := g.c
		if c.GOOS == def.GOOS {
			c.GOOS = ""
		}
		if c.GOARCH == def.GOARCH {
			c.GOARCH = ""
		}
		out = append(out, c)
	}
	return out
}

func sameConfig(a, b BuildConfig) bool {
	return a.GOOS == b.GOOS && a.GOARCH == b.GOARCH && slices.Equal(a.Tags, b.Tags)
}

func unionTags(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// resolved fills in the default GOOS and GOARCH of c.
func resolved(c BuildConfig) BuildConfig {
	if c.GOOS == "" {
		c.GOOS = build.Default.GOOS
	}
	if c.GOARCH == "" {
		c.GOARCH = build.Default.GOARCH
	}
	return c
}

// satisfy finds a configuration that includes the file u: the GOOS and
// GOARCH its name or its constraint names (else def's), and the set of the
// tags of its constraint that includes it, the largest first.
func satisfy(u *uncheckedFile, def BuildConfig) (BuildConfig, bool) {
	var atoms []string
	if expr := buildExpr(u.src); expr != nil {
		atoms = tagsOf(expr)
	}
	oses, arches := []string{def.GOOS}, []string{def.GOARCH}
	var custom []string
	for _, part := range strings.Split(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(u.name), ".go"), "_test"), "_")[1:] {
		if knownOS[part] {
			oses = append([]string{part}, oses...)
		}
		if knownArch[part] {
			arches = append([]string{part}, arches...)
		}
	}
	for _, a := range atoms {
		switch {
		case knownOS[a]:
			oses = append(oses, a)
		case knownArch[a]:
			arches = append(arches, a)
		case a == "ignore", a == "gc", a == "gccgo", a == "cgo", a == "unix", strings.HasPrefix(a, "go1."), reservedTag[a]:
			// Never a custom tag: -tags riscv builds the standard
			// library's zgoarch_riscv.go beside the real GOARCH's.
		default:
			custom = append(custom, a)
		}
	}
	slices.Sort(custom)
	custom = slices.Compact(custom)
	if len(custom) > 8 {
		custom = custom[:8]
	}
	try := func(goos, goarch string, mask int) (BuildConfig, bool) {
		c := BuildConfig{GOOS: goos, GOARCH: goarch, Tags: slices.Clone(def.Tags)}
		for i, t := range custom {
			if mask&(1<<i) != 0 {
				c.Tags = append(c.Tags, t)
			}
		}
		c.Tags = unionTags(c.Tags, nil)
		return c, includes(c, u)
	}
	for _, goos := range slices.Compact(oses) {
		for _, goarch := range archesFor(goos, arches) {
			for mask := (1 << len(custom)) - 1; mask >= 0; mask-- {
				if c, ok := try(goos, goarch, mask); ok {
					return c, true
				}
			}
		}
	}
	// A constraint that excludes systems rather than naming one
	// (unix && !linux): the other systems, with all its tags or none.
	for _, goos := range fallbackOS {
		for _, goarch := range archesFor(goos, []string{def.GOARCH, "arm64"})[:min(2, len(ports[goos]))] {
			for _, mask := range []int{(1 << len(custom)) - 1, 0} {
				if c, ok := try(goos, goarch, mask); ok {
					return c, true
				}
			}
		}
	}
	return BuildConfig{}, false
}

// fallbackOS are the systems tried for a file whose constraint names none
// it needs, the common first.
var fallbackOS = []string{"darwin", "windows", "freebsd", "openbsd", "netbsd", "dragonfly", "solaris", "illumos", "aix", "plan9", "js", "wasip1"}

// includes reports whether the go command builds u in c.
func includes(c BuildConfig, u *uncheckedFile) bool {
	ctxt := build.Default
	ctxt.GOOS, ctxt.GOARCH, ctxt.BuildTags = c.GOOS, c.GOARCH, c.Tags
	ctxt.CgoEnabled = c.GOOS == runtime.GOOS && c.GOARCH == runtime.GOARCH && build.Default.CgoEnabled
	ctxt.OpenFile = func(string) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(u.src)), nil }
	ok, err := ctxt.MatchFile(filepath.Dir(u.name), filepath.Base(u.name))
	return ok && err == nil
}

// buildExpr returns the //go:build constraint of a file, or nil; in a
// file without one, its // +build lines, as the go command reads them.
func buildExpr(src []byte) constraint.Expr {
	var plus constraint.Expr
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		line = bytes.TrimSpace(line)
		if bytes.HasPrefix(line, []byte("package ")) {
			break
		}
		if constraint.IsGoBuild(string(line)) {
			expr, err := constraint.Parse(string(line))
			if err != nil {
				return nil
			}
			return expr
		}
		if constraint.IsPlusBuild(string(line)) {
			expr, err := constraint.Parse(string(line))
			if err != nil {
				return nil
			}
			if plus == nil {
				plus = expr
			} else {
				plus = &constraint.AndExpr{X: plus, Y: expr}
			}
		}
	}
	return plus
}

// tagsOf lists the tags a constraint names.
func tagsOf(e constraint.Expr) []string {
	switch e := e.(type) {
	case *constraint.TagExpr:
		return []string{e.Tag}
	case *constraint.NotExpr:
		return tagsOf(e.X)
	case *constraint.AndExpr:
		return append(tagsOf(e.X), tagsOf(e.Y)...)
	case *constraint.OrExpr:
		return append(tagsOf(e.X), tagsOf(e.Y)...)
	}
	return nil
}

// ports are the GOARCH values the go command builds for on each GOOS (go
// tool dist list), the most common first: aix/amd64, for one, is no port,
// and the go command lists no package in it.
var ports = map[string][]string{
	"aix":       {"ppc64"},
	"android":   {"arm64", "amd64", "arm", "386"},
	"darwin":    {"arm64", "amd64"},
	"dragonfly": {"amd64"},
	"freebsd":   {"amd64", "arm64", "386", "arm"},
	"illumos":   {"amd64"},
	"ios":       {"arm64", "amd64"},
	"js":        {"wasm"},
	"linux": {"amd64", "arm64", "386", "arm", "loong64", "mips", "mips64", "mips64le", "mipsle",
		"ppc64", "ppc64le", "riscv64", "s390x"},
	"netbsd":  {"amd64", "arm64", "386", "arm"},
	"openbsd": {"amd64", "arm64", "386", "arm", "ppc64", "riscv64"},
	"plan9":   {"amd64", "386", "arm"},
	"solaris": {"amd64"},
	"wasip1":  {"wasm"},
	"windows": {"amd64", "arm64", "386"},
}

// The GOOS and GOARCH values the go command builds for.
var (
	knownOS   = setOf(slices.Collect(maps.Keys(ports))...)
	knownArch = setOf(slices.Concat(slices.Collect(maps.Values(ports))...)...)
)

// isPort reports whether the go command builds for goos on goarch.
func isPort(goos, goarch string) bool { return slices.Contains(ports[goos], goarch) }

// archesFor returns the GOARCH values of want that goos has, then its
// others.
func archesFor(goos string, want []string) []string {
	var out []string
	for _, a := range want {
		if isPort(goos, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range ports[goos] {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// reservedTag are the other GOOS and GOARCH names the go command knows
// (go/build's lists, internal/syslist): a file's constraint on one holds
// only where it is the GOOS or GOARCH, which no configuration here is.
var reservedTag = setOf("hurd", "nacl", "zos", "amd64p32", "armbe", "arm64be", "mips64p32", "mips64p32le",
	"ppc", "riscv", "s390", "sparc", "sparc64")

func setOf(xs ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// RuleUnchecked counts the files that refer to a legacy package and that
// no checked build configuration includes: they are reported for a human.
const RuleUnchecked = "unchecked"

// uncheckedFindings reports the files that refer to a legacy name and
// that no configuration checks.
func (p *Program) uncheckedFindings(opts *Options) []Finding {
	l, err := p.legacy(opts)
	if err != nil {
		return nil // the rewrite reported it
	}
	var out []Finding
	for _, r := range p.legacyUnchecked(l) {
		base := filepath.Base(r.file.name)
		msg := fmt.Sprintf("%s is not checked (legacy names: %d): no build configuration of this run includes it; "+
			"run again with -goos and -tags naming one that does", base, r.refs)
		switch {
		case ignoreOnly(r.file.src):
			msg = fmt.Sprintf("%s is not checked (legacy names: %d): it is built only with the ignore tag (go run %s); "+
				"migrate it by hand", base, r.refs, base)
		case r.file.cycle != "":
			msg = fmt.Sprintf("%s is not checked (legacy names: %d): %s; migrate it by hand", base, r.refs, r.file.cycle)
		case r.file.unloaded != "":
			msg = fmt.Sprintf("%s is not checked (legacy names: %d): %s; migrate it by hand, or where that configuration builds",
				base, r.refs, r.file.unloaded)
		}
		out = append(out, Finding{
			Pos:     token.Position{Filename: r.file.name, Line: 1, Column: 1},
			Package: r.file.pkgPath,
			Rule:    RuleUnchecked,
			Message: msg,
		})
	}
	return out
}

// uncheckedRefs is an unchecked file and its references to legacy names.
type uncheckedRefs struct {
	file *uncheckedFile
	refs int
}

// legacyUnchecked returns the unchecked files of the selected packages,
// outside the tests, that refer to a legacy package, or call a legacy
// method name in a package loaded from source.
func (p *Program) legacyUnchecked(l *legacy) []uncheckedRefs {
	methods := map[string]bool{}
	for name := range l.methods {
		methods[name] = true
	}
	var out []uncheckedRefs
	for _, u := range p.unchecked {
		if u.test || ignoredRecipe(u.src) || !p.selection.has(u.name, u.pkgPath) {
			continue
		}
		var n int
		if p.source[u.pkgPath] {
			n = u.legacyRefs(p.legacyPaths, methods, p.exportedNames)
		} else {
			n = u.legacyRefs(p.legacyPaths, nil, p.exportedNames)
		}
		if n > 0 {
			out = append(out, uncheckedRefs{u, n})
		}
	}
	return out
}

// exportedNames returns the exported names of the package path, a legacy
// package: from its types, loaded from source or from export data.
func (p *Program) exportedNames(path string) map[string]bool {
	var tp *types.Package
	if pkg := p.byPath[path]; pkg != nil {
		tp = pkg.Types
	} else if p.ext != nil {
		tp = p.ext.pkgs[path]
	}
	out := map[string]bool{}
	if tp == nil {
		return out
	}
	for _, name := range tp.Scope().Names() {
		if token.IsExported(name) {
			out[name] = true
		}
	}
	return out
}

// checkedFiles returns the original content of the files p checks.
func (p *Program) checkedFiles() map[string][]byte {
	out := map[string][]byte{}
	for _, pkg := range p.Packages {
		for _, f := range pkg.Files {
			out[f.Name] = f.Src
		}
	}
	return out
}

// migrateConfigs is [Migrate] over every build configuration of prog. A
// declaration that one configuration retypes and another keeps is kept in
// all, and so is one whose retype edits a file that two configurations
// would then rewrite differently; the round is run again without them. A
// file checked in two configurations gets the same content from both, or
// nothing is written.
func migrateConfigs(ctx context.Context, prog *Program, opts *Options) (*Result, *Program, error) {
	progs := prog.all()
	files := make([]map[string][]byte, len(progs))
	for i, p := range progs {
		files[i] = p.checkedFiles()
	}
	keep := map[string]kept{}
	for round := 0; ; round++ {
		results := make([]*Result, len(progs))
		var first *Program
		for i, p := range progs {
			if round > 0 {
				if err := p.restore(ctx); err != nil {
					return nil, nil, err
				}
			}
			res, next, err := migrateOne(ctx, p, opts, keep)
			if err != nil {
				if i > 0 {
					err = fmt.Errorf("in %s: %w", p.config, err)
				}
				return nil, nil, err
			}
			results[i] = res
			if i == 0 {
				first = next
			}
		}
		added := false
		for _, ri := range results {
			for _, key := range slices.Sorted(maps.Keys(ri.retypedKeys)) {
				for j, rj := range results {
					if k, ok := rj.keptKeys[key]; ok && keep[key].why == "" {
						keep[key] = kept{fmt.Sprintf("%s (in %s)", k.why, progs[j].config), k.related}
						added = true
					}
				}
			}
		}
		m := mergeConfigs(progs, files, results)
		if !added {
			for _, c := range m.conflicts {
				for _, ri := range results {
					for _, key := range slices.Sorted(maps.Keys(ri.retypedKeys)) {
						if ri.retypedKeys[key][c.file] && keep[key].why == "" {
							keep[key] = kept{why: fmt.Sprintf("its retype would make %s differ between %s and %s",
								filepath.Base(c.file), progs[c.a].config, progs[c.b].config)}
							added = true
						}
					}
				}
			}
		}
		if added && round < maxSteps {
			continue
		}
		if len(m.conflicts) > 0 {
			c := m.conflicts[0]
			return nil, nil, fmt.Errorf("codemod: %s would be rewritten one way in %s and another in %s: nothing written\n%s",
				c.file, progs[c.a].config, progs[c.b].config, c.diff)
		}
		m.res.Findings = append(m.res.Findings, prog.uncheckedFindings(opts)...)
		for _, r := range results {
			m.res.exported = addExported(m.res.exported, r.exported)
		}
		m.res.Exported = exportedChanges(m.res.exported)
		sortResult(m.res)
		return m.res, first, nil
	}
}

// merged is the result of every configuration, and the files two of them
// rewrite differently.
type merged struct {
	res       *Result
	conflicts []conflict
}

// conflict is a file that configurations a and b rewrite differently.
type conflict struct {
	file string
	a, b int
	diff []byte
}

// mergeConfigs merges the results of the configurations: each file's
// content, sites and findings come from the first configuration that
// checks it, and every other one must agree on its content.
func mergeConfigs(progs []*Program, files []map[string][]byte, results []*Result) merged {
	out := &Result{Rewritten: map[string]int{}}
	var conflicts []conflict
	owner := map[string]int{}
	for i := range progs {
		for name := range files[i] {
			if _, ok := owner[name]; !ok {
				owner[name] = i
			}
		}
	}
	content := make([]map[string][]byte, len(progs))
	for i, r := range results {
		content[i] = maps.Clone(files[i])
		for _, c := range r.Changes {
			content[i][c.Name] = c.New
		}
	}
	for _, name := range slices.Sorted(maps.Keys(owner)) {
		o := owner[name]
		for i := o + 1; i < len(progs); i++ {
			if got, ok := content[i][name]; ok && !bytes.Equal(got, content[o][name]) {
				conflicts = append(conflicts, conflict{file: name, a: o, b: i, diff: UnifiedDiff(filepath.Base(name), content[o][name], got)})
			}
		}
		if !bytes.Equal(content[o][name], files[o][name]) {
			out.Changes = append(out.Changes, FileChange{Package: results[o].pkgOf(name), Name: name, Old: files[o][name], New: content[o][name]})
		}
		for rule, n := range results[o].sites[name] {
			out.Rewritten[rule] += n
		}
	}
	seen := map[string]bool{}
	for i, r := range results {
		for _, f := range r.Findings {
			if o, ok := owner[f.Pos.Filename]; ok && o != i {
				continue
			}
			k := fmt.Sprintf("%s:%d:%s:%s", f.Pos.Filename, f.Pos.Offset, f.Rule, f.Message)
			if !seen[k] {
				seen[k] = true
				out.Findings = append(out.Findings, f)
			}
		}
	}
	return merged{res: out, conflicts: conflicts}
}

// pkgOf returns the package of a changed file.
func (r *Result) pkgOf(name string) string {
	for _, c := range r.Changes {
		if c.Name == name {
			return c.Package
		}
	}
	return ""
}
