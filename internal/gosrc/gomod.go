package gosrc

import (
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"
)

// FindUp returns the nearest directory at or above dir that holds a file
// (not a directory) called name, or "".
func FindUp(dir, name string) string {
	for {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// ModuleRoot returns the nearest directory at or above dir with a go.mod
// file, or "".
func ModuleRoot(dir string) string { return FindUp(dir, "go.mod") }

// ModulePath returns the path of the module dir is in, from the first
// go.mod at or above dir, or "" when there is none or it names no module.
func ModulePath(dir string) string {
	root := ModuleRoot(dir)
	if root == "" {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return ""
	}
	return modfile.ModulePath(data)
}
