package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

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

// attrs returns the user.* extended attributes of the file name.
func attrs(t *testing.T, name string) map[string]string {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(name, buf)
	if err != nil {
		t.Fatalf("listxattr %s: %v", name, err)
	}
	out := map[string]string{}
	for _, a := range strings.Split(string(buf[:n]), "\x00") {
		if !strings.HasPrefix(a, "user.") {
			continue
		}
		v := make([]byte, 256)
		m, err := unix.Lgetxattr(name, a, v)
		if err != nil {
			t.Fatalf("getxattr %s %s: %v", name, a, err)
		}
		out[a] = string(v[:m])
	}
	return out
}

// TestWriteAllKeepsExtendedAttributes: files in two directories, some
// with user.* attributes and some without, and a new file, are written
// through one spare. Each file keeps exactly its own attributes, as if
// written in place; none gets those of the file whose inode it took; the
// new file gets none. Then a cancelled write puts every file back with
// its attributes too.
func TestWriteAllKeepsExtendedAttributes(t *testing.T) {
	root := t.TempDir()
	var changes []codemod.FileChange
	for _, d := range []string{"a", "b"} {
		dir := filepath.Join(root, d)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, files(t, dir, 4)...)
	}
	set := map[int]map[string]string{
		0: {"user.wsunify.x": "zero"},
		2: {"user.wsunify.x": "two", "user.wsunify.y": "2"},
		3: {"user.wsunify.y": "three"},
		5: {"user.wsunify.x": "five"},
		7: {"user.wsunify.x": "seven"}, // the new file comes after it
	}
	want := make([]map[string]string, len(changes))
	for i, c := range changes {
		want[i] = map[string]string{}
		for k, v := range set[i] {
			if err := unix.Lsetxattr(c.Name, k, []byte(v), 0); err != nil {
				t.Fatalf("this test needs user.* extended attributes on %s: %v", root, err)
			}
			want[i][k] = v
		}
		if got := attrs(t, c.Name); !maps.Equal(got, want[i]) {
			t.Fatalf("%s: attributes set %v, read %v", c.Name, want[i], got)
		}
	}
	created := filepath.Join(root, "b", "new.go")
	changes = append(changes, codemod.FileChange{Name: created, New: []byte("new\n")})
	want = append(want, map[string]string{})

	check := func(when string, content func(i int, c codemod.FileChange) string) {
		t.Helper()
		for i, c := range changes {
			if i == len(changes)-1 && when != "written" {
				continue // removed
			}
			if got, _ := os.ReadFile(c.Name); string(got) != content(i, c) {
				t.Errorf("%s: %s = %q, want %q", when, c.Name, got, content(i, c))
			}
			if got := attrs(t, c.Name); !maps.Equal(got, want[i]) {
				t.Errorf("%s: %s has the attributes %v, want %v", when, c.Name, got, want[i])
			}
		}
	}
	if err := writeAll(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	check("written", func(_ int, c codemod.FileChange) string { return string(c.New) })

	back := make([]codemod.FileChange, len(changes)-1)
	for i, c := range changes[:len(back)] {
		back[i] = codemod.FileChange{Name: c.Name, Old: c.New, New: []byte("again\n")}
	}
	if err := writeAll(&cancelAfter{context.Background(), 6}, back); err == nil {
		t.Fatal("cancelled writeAll returned no error")
	}
	check("put back", func(_ int, c codemod.FileChange) string { return string(c.New) })
}
