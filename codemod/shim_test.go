package codemod

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var shimUpdate = flag.Bool("update", false, "rewrite the .golden files of testdata/shim")

// shimTestEnv runs the go command offline and outside any workspace.
func shimTestEnv() []string {
	return append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
}

// shimCase is one txtar archive of testdata/shim.
type shimCase struct {
	name     string
	path     string
	ar       *txtar.Archive
	args     []string // the "shim" file: [-allow-partial] OLD NEW
	partial  bool
	old, new string
	golden   map[string][]byte // "dir/file.go" -> want; "findings" -> want
}

func loadShimCases(t *testing.T) []shimCase {
	t.Helper()
	files, err := filepath.Glob("testdata/shim/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	var cases []shimCase
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c := shimCase{name: strings.TrimSuffix(filepath.Base(file), ".txtar"), path: file, ar: ar, golden: map[string][]byte{}}
		for _, f := range ar.Files {
			switch {
			case f.Name == "shim":
				c.args = strings.Fields(string(f.Data))
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
func (c shimCase) extract(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range c.ar.Files {
		if f.Name == "shim" || strings.HasSuffix(f.Name, ".golden") {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// shimFindingsText renders findings with paths relative to dir.
func shimFindingsText(dir string, fs []ShimFinding) []byte {
	var b bytes.Buffer
	for _, f := range fs {
		if rel, err := filepath.Rel(dir, f.Pos.Filename); err == nil {
			f.Pos.Filename = filepath.ToSlash(rel)
		}
		b.WriteString(f.String() + "\n")
	}
	return b.Bytes()
}

// applyShim writes res into the module, as the CLI does.
func applyShim(t *testing.T, res *ShimResult) {
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

// goCmd runs the go command in dir and fails the test on error.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = shimTestEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestShimGolden walks testdata/shim: it shims each module, compares the
// result with the golden files, and for every case that is not refused
// writes the shim and runs go build, go vet and go test on the module.
// A second shim must change nothing.
func TestShimGolden(t *testing.T) {
	for _, c := range loadShimCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := c.extract(t)
			ctx := context.Background()
			res, err := Shim(ctx, ShimConfig{Dir: dir, Old: c.old, New: c.new, Env: shimTestEnv()})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{"findings": shimFindingsText(dir, res.Findings)}
			refused := len(res.Findings) > 0 && !c.partial
			if !refused {
				for _, f := range res.Files {
					rel, _ := filepath.Rel(dir, f.Path)
					got[filepath.ToSlash(rel)] = f.New // nil: removed
				}
			}
			if *shimUpdate {
				c.update(t, got)
				return
			}
			for name, data := range got {
				want, ok := c.golden[name]
				if !ok && !(name == "findings" && len(data) == 0) {
					t.Errorf("%s: the shim changed it but there is no %s.golden", name, name)
					continue
				}
				if !bytes.Equal(data, want) {
					t.Errorf("%s differs from golden:\n%s", name, shimUnifiedDiff("want", "got", want, data))
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
			applyShim(t, res)
			goCmd(t, dir, "build", "./...")
			goCmd(t, dir, "vet", "./...")
			goCmd(t, dir, "test", "./...")

			again, err := Shim(ctx, ShimConfig{Dir: dir, Old: c.old, New: c.new, Env: shimTestEnv()})
			if err != nil {
				t.Fatalf("second shim: %v", err)
			}
			for _, f := range again.Files {
				t.Errorf("second shim changed %s:\n%s", f.Path, shimUnifiedDiff("first", "second", f.Old, f.New))
			}
		})
	}
}

// update rewrites the golden files of c from got.
func (c shimCase) update(t *testing.T, got map[string][]byte) {
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
		if name == "findings" && len(got[name]) == 0 {
			continue
		}
		files = append(files, txtar.File{Name: name + ".golden", Data: got[name]})
	}
	c.ar.Files = files
	if err := os.WriteFile(c.path, txtar.Format(c.ar), 0o644); err != nil {
		t.Fatal(err)
	}
}
