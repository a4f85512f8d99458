package shim

import (
	"bytes"
	"context"
	"flag"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/analysis/passes/inline"
	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/txtar"

	"github.com/wsunify/wsunify/codemod"
	"github.com/wsunify/wsunify/internal/testfs"
	"github.com/wsunify/wsunify/internal/testmod"
)

var updateFlag = flag.Bool("update", false, "rewrite the .golden files of testdata")

// testCase is one txtar archive of testdata.
type testCase struct {
	name     string
	path     string
	ar       *txtar.Archive
	args     []string // the "shim" file: [-allow-partial] OLD NEW
	partial  bool
	old, new string
	tags     []string          // more tag sets to build with, from the "buildtags" file
	gocmds   [][]string        // go commands to run after the shim, from the "gocmds" file
	golden   map[string][]byte // "dir/file.go" -> want; "findings" -> want
}

// loadCases reads every archive of testdata.
func loadCases(t testing.TB) []testCase {
	t.Helper()
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	var cases []testCase
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c := testCase{name: strings.TrimSuffix(filepath.Base(file), ".txtar"), path: file, ar: ar, golden: map[string][]byte{}}
		for _, f := range ar.Files {
			switch {
			case f.Name == "shim":
				c.args = strings.Fields(string(f.Data))
			case f.Name == "buildtags":
				c.tags = strings.Fields(string(f.Data))
			case f.Name == "gocmds":
				for _, line := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
					c.gocmds = append(c.gocmds, strings.Fields(line))
				}
			case strings.HasSuffix(f.Name, ".golden"):
				c.golden[strings.TrimSuffix(f.Name, ".golden")] = f.Data
			}
		}
		if len(c.args) > 0 && c.args[0] == "-allow-partial" {
			c.partial, c.args = true, c.args[1:]
		}
		if len(c.args) != 2 {
			t.Fatalf("%s: the shim file must say [-allow-partial] OLD NEW, got %q", file, c.args)
		}
		c.old, c.new = c.args[0], c.args[1]
		cases = append(cases, c)
	}
	return cases
}

// extract writes the module of c (everything but "shim" and the golden
// files) into a new temporary directory.
func (c testCase) extract(t testing.TB) string {
	t.Helper()
	files := map[string][]byte{}
	for _, f := range c.ar.Files {
		if f.Name == "shim" || f.Name == "buildtags" || f.Name == "gocmds" || strings.HasSuffix(f.Name, ".golden") {
			continue
		}
		files[f.Name] = f.Data
	}
	dir := t.TempDir()
	testmod.Write(t, dir, files)
	return dir
}

// findingsText renders findings with paths relative to dir.
func findingsText(dir string, fs []Finding) []byte {
	var b bytes.Buffer
	for _, f := range fs {
		if rel, err := filepath.Rel(dir, f.Pos.Filename); err == nil {
			f.Pos.Filename = filepath.ToSlash(rel)
		}
		f.Related = slices.Clone(f.Related)
		for i, r := range f.Related {
			if rel, err := filepath.Rel(dir, r.Pos.Filename); err == nil {
				f.Related[i].Pos.Filename = filepath.ToSlash(rel)
			}
		}
		b.WriteString(f.String() + "\n")
	}
	return b.Bytes()
}

