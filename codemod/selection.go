package codemod

import (
	"path/filepath"
	"regexp"
	"strings"
)

// selection says whether a file no configuration checks belongs to the
// packages the patterns select, so that a run on some packages reports
// only theirs. Such a file's package may be listed by the go command (a
// file it leaves out of a listed package) or not at all (a directory
// whose every file is left out): the patterns are matched as the go
// command matches them, on its directory and on its import path.
type selection struct {
	listed map[string]bool // the package paths the patterns matched
	dirs   []*regexp.Regexp
	paths  []*regexp.Regexp
	all    bool // "all" or "work": every package of the main modules
}

func newSelection(dir string, patterns []string, listed map[string]bool) *selection {
	s := &selection{listed: listed}
	base := absDir(dir)
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	for _, p := range patterns {
		switch {
		case p == "all" || p == "work":
			s.all = true
		case isPathPattern(p):
			abs := filepath.FromSlash(p)
			if !filepath.IsAbs(abs) {
				abs = filepath.Join(base, abs)
			}
			if strings.HasSuffix(p, "/...") {
				abs = filepath.Join(abs[:len(abs)-len("...")], "...")
			} else {
				abs = filepath.Clean(abs)
			}
			s.dirs = append(s.dirs, matchPattern(filepath.ToSlash(abs)))
		default:
			s.paths = append(s.paths, matchPattern(p))
		}
	}
	return s
}

// matchPattern is the go command's pattern match: "..." matches any
// string, and a trailing "/..." also the path before it (net/... matches
// net).
func matchPattern(pattern string) *regexp.Regexp {
	re := regexp.QuoteMeta(pattern)
	re = strings.ReplaceAll(re, `\.\.\.`, `.*`)
	if strings.HasSuffix(re, `/.*`) {
		re = strings.TrimSuffix(re, `/.*`) + `(/.*)?`
	}
	return regexp.MustCompile(`^` + re + `$`)
}

// has reports whether the file name, of package pkgPath ("" if unknown),
// is in the selection.
func (s *selection) has(name, pkgPath string) bool {
	if s == nil || s.all || s.listed[pkgPath] {
		return true
	}
	dir := filepath.ToSlash(filepath.Dir(name))
	for _, re := range s.dirs {
		if re.MatchString(dir) {
			return true
		}
	}
	for _, re := range s.paths {
		if pkgPath != "" && re.MatchString(pkgPath) {
			return true
		}
	}
	return false
}
