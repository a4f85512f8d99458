package codemod

import (
	"context"
	"errors"
	"go/types"
	"maps"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/wsunify/wsunify/internal/testmod"
)

// stageGraph is a package graph as the go command lists it, for the stages
// of the loader:
//
//	app       → svc → bridge (legacy)
//	app       → util
//	svc [svc.test] (svc's test variant, with svc_test.go) → bridge
//	svc_test [svc.test] → svc [svc.test]
//	tools     → util           (main module, does not reach bridge)
//	ext.com/x → bridge         (another module)
type stageGraph struct {
	bridge, util, svc, svcTest, svcXTest, app, tools, ext, testMain *packages.Package
	main                                                            *packages.Module
}

func newStageGraph() *stageGraph {
	main := &packages.Module{Path: "example.com/m", Main: true}
	pkg := func(id, path, name string, mod *packages.Module, imps ...*packages.Package) *packages.Package {
		p := &packages.Package{ID: id, PkgPath: path, Name: name, Module: mod, Imports: map[string]*packages.Package{}, GoFiles: []string{"/m/" + name + "/" + name + ".go"}}
		for _, imp := range imps {
			p.Imports[imp.PkgPath] = imp
		}
		return p
	}
	g := &stageGraph{main: main}
	g.bridge = pkg(BridgePath, BridgePath, "bridge", &packages.Module{Path: "github.com/wsunify/wsunify"})
	g.util = pkg("example.com/m/util", "example.com/m/util", "util", main)
	g.svc = pkg("example.com/m/svc", "example.com/m/svc", "svc", main, g.bridge)
	g.svcTest = pkg("example.com/m/svc [example.com/m/svc.test]", "example.com/m/svc", "svc", main, g.bridge)
	g.svcXTest = pkg("example.com/m/svc_test [example.com/m/svc.test]", "example.com/m/svc_test", "svc_test", main, g.svcTest)
	g.app = pkg("example.com/m/app", "example.com/m/app", "app", main, g.svc, g.util)
	g.tools = pkg("example.com/m/tools", "example.com/m/tools", "tools", main, g.util)
	g.ext = pkg("ext.com/x", "ext.com/x", "x", &packages.Module{Path: "ext.com/x"}, g.bridge)
	g.testMain = pkg("example.com/m/svc.test", "example.com/m/svc.test", "main", main, g.svcTest, g.svcXTest)
	return g
}

// loaderOf is a loader after list, selecting the roots.
func (g *stageGraph) loaderOf(roots ...*packages.Package) *loader {
	l := newLoader(context.Background(), &LoadConfig{}, []string{"./..."}, false)
	l.roots, l.module, l.selected = roots, g.main, map[string]bool{}
	for _, r := range roots {
		if !isTestMain(r) {
			l.selected[r.PkgPath] = true
		}
	}
	l.all = []*packages.Package{g.svc, g.svcTest, g.svcXTest, g.app, g.tools, g.ext, g.testMain}
	return l
}

// sourceSet is a loader of roots after findSource.
func (g *stageGraph) sourceSet(roots ...*packages.Package) *loader {
	l := g.loaderOf(roots...)
	l.chooseVariants()
	l.findSource()
	return l
}

// TestLoaderChooseVariants: a package's own test variant stands for it,
// the test main is left out, and every imported package has a variant.
func TestLoaderChooseVariants(t *testing.T) {
	t.Parallel()
	g := newStageGraph()
	l := g.loaderOf(g.svc)
	l.chooseVariants()
	if l.graph["example.com/m/svc"] != g.svcTest {
		t.Errorf("svc is %q, want its test variant", l.graph["example.com/m/svc"].ID)
	}
	if _, ok := l.graph["example.com/m/svc.test"]; ok {
		t.Error("the test main has a variant")
	}
	want := []string{"example.com/m/app", "example.com/m/svc", "example.com/m/svc_test", "example.com/m/tools", "example.com/m/util", "ext.com/x", BridgePath}
	if got := slices.Sorted(maps.Keys(l.graph)); !slices.Equal(got, want) {
		t.Errorf("paths %v, want %v", got, want)
	}
}

