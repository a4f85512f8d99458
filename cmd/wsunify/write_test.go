package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

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

// TestWriteAllLeavesOtherLinks: a file with a second hard link is
// replaced by its name alone, and the other name keeps the old content,
// also when the next file's content is written through the spare that then
// holds that inode.
func TestWriteAllLeavesOtherLinks(t *testing.T) {
	dir := t.TempDir()
	changes := files(t, dir, 3)
	other := filepath.Join(t.TempDir(), "elsewhere.go")
	if err := os.Link(changes[0].Name, other); err != nil {
		t.Fatal(err)
	}
	if err := writeAll(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if got, _ := os.ReadFile(c.Name); string(got) != string(c.New) {
			t.Errorf("%s = %q, want %q", c.Name, got, c.New)
		}
	}
	if got, _ := os.ReadFile(other); string(got) != "old\n" {
		t.Errorf("the other link of %s = %q, want the old content", changes[0].Name, got)
	}
}

// cancelAfter is a context that is cancelled after n calls to Err.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// TestWriteAllUndoes: when the write stops half-way, cancelled or failing
// on a file, the files already replaced get their old content and mode
// back, the files it created are removed, and nothing else is left.
func TestWriteAllUndoes(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(changes []codemod.FileChange, dir string) context.Context
	}{
		{"cancelled", func([]codemod.FileChange, string) context.Context {
			return &cancelAfter{context.Background(), 13}
		}},
		{"failing", func(changes []codemod.FileChange, dir string) context.Context {
			changes[13].Name = filepath.Join(dir, "missing", "x.go")
			return context.Background()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			changes := files(t, dir, 20)
			before := entries(t, dir)
			created := filepath.Join(dir, "created.go")
			changes = append([]codemod.FileChange{{Name: created, New: []byte("created\n")}}, changes...)
			ctx := tc.stop(changes, dir)
			if err := writeAll(ctx, changes); err == nil {
				t.Fatal("writeAll returned no error")
			}
			for i, c := range changes[1:] {
				if i+1 == 13 {
					continue
				}
				if got, err := os.ReadFile(c.Name); err != nil || string(got) != "old\n" {
					t.Errorf("%s = %q, %v; want the old content back", c.Name, got, err)
				}
				want := os.FileMode(0o644)
				if i%3 == 0 {
					want = 0o755
				}
				if fi, err := os.Stat(c.Name); err != nil || fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v (%v), want %v", c.Name, fi.Mode().Perm(), err, want)
				}
			}
			if after := entries(t, dir); !slices.Equal(after, before) {
				t.Errorf("files after: %v, want %v", after, before)
			}
		})
	}
}

// TestWriteAllCreates: a change to a file that does not exist creates it,
// with mode 0644 under a umask of 022.
func TestWriteAllCreates(t *testing.T) {
	dir := t.TempDir()
	changes := files(t, dir, 2)
	created := filepath.Join(dir, "new.go")
	changes = append(changes[:1], codemod.FileChange{Name: created, New: []byte("new\n")}, changes[1])
	if err := writeAll(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if got, _ := os.ReadFile(c.Name); string(got) != string(c.New) {
			t.Errorf("%s = %q, want %q", c.Name, got, c.New)
		}
	}
	if fi, err := os.Stat(created); err != nil || fi.Mode().Perm()&^0o022 != 0o644&^0o022 {
		t.Errorf("created file: %v, %v", fi.Mode(), err)
	}
	if names := entries(t, dir); !slices.Equal(names, []string{"f00.go", "f01.go", "new.go"}) {
		t.Errorf("files left: %q", names)
	}
}

// BenchmarkWriteAll writes 2,000 files in 200 directories with writeAll
// and, in the same run, with a temporary file beside each file renamed
// over it once all are written (writeTemps, what writeAll did before the
// spare), and reports the ratio. Before each write the tree is deleted
// and written anew, as a fresh checkout or the corpus of issue 15 is, so
// the file system has as many inodes freed in the last minute.
func BenchmarkWriteAll(b *testing.B) {
	root := b.TempDir()
	var changes []codemod.FileChange
	fresh := func() {
		b.StopTimer()
		defer b.StartTimer()
		if err := os.RemoveAll(root); err != nil {
			b.Fatal(err)
		}
		changes = changes[:0]
		for d := range 200 {
			dir := filepath.Join(root, fmt.Sprintf("p%03d", d))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for f := range 10 {
				name := filepath.Join(dir, fmt.Sprintf("f%02d.go", f))
				old := bytes.Repeat([]byte("// old\n"), 200)
				if err := os.WriteFile(name, old, 0o644); err != nil {
					b.Fatal(err)
				}
				changes = append(changes, codemod.FileChange{Name: name, Old: old, New: bytes.Repeat([]byte("// new\n"), 230)})
			}
		}
	}
	var spare, temps time.Duration
	timed := func(d *time.Duration, write func(context.Context, []codemod.FileChange) error) {
		fresh()
		start := time.Now()
		if err := write(context.Background(), changes); err != nil {
			b.Fatal(err)
		}
		*d += time.Since(start)
	}
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			timed(&spare, writeAll)
			timed(&temps, writeTemps)
		} else {
			timed(&temps, writeTemps)
			timed(&spare, writeAll)
		}
		n++
	}
	b.ReportMetric(float64(spare.Nanoseconds())/float64(n), "ns/op")
	b.ReportMetric(float64(temps.Nanoseconds())/float64(n), "temps-ns/op")
	b.ReportMetric(float64(spare)/float64(temps), "ratio")
}

// writeTemps is the baseline of BenchmarkWriteAll: a temporary file beside
// each file, all renamed over the files once written.
func writeTemps(_ context.Context, changes []codemod.FileChange) error {
	temps := make([]string, len(changes))
	for i, c := range changes {
		f, err := os.CreateTemp(filepath.Dir(c.Name), ".wsunify-*")
		if err != nil {
			return err
		}
		temps[i] = f.Name()
		_, err = f.Write(c.New)
		if err == nil {
			err = f.Chmod(0o644)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	for i, c := range changes {
		if err := os.Rename(temps[i], c.Name); err != nil {
			return err
		}
	}
	return nil
}
