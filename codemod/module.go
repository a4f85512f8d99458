package codemod

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsunify/wsunify/internal/gosrc"
)

// OtherModuleError reports a package pattern naming a directory that lies
// in another module than the directory the go command runs in: the go
// command loads packages of one main module only (a nested module, such as
// an example under testdata, is not part of its parent).
type OtherModuleError struct {
	Pattern string // the pattern as given
	Module  string // the root directory of the module it lies in (absolute)
	// InModule is the same pattern relative to Module, to give the command
	// that loads it: "./..." for "./testdata/chatapp/...".
	InModule string
}

func (e *OtherModuleError) Error() string {
	return fmt.Sprintf("codemod: load: %s lies in another module (%s); run the command in that module's directory with the pattern %s",
		e.Pattern, filepath.Join(e.Module, "go.mod"), e.InModule)
}

// otherModule returns the first of patterns that names a directory in
// another module than dir's, or nil.
func otherModule(dir string, patterns []string) *OtherModuleError {
	base, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	home := gosrc.ModuleRoot(base)
	for _, p := range patterns {
		if !isPathPattern(p) {
			continue
		}
		d, dots := strings.CutSuffix(filepath.ToSlash(p), "/...")
		if i := strings.Index(d, "..."); i >= 0 {
			d, dots = d[:strings.LastIndex(d[:i], "/")+1], true // ./testdata/chat... → ./testdata/
		}
		abs := filepath.FromSlash(d)
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(base, abs)
		}
		root := gosrc.ModuleRoot(abs)
		if root == "" || root == home {
			continue
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil {
			continue
		}
		in := "./" + filepath.ToSlash(rel)
		switch {
		case rel == "." && dots:
			in = "./..."
		case rel == ".":
			in = "."
		case dots:
			in += "/..."
		}
		return &OtherModuleError{Pattern: p, Module: root, InModule: in}
	}
	return nil
}

// isPathPattern reports whether the go command reads p as a directory
// rather than an import path.
func isPathPattern(p string) bool {
	return p == "." || p == ".." || filepath.IsAbs(p) ||
		strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") ||
		strings.HasPrefix(p, `.\`) || strings.HasPrefix(p, `..\`)
}

// inWorkspace reports whether the go command runs in a go.work workspace
// for cfg: GOWORK names a file, or a go.work lies at or above the
// directory and GOWORK is not "off".
func inWorkspace(cfg *LoadConfig) bool {
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	gowork := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOWORK="); ok {
			gowork = v
		}
	}
	switch gowork {
	case "off":
		return false
	case "":
	default:
		return true
	}
	dir, err := filepath.Abs(cfg.Dir)
	return err == nil && gosrc.FindUp(dir, "go.work") != ""
}
