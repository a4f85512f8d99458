package codemod

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/wsunify/wsunify/codemod/recipe"
	"github.com/wsunify/wsunify/internal/testmod"
)

var updateCases = flag.Bool("update-cases", false, "rewrite the golden files of ../testdata/cases")

// goldenCase is one archive of ../testdata/cases (see its README.md).
type goldenCase struct {
	name, path string
	ar         *txtar.Archive
	inputs     map[string][]byte // name → content: the module to migrate
	golden     map[string][]byte // name of a .go file → its content after apply
	findings   []string          // "file:line: rule"
	exported   []string          // "file:line: decl": a service's exported API retyped
	wantErr    string            // a refusal: the error must contain it
	flags      []string
	runTests   bool // go test, before and after apply, must pass
	// vet are the other build configurations go vet must pass in, before
	// and after apply: each is environment settings (GOOS=windows) and
	// go vet flags (-tags enterprise).
	vet [][]string
	// vetFlags are given to every go vet of the case: an analyzer the
	// input itself fails (-buildtag=false).
	vetFlags []string
	recipe   string // -recipe: the recipe file, relative to the module
}

// loadRecipe loads the case's -recipe file, if any, into opts, and makes
// its legacy packages cfg's.
func (c *goldenCase) loadRecipe(ctx context.Context, opts *Options, cfg *LoadConfig) error {
	if c.recipe == "" {
		return nil
	}
	rc, err := recipe.LoadFile(ctx, cfg.Dir, filepath.Join(cfg.Dir, c.recipe))
	if err != nil {
		return err
	}
	opts.Recipe = rc
	cfg.LegacyPaths = append(slices.Clone(rc.Legacy), cfg.LegacyPaths[1:]...) // the shapes' paths stay
	return nil
}

func readCases(t *testing.T) []*goldenCase {
	t.Helper()
	files, err := filepath.Glob("../testdata/cases/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	var cases []*goldenCase
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c := &goldenCase{
			name: strings.TrimSuffix(filepath.Base(file), ".txtar"), path: file, ar: ar,
			inputs: map[string][]byte{}, golden: map[string][]byte{},
		}
		if len(bytes.TrimSpace(ar.Comment)) == 0 {
			t.Errorf("%s: a case opens with prose saying what it tests", file)
		}
		for _, f := range ar.Files {
			switch {
			case f.Name == "findings":
				for _, l := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
					if l = strings.TrimSpace(l); l != "" {
						c.findings = append(c.findings, l)
					}
				}
			case f.Name == "exported":
				for _, l := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
					if l = strings.TrimSpace(l); l != "" {
						c.exported = append(c.exported, l)
					}
				}
			case f.Name == "error":
				c.wantErr = strings.TrimSpace(string(f.Data))
			case f.Name == "flags":
				c.flags = strings.Fields(string(f.Data))
			case f.Name == "test":
				c.runTests = true
			case f.Name == "vetflags":
				c.vetFlags = strings.Fields(string(f.Data))
			case f.Name == "vet":
				for _, l := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
					if fs := strings.Fields(l); len(fs) > 0 {
						c.vet = append(c.vet, fs)
					}
				}
			case strings.HasSuffix(f.Name, ".golden"):
				c.golden[strings.TrimSuffix(f.Name, ".golden")] = f.Data
			default:
				c.inputs[f.Name] = f.Data
			}
		}
		cases = append(cases, c)
	}
	return cases
}

// writeModule writes the inputs of c into dir, with the replace directive
// pointing at this checkout and the checkout's go.sum, and tidies it.
func (c *goldenCase) writeModule(t *testing.T, dir string) {
	t.Helper()
	testmod.Module(t, dir, c.inputs)
}

// vetIn runs go vet ./... in dir in each build configuration of c.
func (c *goldenCase) vetIn(t testing.TB, dir string) {
	t.Helper()
	for _, words := range c.vet {
		var env, flags []string
		for _, w := range words {
			if strings.Contains(w, "=") && !strings.HasPrefix(w, "-") {
				env = append(env, w)
			} else {
				flags = append(flags, w)
			}
		}
		testmod.GoEnv(t, dir, env, append(append(append([]string{"vet"}, c.vetFlags...), flags...), "./...")...)
	}
}

