package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/wsunify/wsunify/internal/testfs"
	"github.com/wsunify/wsunify/internal/testmod"
)

// shimModule is a module in which old moved to new. With refuse set, old
// also has a function that new lacks.
func shimModule(t *testing.T, refuse bool) string {
	t.Helper()
	ar := txtar.Parse([]byte(`
-- go.mod --
module example.com/m

go 1.24
-- old/old.go --
// Package old greets.
package old

import "errors"

// ErrEmpty is returned for an empty name.
var ErrEmpty = errors.New("empty name")

// Greet greets name.
func Greet(name string) (string, error) {
	if name == "" {
		return "", ErrEmpty
	}
	return "hello, " + name, nil
}
-- new/new.go --
// Package new greets.
package new

import "errors"

// ErrEmpty is returned for an empty name.
var ErrEmpty = errors.New("empty name")

// Greet greets name.
func Greet(name string) (string, error) {
	if name == "" {
		return "", ErrEmpty
	}
	return "hello, " + name, nil
}
-- app/app_test.go --
package app

import (
	"errors"
	"testing"

	"example.com/m/new"
	"example.com/m/old"
)

func TestGreet(t *testing.T) {
	if _, err := old.Greet(""); !errors.Is(err, new.ErrEmpty) {
		t.Fatal(err)
	}
}
`))
	if refuse {
		ar.Files = append(ar.Files, txtar.File{Name: "old/extra.go", Data: []byte("package old\n\n// Extra is only here.\nfunc Extra() {}\n")})
	}
	return writeArchive(t, ar)
}

// writeArchive writes the files of ar into a new directory and runs the
// go command of the test offline there.
func writeArchive(t *testing.T, ar *txtar.Archive) string {
	t.Helper()
	files := map[string][]byte{}
	for _, f := range ar.Files {
		files[f.Name] = f.Data
	}
	dir := t.TempDir()
	testmod.Write(t, dir, files)
	testmod.Setenv(t)
	return dir
}

// callShim runs `wsunify shim args...` in-process, through the same
// dispatcher a user reaches, and returns what it wrote.
func callShim(args ...string) (code int, stdout, stderr string) {
	return wsunify(append([]string{"shim"}, args...)...)
}

func TestRunShimUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"example.com/m/old"},
		{"-nope", "a", "b"},
		{"a", "b", "c"},
	} {
		code, _, stderr := callShim(args...)
		if code != 2 || !strings.Contains(stderr, "usage: wsunify shim") && !strings.Contains(stderr, "flag provided but not defined") {
			t.Errorf("runShim(%q) = %d, stderr %q; want 2 and usage", args, code, stderr)
		}
	}
}

func TestRunShimDiffWritesNothing(t *testing.T) {
	dir := shimModule(t, false)
	before := testfs.ReadTree(t, dir)
	code, stdout, stderr := callShim("-diff", "-C", dir, "example.com/m/old", "example.com/m/new")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"--- a/old/old.go\n", "+++ b/old/old.go\n", "+// Deprecated: use example.com/m/new.Greet.\n", "+\treturn new.Greet(name)\n", "-import \"errors\"\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("diff lacks %q:\n%s", want, stdout)
		}
	}
	if !maps.Equal(before, testfs.ReadTree(t, dir)) {
		t.Error("-diff changed files")
	}
	// Directories relative to -C name the same packages.
	code, rel, stderr := callShim("-diff", "-C", dir, "./old", "./new")
	if code != 0 || rel != stdout {
		t.Errorf("-diff ./old ./new: exit %d, stderr %s, diff:\n%s\nwant:\n%s", code, stderr, rel, stdout)
	}
}

func TestRunShimWrites(t *testing.T) {
	dir := shimModule(t, false)
	code, stdout, stderr := callShim("-C", dir, "example.com/m/old", "example.com/m/new")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "wrote old/old.go\n2 names of example.com/m/old forward to example.com/m/new; 1 files changed\n") {
		t.Errorf("the outcome on stdout: %q", stdout)
	}
	got, err := os.ReadFile(filepath.Join(dir, "old", "old.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"var ErrEmpty = new.ErrEmpty\n", "//go:fix inline\nfunc Greet(name string) (string, error) {\n\treturn new.Greet(name)\n}\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("old.go lacks %q:\n%s", want, got)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "old", ".*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	testmod.Go(t, dir, "test", "./...")
	// Shimming again changes nothing.
	code, stdout, stderr = callShim("-diff", "-C", dir, "example.com/m/old", "example.com/m/new")
	if code != 0 || stdout != "" {
		t.Errorf("second shim: exit %d, diff %q, stderr %s", code, stdout, stderr)
	}
}

func TestRunShimRefuses(t *testing.T) {
	dir := shimModule(t, true)
	before := testfs.ReadTree(t, dir)
	for _, flags := range [][]string{nil, {"-diff"}} {
		args := append(flags, "-C", dir, "example.com/m/old", "example.com/m/new")
		code, stdout, stderr := callShim(args...)
		if code != 1 || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q; want 1 and no output", flags, code, stdout)
		}
		want := filepath.Join("old", "extra.go") + ":4:6: Extra: not declared in example.com/m/new\n"
		if !strings.Contains(stderr, want) || !strings.Contains(stderr, "refused") {
			t.Errorf("%q: stderr %q lacks %q", flags, stderr, want)
		}
		if !maps.Equal(before, testfs.ReadTree(t, dir)) {
			t.Fatalf("%q: a refused shim changed files", flags)
		}
	}
	// -allow-partial keeps Extra and writes the rest.
	code, _, stderr := callShim("-allow-partial", "-C", dir, "example.com/m/old", "example.com/m/new")
	if code != 0 {
		t.Fatalf("-allow-partial: exit %d: %s", code, stderr)
	}
	after := testfs.ReadTree(t, dir)
	extra := filepath.Join(dir, "old", "extra.go")
	if after[extra] != before[extra] {
		t.Errorf("-allow-partial changed extra.go:\n%s", after[extra])
	}
	if old := filepath.Join(dir, "old", "old.go"); after[old] == before[old] {
		t.Error("-allow-partial did not shim old.go")
	}
}