// apply writes res into the module, as the CLI does.
func apply(t *testing.T, res *Result) {
	t.Helper()
	for _, f := range res.Files {
		var err error
		if f.New == nil {
			err = os.Remove(f.Path)
		} else {
			err = os.WriteFile(f.Path, f.New, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestGolden walks testdata: it shims each module, compares the
// result with the golden files, and for every case that is not refused
// writes the shim and runs go build, go vet and go test on the module.
// A second shim must change nothing.
func TestGolden(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := c.extract(t)
			ctx := context.Background()
			before := testfs.ReadTree(t, dir)
			res, err := Compute(ctx, Config{Dir: dir, Old: c.old, New: c.new, Env: testmod.Env()})
			if err != nil {
				// A refusal by error: error.golden holds the message, with
				// paths relative to the module.
				msg := []byte(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "") + "\n")
				if *updateFlag {
					c.update(t, map[string][]byte{"error": msg})
				} else if want, ok := c.golden["error"]; !ok || !bytes.Equal(want, msg) {
					t.Fatalf("Compute: %s\nwant error.golden:\n%s", msg, want)
				}
				if !maps.Equal(before, testfs.ReadTree(t, dir)) {
					t.Fatal("Compute wrote files")
				}
				return
			}
			if want, ok := c.golden["error"]; ok {
				t.Fatalf("Compute succeeded, want error %s", want)
			}
			if !maps.Equal(before, testfs.ReadTree(t, dir)) {
				t.Fatal("Compute wrote files")
			}
			got := map[string][]byte{
				"findings": findingsText(dir, res.Findings),
				"notes":    findingsText(dir, res.Notes),
			}
			refused := len(res.Findings) > 0 && !c.partial
			if !refused {
				for _, f := range res.Files {
					rel, _ := filepath.Rel(dir, f.Path)
					got[filepath.ToSlash(rel)] = f.New // nil: removed
				}
			}
			if *updateFlag {
				c.update(t, got)
				return
			}
			for name, data := range got {
				want, ok := c.golden[name]
				if !ok && !((name == "findings" || name == "notes") && len(data) == 0) {
					t.Errorf("%s: the shim changed it but there is no %s.golden", name, name)
					continue
				}
				if !bytes.Equal(data, want) {
					t.Errorf("%s differs from golden:\n%s", name, codemod.UnifiedDiff(name, want, data))
				}
			}
			for name := range c.golden {
				if _, ok := got[name]; !ok {
					t.Errorf("%s.golden: the shim left %s unchanged", name, name)
				}
			}
			if refused || t.Failed() {
				return
			}
			apply(t, res)
			testmod.Go(t, dir, "build", "./...")
			testmod.Go(t, dir, "vet", "./...")
			testmod.Go(t, dir, "test", "./...")
			for _, tags := range c.tags {
				testmod.Go(t, dir, "build", "-tags", tags, "./...")
			}
			for _, args := range c.gocmds {
				testmod.Go(t, dir, args...)
			}

			again, err := Compute(ctx, Config{Dir: dir, Old: c.old, New: c.new, Env: testmod.Env()})
			if err != nil {
				t.Fatalf("second shim: %v", err)
			}
			for _, f := range again.Files {
				t.Errorf("second shim changed %s:\n%s", f.Path, codemod.UnifiedDiff(f.Path, f.Old, f.New))
			}
		})
	}
}