// options parses the flags section: -rule IDs, -shape S=T, then patterns.
func (c *goldenCase) options(t *testing.T) (*Options, *LoadConfig, []string) {
	t.Helper()
	opts := &Options{Shapes: map[Shape][]string{}}
	cfg := &LoadConfig{LegacyPaths: []string{BridgePath}}
	var patterns []string
	for i := 0; i < len(c.flags); i++ {
		switch c.flags[i] {
		case "-rule":
			i++
			rs, err := ParseRuleSet(c.flags[i])
			if err != nil {
				t.Fatal(err)
			}
			opts.Rules = rs
		case "-shape":
			i++
			s, typ, err := ParseShape(c.flags[i])
			if err != nil {
				t.Fatal(err)
			}
			opts.Shapes[s] = append(opts.Shapes[s], typ)
			path, _ := splitQualified(typ)
			cfg.LegacyPaths = append(cfg.LegacyPaths, path)
		case "-recipe":
			i++
			c.recipe = c.flags[i]
		case "-test=false":
			cfg.NoTests = true
		case "-generated":
			opts.Generated = true
		case "-api=auto", "-api=keep", "-api=change":
			api, err := ParseAPI(strings.TrimPrefix(c.flags[i], "-api="))
			if err != nil {
				t.Fatal(err)
			}
			opts.API = api
		default:
			patterns = append(patterns, c.flags[i])
		}
	}
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	return opts, cfg, patterns
}

// TestCases walks ../testdata/cases: each archive is a module to migrate
// with the golden result of apply, the findings left, or the refusal.
// Every golden output must build and vet (which compiles the tests), and a
// second apply must change nothing.
func TestCases(t *testing.T) {
	for _, c := range readCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			c.writeModule(t, dir)
			opts, cfg, patterns := c.options(t)
			cfg.Dir = dir
			if c.runTests {
				testmod.Go(t, dir, "test", "./...") // the tests hold the legacy code's behaviour
			}
			c.vetIn(t, dir)

			err := c.loadRecipe(ctx, opts, cfg)
			var res *Result
			if err == nil {
				res, err = migrate(ctx, cfg, opts, patterns)
			}
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("want an error containing %q, got %v", c.wantErr, err)
				}
				for name, data := range c.inputs {
					if got, _ := os.ReadFile(filepath.Join(dir, name)); name != "go.mod" && !bytes.Equal(got, data) {
						t.Errorf("%s was written on refusal", name)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}

			got := map[string][]byte{}
			for _, ch := range res.Changes {
				got[relName(dir, ch.Name)] = ch.New
				if fmted, err := format.Source(ch.New); err != nil || !bytes.Equal(fmted, ch.New) {
					t.Errorf("%s is not gofmt-formatted (%v):\n%s", ch.Name, err, UnifiedDiff(ch.Name, ch.New, fmted))
				}
			}
			var findings []string
			for _, f := range res.Findings {
				rel, _ := filepath.Rel(dir, f.Pos.Filename)
				findings = append(findings, fmt.Sprintf("%s:%d: %s", filepath.ToSlash(rel), f.Pos.Line, f.Rule))
				for _, r := range f.Related {
					if r.Pos == f.Pos {
						t.Errorf("%s: a related place is the finding's own (%q): it says nothing more", f, r.Message)
					}
				}
			}
			var exported []string
			for _, e := range res.Exported {
				rel, _ := filepath.Rel(dir, e.Pos.File)
				exported = append(exported, fmt.Sprintf("%s:%d: %s", filepath.ToSlash(rel), e.Pos.Line, e.Decl))
			}
			if *updateCases {
				c.update(t, got, findings, exported)
				return
			}
			for name, data := range c.inputs {
				if !strings.HasSuffix(name, ".go") {
					continue
				}
				want, ok := c.golden[name]
				if !ok {
					want = data // no golden: the file must not change
				}
				out, changed := got[name]
				if !changed {
					out = data
				}
				if !bytes.Equal(out, want) {
					t.Errorf("%s:\n%s", name, UnifiedDiff(name, want, out))
				}
			}
			if !slices.Equal(findings, c.findings) {
				t.Errorf("findings:\n got %q\nwant %q", findings, c.findings)
			}
			if !slices.Equal(exported, c.exported) {
				t.Errorf("exported API retyped:\n got %q\nwant %q", exported, c.exported)
			}

			// The result builds and a second apply changes nothing.
			for _, ch := range res.Changes {
				if err := os.WriteFile(ch.Name, ch.New, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			testmod.Go(t, dir, append(append([]string{"vet"}, c.vetFlags...), "./...")...)
			c.vetIn(t, dir) // and in every other build configuration
			if c.runTests {
				testmod.Go(t, dir, "test", "./...") // and the migrated code keeps it
			}
			again, err := migrate(ctx, cfg, opts, patterns)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range again.Changes {
				t.Errorf("second apply changed %s:\n%s", ch.Name, UnifiedDiff(ch.Name, ch.Old, ch.New))
			}
			if countPatterns(c.flags) == 0 && c.recipe == "" { // ./...: each package alone too (a recipe needs its module's packages loaded)
				for _, dir := range c.packageDirs() {
					t.Run("only-"+strings.ReplaceAll(dir, "/", "-"), func(t *testing.T) { c.applyOnly(t, dir) })
				}
			}
		})
	}
}

