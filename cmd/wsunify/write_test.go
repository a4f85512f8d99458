package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wsunify/wsunify/codemod"
)

// files writes n files in dir (every third one executable) and returns
// the changes that give each a new content.
func files(t *testing.T, dir string, n int) []codemod.FileChange {
	t.Helper()
	var changes []codemod.FileChange
	for i := range n {
		name := filepath.Join(dir, fmt.Sprintf("f%02d.go", i))
		mode := os.FileMode(0o644)
		if i%3 == 0 {
			mode = 0o755
		}
		if err := os.WriteFile(name, []byte("old\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		changes = append(changes, codemod.FileChange{Name: name, Old: []byte("old\n"), New: fmt.Appendf(nil, "new %d\n", i)})
	}
	return changes
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	changes := files(t, dir, 25)
	before := entries(t, dir)
	if err := writeAll(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	for i, c := range changes {
		got, err := os.ReadFile(c.Name)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(c.New) {
			t.Errorf("%s = %q, want %q", c.Name, got, c.New)
		}
		fi, err := os.Stat(c.Name)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o644)
		if i%3 == 0 {
			want = 0o755
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", c.Name, fi.Mode().Perm(), want)
		}
	}
	if after := entries(t, dir); !slices.Equal(after, before) {
		t.Errorf("files after writing: %v, want %v (no temporary file left)", after, before)
	}
}

// TestWriteAllFailure: when one temporary file cannot be written, no file
// changes and no temporary file is left.
func TestWriteAllFailure(t *testing.T) {
	for _, bad := range []int{0, 17} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			dir := t.TempDir()
			changes := files(t, dir, 25)
			// A change to a file in a directory that does not exist.
			changes[bad].Name = filepath.Join(dir, "missing", "x.go")
			before := entries(t, dir)
			if err := writeAll(context.Background(), changes); err == nil {
				t.Fatal("writeAll succeeded with a file it cannot write")
			}
			for i, c := range changes {
				if i == bad {
					continue
				}
				if got, err := os.ReadFile(c.Name); err != nil || string(got) != "old\n" {
					t.Errorf("%s = %q, %v; want it unchanged", c.Name, got, err)
				}
			}
			if after := entries(t, dir); !slices.Equal(after, before) {
				t.Errorf("files after a failed write: %v, want %v", after, before)
			}
		})
	}
}

func TestWriteAllCancelled(t *testing.T) {
	dir := t.TempDir()
	changes := files(t, dir, 5)
	before := entries(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := writeAll(ctx, changes); err == nil {
		t.Fatal("writeAll wrote with a cancelled context")
	}
	for _, c := range changes {
		if got, _ := os.ReadFile(c.Name); string(got) != "old\n" {
			t.Errorf("%s = %q after a cancelled write", c.Name, got)
		}
	}
	if after := entries(t, dir); !slices.Equal(after, before) {
		t.Errorf("files after a cancelled write: %v, want %v", after, before)
	}
}

// TestWriteAllThroughSymlink: a source file that is a symbolic link (a
// file shared by two packages) is written where it points, and stays a
// link; two links to one file that would get different contents are
// refused, writing nothing.
func TestWriteAllThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared.go")
	if err := os.WriteFile(shared, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.go"), filepath.Join(dir, "b.go")
	for _, link := range []string{a, b} {
		if err := os.Symlink("shared.go", link); err != nil {
			t.Fatal(err)
		}
	}
	change := func(name, content string) codemod.FileChange {
		return codemod.FileChange{Name: name, Old: []byte("old\n"), New: []byte(content)}
	}
	if err := writeAll(context.Background(), []codemod.FileChange{change(a, "new a\n"), change(b, "new b\n")}); err == nil {
		t.Error("two contents for one file through two links: no error")
	}
	if got, _ := os.ReadFile(shared); string(got) != "old\n" {
		t.Errorf("a refused write changed the shared file: %q", got)
	}
	if err := writeAll(context.Background(), []codemod.FileChange{change(a, "new\n"), change(b, "new\n")}); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{a, b} {
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link (%v)", link, err)
		}
	}
	if got, _ := os.ReadFile(shared); string(got) != "new\n" {
		t.Errorf("shared file = %q, want the new content", got)
	}
	if names := entries(t, dir); !slices.Equal(names, []string{"a.go", "b.go", "shared.go"}) {
		t.Errorf("files left: %q", names)
	}
}

// TestWriteAllThroughDirectoryLink checks that a file reached through a
// linked directory (a package directory linked into two places) is
// written where it lies, once, with its mode, and that the link stays.
func TestWriteAllThroughDirectoryLink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(real, "x.go")
	if err := os.WriteFile(file, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(dir, "linked")
	if err := os.Symlink("real", linked); err != nil {
		t.Fatal(err)
	}
	change := func(name, content string) codemod.FileChange {
		return codemod.FileChange{Name: name, Old: []byte("old\n"), New: []byte(content)}
	}
	through := filepath.Join(linked, "x.go")
	if err := writeAll(context.Background(), []codemod.FileChange{change(file, "new a\n"), change(through, "new b\n")}); err == nil {
		t.Error("two contents for one file, by its name and through a linked directory: no error")
	}
	if got, _ := os.ReadFile(file); string(got) != "old\n" {
		t.Errorf("a refused write changed the file: %q", got)
	}
	if err := writeAll(context.Background(), []codemod.FileChange{change(through, "new\n"), change(file, "new\n")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(file); string(got) != "new\n" {
		t.Errorf("file = %q, want the new content", got)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v (%v), want -rw-------", fi.Mode(), err)
	}
	if fi, err := os.Lstat(linked); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the linked directory is no longer a link (%v)", err)
	}
	if names := entries(t, real); !slices.Equal(names, []string{"x.go"}) {
		t.Errorf("files left: %q", names)
	}
}
