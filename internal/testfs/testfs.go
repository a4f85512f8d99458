// Package testfs holds the file-tree helpers that tests of several
// packages share.
package testfs

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// ReadTree reads every file under dir, keyed by its path (dir joined with
// the file's path under it), so that a test can tell what a command wrote,
// or that it wrote nothing.
func ReadTree(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}