// update rewrites the golden files of c from got.
func (c testCase) update(t *testing.T, got map[string][]byte) {
	var files []txtar.File
	for _, f := range c.ar.Files {
		if !strings.HasSuffix(f.Name, ".golden") {
			files = append(files, f)
		}
	}
	names := make([]string, 0, len(got))
	for name := range got {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if (name == "findings" || name == "notes") && len(got[name]) == 0 {
			continue
		}
		files = append(files, txtar.File{Name: name + ".golden", Data: got[name]})
	}
	c.ar.Files = files
	if err := os.WriteFile(c.path, txtar.Format(c.ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// inlineCases says, per case, whether inlining after the shim must
// move every importer off the old path (false: the case keeps uses that
// are not inlinable, such as variables and generic functions).
var inlineCases = map[string]bool{"methods": true, "iota": true, "generics": false, "sentinel": false}

// TestThenInline checks the point of //go:fix inline with the inline
// analyzer of x/tools v0.52.0 itself: after the shim it moves importers
// from the old path to the new one. Generic functions carry no directive,
// so their calls must not be reported as inlining failures. (It analyzes
// the standard library from source, so it runs two cases; the go fix test
// below runs them all.)
func TestThenInline(t *testing.T) {
	wantGone := map[string]bool{"methods": true, "generics": false}
	for _, c := range loadCases(t) {
		gone, ok := wantGone[c.name]
		if !ok {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := shimmed(t, c)
			if inlineAll(t, dir) == 0 {
				t.Fatal("the inline analyzer inlined nothing")
			}
			checkInlined(t, dir, c.old, gone, "inlining")
		})
	}
}

// shimmed extracts case c, shims it and returns its directory, which some
// package must still import c.old from, or the case tests nothing.
func shimmed(t *testing.T, c testCase) string {
	t.Helper()
	dir := c.extract(t)
	res, err := Compute(context.Background(), Config{Dir: dir, Old: c.old, New: c.new, Env: testmod.Env()})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, res)
	if len(importersOf(t, dir, c.old)) == 0 {
		t.Fatalf("no package imports %s: the case tests nothing", c.old)
	}
	return dir
}

// checkInlined checks the module in dir after an inliner (by) ran over
// it: nothing imports old if gone, something still does if not, and the
// module builds, vets and passes its tests.
func checkInlined(t *testing.T, dir, old string, gone bool, by string) {
	t.Helper()
	after := importersOf(t, dir, old)
	if gone && len(after) > 0 {
		t.Errorf("after %s, %v still import %s", by, after, old)
	}
	if !gone && len(after) == 0 {
		t.Errorf("after %s nothing imports %s, yet the case keeps uses that cannot be inlined", by, old)
	}
	testmod.Go(t, dir, "build", "./...")
	testmod.Go(t, dir, "vet", "./...")
	testmod.Go(t, dir, "test", "./...")
}

// importersOf lists the non-test files outside the package path itself
// that import path.
func importersOf(t *testing.T, dir, path string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == strconv.Quote(path) {
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// dropUnusedImports formats src without the imports it no longer
// uses, as the go fix driver does once fixes are applied.
func dropUnusedImports(src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "fixed.go", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	for _, imp := range slices.Clone(f.Imports) {
		path, _ := strconv.Unquote(imp.Path.Value)
		if imp.Name == nil && !astutil.UsesImport(f, path) {
			astutil.DeleteImport(fset, f, path)
		}
	}
	var b bytes.Buffer
	if err := format.Node(&b, fset, f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// inlineAll runs the inline analyzer over the module's non-test files and
// applies its fixes, one non-overlapping batch at a time, until none is
// left. It fails the test on any diagnostic that is not an inlining, and
// returns the number of fixes applied.
func inlineAll(t *testing.T, dir string) int {
	t.Helper()
	total := 0
	for range 10 {
		cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: dir, Env: testmod.Env()}
		pkgs, err := packages.Load(cfg, "./...")
		if err != nil {
			t.Fatal(err)
		}
		g, err := checker.Analyze([]*analysis.Analyzer{inline.Analyzer}, pkgs, nil)
		if err != nil {
			t.Fatal(err)
		}
		type span struct {
			start, end int
			text       string
		}
		accepted := map[string][]span{}
		applied := 0
		for act := range g.All() {
			if !act.IsRoot || act.Analyzer != inline.Analyzer {
				continue
			}
			fset := act.Package.Fset
			for _, d := range act.Diagnostics {
				if !strings.HasSuffix(d.Message, "should be inlined") {
					t.Errorf("%s: %s", fset.Position(d.Pos), d.Message)
					continue
				}
			fixes:
				for _, fx := range d.SuggestedFixes {
					var spans []span
					var file string
					for _, e := range fx.TextEdits {
						p, q := fset.Position(e.Pos), fset.Position(e.End)
						if q.Filename == "" {
							q = p
						}
						file = p.Filename
						sp := span{p.Offset, q.Offset, string(e.NewText)}
						for _, a := range accepted[file] {
							if a != sp && sp.start < max(a.end, a.start+1) && a.start < max(sp.end, sp.start+1) {
								continue fixes // overlaps: next round
							}
						}
						spans = append(spans, sp)
					}
					for _, sp := range spans {
						if !slices.Contains(accepted[file], sp) {
							accepted[file] = append(accepted[file], sp)
						}
					}
					applied++
				}
			}
		}
		if applied == 0 {
			return total
		}
		total += applied
		for file, spans := range accepted {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(spans, func(a, b span) int { return b.start - a.start })
			for _, sp := range spans {
				src = append(src[:sp.start:sp.start], append([]byte(sp.text), src[sp.end:]...)...)
			}
			if src, err = dropUnusedImports(src); err != nil {
				t.Fatalf("%s after inlining: %v", file, err)
			}
			if err := os.WriteFile(file, src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatal("inlining did not settle after 10 rounds")
	return total
}

func TestCanImport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to string
		want     bool
	}{
		{"example.com/m/old", "example.com/m/new", true},
		{"example.com/m/old", "example.com/m/internal/x", true},
		{"example.com/m/old", "example.com/m/v2/internal/x", false},
		{"example.com/m/v2/old", "example.com/m/v2/internal", true},
		{"example.com/m/old", "example.com/m/v2/internal", false},
		{"example.com/m", "example.com/m/internal/x/y", true},
		{"example.com/mm", "example.com/m/internal/x", false},
	} {
		if got := canImport(tc.from, tc.to); got != tc.want {
			t.Errorf("canImport(%q, %q) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

// TestThenGoFix runs the real "go fix ./..." after the shim: it must
// report nothing, move importers off the old path where every use is
// inlinable, and leave a module that still builds, vets and passes its
// tests.
func TestThenGoFix(t *testing.T) {
	for _, c := range loadCases(t) {
		gone, ok := inlineCases[c.name]
		if !ok {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := shimmed(t, c)
			if out := testmod.Go(t, dir, "fix", "./..."); len(out) > 0 {
				t.Errorf("go fix reported:\n%s", out)
			}
			checkInlined(t, dir, c.old, gone, "go fix")
		})
	}
}

// BenchmarkCompute measures one Compute of the methods case: loading both
// packages with go/packages (which runs go list), rewriting and verifying.
func BenchmarkCompute(b *testing.B) {
	cases := loadCases(b)
	c := cases[slices.IndexFunc(cases, func(c testCase) bool { return c.name == "methods" })]
	cfg := Config{Dir: c.extract(b), Old: c.old, New: c.new, Env: testmod.Env()}
	for b.Loop() {
		if _, err := Compute(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}
