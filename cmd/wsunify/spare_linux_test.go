package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/wsunify/wsunify/codemod"
)

// inodes returns the inode numbers of the named files.
func inodes(t *testing.T, changes []codemod.FileChange) []uint64 {
	t.Helper()
	var out []uint64
	for _, c := range changes {
		fi, err := os.Stat(c.Name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fi.Sys().(*syscall.Stat_t).Ino)
	}
	return out
}

// TestWriteAllCreatesOneFile: 30 files in 3 directories are written
// through one spare. Each file after the first gets the inode the one
// before it had, so the run creates one file, whatever its size.
func TestWriteAllCreatesOneFile(t *testing.T) {
	root := t.TempDir()
	var changes []codemod.FileChange
	for _, d := range []string{"a", "b", "c"} {
		dir := filepath.Join(root, d)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, files(t, dir, 10)...)
	}
	before := inodes(t, changes)
	if err := writeAll(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	after := inodes(t, changes)
	if !slices.Equal(after[1:], before[:len(before)-1]) {
		t.Errorf("inodes before %v, after %v: want each file to take the one of the file before it", before, after)
	}
	for _, c := range changes {
		if got, _ := os.ReadFile(c.Name); string(got) != string(c.New) {
			t.Errorf("%s = %q, want %q", c.Name, got, c.New)
		}
	}
}

// TestWriteAllAcrossFileSystems: files on two file systems (a directory
// here and one in /dev/shm, a tmpfs) are all written, and no spare is
// left on either.
func TestWriteAllAcrossFileSystems(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "wsunify-test-")
	if err != nil {
		t.Fatalf("a directory on a second file system: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	local := t.TempDir()
	a, b := files(t, local, 4), files(t, shm, 4)
	changes := slices.Concat(a[:2], b[:2], a[2:], b[2:])
	if err := writeAll(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if got, _ := os.ReadFile(c.Name); string(got) != string(c.New) {
			t.Errorf("%s = %q, want %q", c.Name, got, c.New)
		}
	}
	for _, dir := range []string{local, shm} {
		if names := entries(t, dir); !slices.Equal(names, []string{"f00.go", "f01.go", "f02.go", "f03.go"}) {
			t.Errorf("files left in %s: %q", dir, names)
		}
	}
}

// TestWriteAllKeepsOwners: run by root, a file of another user is
// replaced, and the file after it is not given that user's inode: each
// new content belongs to the user who wrote it.
func TestWriteAllKeepsOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	dir := t.TempDir()
	changes := files(t, dir, 3)
	if err := os.Chown(changes[1].Name, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if err := writeAll(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		fi, err := os.Stat(c.Name)
		if err != nil {
			t.Fatal(err)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 0 {
			t.Errorf("%s belongs to user %d, want root, who wrote it", c.Name, uid)
		}
		if got, _ := os.ReadFile(c.Name); string(got) != string(c.New) {
			t.Errorf("%s = %q, want %q", c.Name, got, c.New)
		}
	}
}