// countPatterns is how many of flags are package patterns.
func countPatterns(flags []string) int {
	n := 0
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case "-rule", "-shape", "-recipe":
			i++
		case "-test=false", "-generated", "-api=auto", "-api=keep", "-api=change":
		default:
			n++
		}
	}
	return n
}

// packageDirs are the directories of the case's Go packages, when it has
// several.
func (c *goldenCase) packageDirs() []string {
	seen := map[string]bool{}
	for name := range c.inputs {
		if strings.HasSuffix(name, ".go") {
			seen[filepath.ToSlash(filepath.Dir(name))] = true
		}
	}
	if len(seen) < 2 {
		return nil
	}
	return slices.Sorted(maps.Keys(seen))
}

// applyOnly applies the case to the package in dir alone, on a fresh
// copy of its module: a step on some packages must leave the others
// building (callers outside the selection keep their declarations
// unchanged, see MIGRATION.md), and a second apply changes nothing.
func (c *goldenCase) applyOnly(t *testing.T, pkgDir string) {
	ctx := context.Background()
	dir := t.TempDir()
	c.writeModule(t, dir)
	opts, cfg, _ := c.options(t)
	cfg.Dir = dir
	patterns := []string{"./" + pkgDir}
	if err := c.loadRecipe(ctx, opts, cfg); err != nil {
		t.Fatal(err)
	}
	res, err := migrate(ctx, cfg, opts, patterns)
	if err != nil && strings.Contains(err.Error(), "build constraints exclude all Go files") {
		return // no package there in the default configuration: nothing to apply alone
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range res.Changes {
		if rel := relName(dir, ch.Name); filepath.ToSlash(filepath.Dir(rel)) != pkgDir {
			t.Errorf("apply on ./%s changed %s, outside it", pkgDir, rel)
		}
		if err := os.WriteFile(ch.Name, ch.New, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testmod.Go(t, dir, append(append([]string{"vet"}, c.vetFlags...), "./...")...)
	c.vetIn(t, dir)
	if c.runTests {
		testmod.Go(t, dir, "test", "./...")
	}
	again, err := migrate(ctx, cfg, opts, patterns)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range again.Changes {
		t.Errorf("second apply on ./%s changed %s:\n%s", pkgDir, ch.Name, UnifiedDiff(ch.Name, ch.Old, ch.New))
	}
}

func relName(dir, name string) string {
	rel, _ := filepath.Rel(dir, name)
	return filepath.ToSlash(rel)
}

func migrate(ctx context.Context, cfg *LoadConfig, opts *Options, patterns []string) (*Result, error) {
	prog, err := Load(ctx, cfg, patterns...)
	if err != nil {
		return nil, err
	}
	if err := prog.Err(); err != nil {
		return nil, errors.Join(ErrNotCompiling, err)
	}
	res, _, err := Migrate(ctx, prog, opts)
	return res, err
}

// update rewrites the golden files, the findings and the exported API
// retyped of c.
func (c *goldenCase) update(t *testing.T, got map[string][]byte, findings, exported []string) {
	t.Helper()
	var files []txtar.File
	for _, f := range c.ar.Files {
		if strings.HasSuffix(f.Name, ".golden") || f.Name == "findings" || f.Name == "exported" {
			continue
		}
		files = append(files, f)
		if out, ok := got[f.Name]; ok {
			files = append(files, txtar.File{Name: f.Name + ".golden", Data: out})
		}
	}
	if len(findings) > 0 {
		files = append(files, txtar.File{Name: "findings", Data: []byte(strings.Join(findings, "\n") + "\n")})
	}
	if len(exported) > 0 {
		files = append(files, txtar.File{Name: "exported", Data: []byte(strings.Join(exported, "\n") + "\n")})
	}
	c.ar.Files = files
	if err := os.WriteFile(c.path, txtar.Format(c.ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// migrateCase applies the case name to a fresh copy of its module and
// returns the result and the module's directory.
func migrateCase(t *testing.T, name string) (*Result, string) {
	t.Helper()
	var c *goldenCase
	for _, x := range readCases(t) {
		if x.name == name {
			c = x
		}
	}
	if c == nil {
		t.Fatalf("no case %s", name)
	}
	dir := t.TempDir()
	c.writeModule(t, dir)
	opts, cfg, patterns := c.options(t)
	cfg.Dir = dir
	res, err := migrate(context.Background(), cfg, opts, patterns)
	if err != nil {
		t.Fatal(err)
	}
	return res, dir
}
