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