// TestLoaderFindSource: with svc selected, the source set is svc (it
// reaches bridge), its external test package, and app, which imports it in
// the main module; not util or tools, which do not reach svc, nor the
// other module's package.
func TestLoaderFindSource(t *testing.T) {
	t.Parallel()
	g := newStageGraph()
	l := g.sourceSet(g.svc)
	want := []string{"example.com/m/app", "example.com/m/svc", "example.com/m/svc_test"}
	if got := slices.Sorted(maps.Keys(l.inSource)); !slices.Equal(got, want) {
		t.Errorf("source set %v, want %v", got, want)
	}
	// Selecting only tools, which does not reach bridge, loads nothing
	// from source.
	if l := g.sourceSet(g.tools); len(l.inSource) != 0 {
		t.Errorf("source set for tools: %v, want none", l.inSource)
	}
}

// TestLoaderSourceOrder: each source package comes after the source
// packages it imports, and the Packages added carry the paths read from
// export data.
func TestLoaderSourceOrder(t *testing.T) {
	t.Parallel()
	g := newStageGraph()
	l := g.sourceSet(g.svc)
	order := l.sourceOrder()
	want := []string{"example.com/m/svc", "example.com/m/svc_test", "example.com/m/app"}
	if !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	prog := l.program()
	external := l.addPackages(prog, order)
	if got := slices.Sorted(maps.Keys(external)); !slices.Equal(got, []string{"example.com/m/util", BridgePath}) {
		t.Errorf("external %v, want bridge and util", got)
	}
	if len(prog.Packages) != 3 || prog.Package("example.com/m/app") == nil || !prog.Package("example.com/m/svc").Selected || prog.Package("example.com/m/app").Selected {
		t.Errorf("packages %v: want svc (selected), svc_test and app", prog.Packages)
	}
	l.setReach(prog, external)
	if !prog.reach[BridgePath] || prog.reach["example.com/m/util"] || !prog.reach[FacadePath] {
		t.Errorf("reach %v: want bridge, not util, and facade (unknown here, so assumed)", prog.reach)
	}
}

// TestDependencyError: in a configuration other than the first, an import
// of the sources that the go command listed nothing for (as in a GOOS and
// GOARCH pair that is no port) leaves the configuration's files unchecked
// instead of failing the run with a type error per import; a package only
// the rewrite may need (facadetest) does not count.
func TestDependencyError(t *testing.T) {
	t.Parallel()
	fmtPkg := types.NewPackage("fmt", "fmt")
	prog := &Program{
		Packages: []*Package{{Path: "example.com/app/ws", imports: map[string]string{"fmt": "fmt", "os": "os"}}},
		ext:      &exportData{pkgs: map[string]*types.Package{"fmt": fmtPkg}, errs: map[string]error{}},
	}
	external := map[string]bool{"fmt": true, "os": true, facadetestPath: true}
	l := &loader{other: true}
	if err := l.dependencyError(prog, external); !errors.Is(err, errDependency) || !strings.Contains(err.Error(), "no export data for os") {
		t.Errorf("dependencyError = %v, want errDependency naming os", err)
	}
	prog.ext.pkgs["os"] = types.NewPackage("os", "os")
	if err := l.dependencyError(prog, external); err != nil {
		t.Errorf("dependencyError = %v, want nil: the sources do not import %s", err, facadetestPath)
	}
	delete(prog.ext.pkgs, "os")
	if err := (&loader{}).dependencyError(prog, external); err != nil {
		t.Errorf("first configuration: dependencyError = %v, want nil (its type errors are the user's)", err)
	}
}

// TestErrOncePerError: a type error in a file every configuration builds
// is said once, not again for each other configuration that has it; an
// error only another configuration has is said with its name.
func TestErrOncePerError(t *testing.T) {
	dir := testmod.New(t, map[string]string{
		"go.mod":         testmod.GoMod("example.com/m"),
		"p/p.go":         "package p\n\nimport \"github.com/wsunify/wsunify/bridge\"\n\nvar M bridge.Message\n\nvar X int = \"all\"\n",
		"p/p_windows.go": "package p\n\nvar W int = \"windows\"\n",
	})
	prog, err := Load(context.Background(), &LoadConfig{Dir: dir, Env: testmod.Env(), Configs: []BuildConfig{{}, {GOOS: "windows"}}}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	got := prog.Err()
	if got == nil {
		t.Fatal("no error")
	}
	s := got.Error()
	if n := strings.Count(s, `"all"`); n != 1 {
		t.Errorf("the error every configuration has is said %d times, want once:\n%s", n, s)
	}
	var windows []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, `"windows"`) {
			windows = append(windows, line)
		}
	}
	if len(windows) != 1 || !strings.HasPrefix(windows[0], "in GOOS=windows: ") {
		t.Errorf("the error of GOOS=windows alone is said as %q, want once, after its configuration:\n%s", windows, s)
	}
}
