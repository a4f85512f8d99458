package codemod

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAPIFindings: a library's exported declarations are kept with a
// finding that says why and names the flag that changes them; with
// -api=keep, a service's say it is the flag that keeps them. A kept
// parameter's finding names the arguments of its callers in other
// packages, legacy uses that stay with it.
func TestAPIFindings(t *testing.T) {
	for _, tc := range []struct {
		cases, decl string
		want        []string
		related     string // a related position's file:line, if any
	}{
		{"api-library", "Bridge keeps", []string{"exported API of example.com/lib/tracer", "example.com/lib is a library (no main package outside its examples, tests, tools and internal directories)", "run with -api=change"}, ""},
		{"api-library", "b keeps", []string{"exported API of example.com/lib/tracer", "-api=change"}, ""},
		{"api-library", "the result of Factory keeps", []string{"exported API", "-api=change"}, ""},
		{"api-keep", "Bridge keeps", []string{"exported API of example.com/app/tracer", "-api=keep keeps it"}, ""},
		{"api-library-commands", "m keeps", []string{"exported API of example.com/lib, and example.com/lib is a library: its root directory is package lib, for importers, though it has commands (example.com/lib/cmd/libtool)", "run with -api=change"},
			"cmd/libtool/main.go:15"},
	} {
		res, _ := migrateCase(t, tc.cases)
		found := false
		for _, f := range res.Findings {
			if !strings.HasPrefix(f.Message, tc.decl) {
				continue
			}
			found = true
			for _, w := range tc.want {
				if !strings.Contains(f.Message, w) {
					t.Errorf("%s: %s: finding %q does not say %q", tc.cases, tc.decl, f.Message, w)
				}
			}
			if tc.related == "" {
				continue
			}
			var at []string
			for _, r := range f.Related {
				at = append(at, fmt.Sprintf("%s:%d", filepath.ToSlash(r.Pos.Filename), r.Pos.Line))
			}
			if !slices.ContainsFunc(at, func(p string) bool { return strings.HasSuffix(p, "/"+tc.related) }) {
				t.Errorf("%s: %s: related %v, want %s", tc.cases, tc.decl, at, tc.related)
			}
		}
		if !found {
			t.Errorf("%s: no finding %q… in %v", tc.cases, tc.decl, res.Findings)
		}
	}
}

// TestParseAPI: the -api values, and a wrong one refused with the right
// ones named.
func TestParseAPI(t *testing.T) {
	for in, want := range map[string]API{"": APIAuto, "auto": APIAuto, "keep": APIKeep, "change": APIChange} {
		if got, err := ParseAPI(in); err != nil || got != want {
			t.Errorf("ParseAPI(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseAPI("yes"); err == nil || !strings.Contains(err.Error(), "auto, keep or change") {
		t.Errorf("ParseAPI(yes): %v", err)
	}
}
