// Package testmod writes the Go modules that tests of several packages run
// the toolkit on: a module that requires this repository through a replace
// directive pointing at the checkout, with the checkout's go.sum, tidied by
// the go command run offline and outside any workspace.
package testmod

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// ModulePath is the module path of this repository.
const ModulePath = "github.com/wsunify/wsunify"

// RepoVar stands for the checkout's directory in a go.mod or go.work
// file given to [Write] or [Module].
const RepoVar = "$REPO"

// offline are the settings under which a test runs the go command: no
// network, no workspace of the caller, no toolchain switch, and go.mod may
// be updated.
var offline = []string{"GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local"}

// Root returns the directory of this checkout: $WSUNIFY_CASES_REPO if set
// (to test against a snapshot of the checkout while the working tree is
// mid-change), else the nearest directory above the working directory whose
// go.mod declares [ModulePath].
func Root(tb testing.TB) string {
	tb.Helper()
	if r := os.Getenv("WSUNIFY_CASES_REPO"); r != "" {
		return r
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modfile.ModulePath(b) == ModulePath {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("testmod: no go.mod of %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

// GoMod is the go.mod of a module named path that requires this repository,
// replaced by [RepoVar].
func GoMod(path string) string {
	return fmt.Sprintf("module %s\n\ngo 1.26\n\nrequire %s v0.0.0\n\nreplace %s => %s\n", path, ModulePath, ModulePath, RepoVar)
}

// Env returns the environment of this process with the offline settings
// of the go command, then extra (which overrides them).
func Env(extra ...string) []string {
	return append(append(os.Environ(), offline...), extra...)
}

// Setenv sets the offline settings in the test's environment, for the go
// command that code under test runs in-process (go/packages). The test
// cannot run in parallel.
func Setenv(tb testing.TB) {
	tb.Helper()
	for _, kv := range offline {
		k, v, _ := strings.Cut(kv, "=")
		tb.Setenv(k, v)
	}
}

// Write writes files (a slash-separated name below dir → content) into
// dir, with [RepoVar] in a go.mod or go.work file replaced by [Root].
func Write[T string | []byte](tb testing.TB, dir string, files map[string]T) {
	tb.Helper()
	var root string
	for name, data := range files {
		b := []byte(data)
		if base := filepath.Base(name); (base == "go.mod" || base == "go.work") && bytes.Contains(b, []byte(RepoVar)) {
			if root == "" {
				root = Root(tb)
			}
			b = bytes.ReplaceAll(b, []byte(RepoVar), []byte(root))
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// Module writes files into dir as [Write] does, gives the module the
// checkout's go.sum (unless files has one) and tidies it offline. Without a
// go.mod in files, the module is [GoMod]("example.com/app").
func Module[T string | []byte](tb testing.TB, dir string, files map[string]T) {
	tb.Helper()
	if _, ok := files["go.mod"]; !ok {
		Write(tb, dir, map[string]string{"go.mod": GoMod("example.com/app")})
	}
	if _, ok := files["go.sum"]; !ok {
		Write(tb, dir, map[string]string{"go.sum": Sum(tb)})
	}
	Write(tb, dir, files)
	Go(tb, dir, "mod", "tidy")
}

// New writes files into a new temporary directory as [Module] does and
// returns the directory.
func New[T string | []byte](tb testing.TB, files map[string]T) string {
	tb.Helper()
	dir := tb.TempDir()
	Module(tb, dir, files)
	return dir
}

// Sum returns the checkout's go.sum, which a module requiring it needs.
func Sum(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Root(tb), "go.sum"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// Go runs the go command with args in dir, offline, and returns its
// combined output; a failure fails the test.
func Go(tb testing.TB, dir string, args ...string) []byte {
	tb.Helper()
	return GoEnv(tb, dir, nil, args...)
}

// GoEnv is [Go] with more environment settings (GOOS=windows).
func GoEnv(tb testing.TB, dir string, env []string, args ...string) []byte {
	tb.Helper()
	out, err := Run(tb.Context(), dir, env, args...)
	if err != nil {
		tb.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Run runs the go command with args in dir, offline with env added, and
// returns its combined output and error, for a test that expects a
// failure.
func Run(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = Env(env...)
	return cmd.CombinedOutput()
}

// Replace points the replace directive of [ModulePath] in the go.mod file
// at path to the checkout, whatever directory it named (testdata modules
// say ../..), and fails the test if there is none.
func Replace(tb testing.TB, path string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := modfile.Parse(path, b, nil)
	if err != nil {
		tb.Fatal(err)
	}
	found := false
	for _, r := range f.Replace {
		if r.Old.Path == ModulePath {
			found = true
			if err := f.AddReplace(r.Old.Path, r.Old.Version, Root(tb), ""); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if !found {
		tb.Fatalf("%s: no replace directive for %s", path, ModulePath)
	}
	out, err := f.Format()
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Copy copies the module in src (testdata/chatapp) to dst and points its
// replace directive of [ModulePath] at the checkout.
func Copy(tb testing.TB, src, dst string) {
	tb.Helper()
	if err := CopyTree(src, dst); err != nil {
		tb.Fatal(err)
	}
	Replace(tb, filepath.Join(dst, "go.mod"))
}

// CopyTree copies the regular files under src to dst, creating the
// directories.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