func TestRunShimLoadError(t *testing.T) {
	dir := shimModule(t, false)
	bad := filepath.Join(dir, "new", "broken.go")
	if err := os.WriteFile(bad, []byte("package new\n\nvar X int = \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := testfs.ReadTree(t, dir)
	code, _, stderr := callShim("-C", dir, "example.com/m/old", "example.com/m/new")
	if code != 1 || !strings.Contains(stderr, "does not type-check") {
		t.Errorf("exit %d, stderr %q; want 1 and a type error", code, stderr)
	}
	if !maps.Equal(before, testfs.ReadTree(t, dir)) {
		t.Error("a failed shim changed files")
	}
}

func TestRunDispatchesShim(t *testing.T) {
	dir := shimModule(t, true)
	code, _, stderr := wsunify("shim", "-C", dir, "example.com/m/old", "example.com/m/new")
	if code != 1 || !strings.Contains(stderr, "Extra: not declared") {
		t.Errorf("run shim: exit %d, stderr %q", code, stderr)
	}
}

// TestRunShimAfterGitMv: after "git mv old new" the old package is gone;
// the shim says to copy it instead, not that no module provides it, and
// writes nothing.
func TestRunShimAfterGitMv(t *testing.T) {
	dir := shimModule(t, false)
	if err := os.RemoveAll(filepath.Join(dir, "new")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "old"), filepath.Join(dir, "new")); err != nil {
		t.Fatal(err)
	}
	before := testfs.ReadTree(t, dir)
	for _, args := range [][]string{
		{"-C", dir, "example.com/m/old", "example.com/m/new"},
		{"-C", dir, "./old", "./new"},
		{"-diff", "-C", dir, "./old", "./new"},
	} {
		code, stdout, stderr := callShim(args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "the old package must still exist: copy it, run shim, then delete") ||
			strings.Contains(stderr, "no required module") {
			t.Errorf("shim %q = %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	if !maps.Equal(before, testfs.ReadTree(t, dir)) {
		t.Error("a failed shim changed files")
	}
}

// TestRunShimNestedModule: a new directory that holds a go.mod of its
// own (copied with the package, as when gorilla/websocket's files were
// copied to ./v2) is another module; the shim says what the go command
// said of it, not only that it "does not name one package", and writes
// nothing.
func TestRunShimNestedModule(t *testing.T) {
	dir := shimModule(t, false)
	if err := os.WriteFile(filepath.Join(dir, "new", "go.mod"), []byte("module example.com/m/new\n\ngo 1.24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := testfs.ReadTree(t, dir)
	code, stdout, stderr := callShim("-C", dir, "./old", "./new")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "./new") || !strings.Contains(stderr, "main module") {
		t.Errorf("shim ./old ./new = %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if !maps.Equal(before, testfs.ReadTree(t, dir)) {
		t.Error("a failed shim changed files")
	}
}

// TestRunShimRefusesWrittenVariable: a variable that an importer assigns
// through the old path would be a copy after the shim; the shim refuses,
// naming the variable and the assignment, and writes nothing; with
// -allow-partial it keeps the variable as it is and forwards the rest.
func TestRunShimRefusesWrittenVariable(t *testing.T) {
	decl := `

// Hook is called by Fire.
var Hook = func(string) {}

// Fire calls Hook.
func Fire(s string) { Hook(s) }
`
	ar := txtar.Parse([]byte(`
-- go.mod --
module example.com/m

go 1.24
-- old/old.go --
// Package old fires hooks.
package old` + decl + `
-- new/new.go --
// Package new fires hooks.
package new` + decl + `
-- app/app.go --
// Package app installs its hook through the old path.
package app

import "example.com/m/old"

// Install sets the hook.
func Install(f func(string)) { old.Hook = f }
`))
	dir := writeArchive(t, ar)
	before := testfs.ReadTree(t, dir)
	for _, flags := range [][]string{nil, {"-diff"}} {
		code, stdout, stderr := callShim(append(flags, "-C", dir, "example.com/m/old", "example.com/m/new")...)
		for _, want := range []string{
			"old/old.go:5:5: Hook: written through the old path (below): forwarded, it would be a copy of example.com/m/new.Hook made at initialization",
			"\tapp/app.go:7:32: assigned here\n",
			"wsunify shim: refused: 1 declarations of example.com/m/old cannot be forwarded; nothing written",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%q: stderr lacks %q:\n%s", flags, want, stderr)
			}
		}
		if code != 1 || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q; want 1 and nothing", flags, code, stdout)
		}
		if !maps.Equal(before, testfs.ReadTree(t, dir)) {
			t.Fatalf("%q: a refused shim changed files", flags)
		}
	}
	code, _, stderr := callShim("-allow-partial", "-C", dir, "example.com/m/old", "example.com/m/new")
	if code != 0 {
		t.Fatalf("-allow-partial: exit %d: %s", code, stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "old", "old.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"var Hook = func(string) {}\n", "func Fire(s string) {\n\tnew.Fire(s)\n}\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("-allow-partial wrote old.go without %q:\n%s", want, got)
		}
	}
}
