package codemod

import (
	"go/parser"
	"go/token"
	"testing"
)

func TestIgnoreOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"ignore", "//go:build ignore\n\npackage recipe\n", true},
		{"ignore after a comment", "// Copyright.\n\n//go:build ignore\n\npackage recipe\n", true},
		{"a tag", "//go:build enterprise\n\npackage p\n", false},
		{"ignore or a tag", "//go:build ignore || linux\n\npackage p\n", false},
		{"no constraint", "package p\n\n//go:build ignore\n", false},
		{"+build ignore alone", "// +build ignore\n\npackage main\n", true},
		{"ignore and a tag", "//go:build ignore && linux\n\npackage main\n", true},
		{"ignore and not a tag", "//go:build ignore && !windows\n\npackage main\n", true},
		// procfs's proc_maps.go: excluding js is not being built only with ignore.
		{"systems but not js", "//go:build (aix || darwin || linux) && !js\n\npackage p\n", false},
		{"not ignore", "//go:build !ignore\n\npackage p\n", false},
	} {
		if got := ignoreOnly([]byte(tc.src)); got != tc.want {
			t.Errorf("%s: ignoreOnly = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestIgnoredRecipe: of the files built only with the ignore tag, a recipe
// is no use of the program's; a program run by name (go run gen.go) is.
func TestIgnoredRecipe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"recipe", "//go:build ignore\n\npackage recipe\n\nimport \"strings\"\n\n// x: doc.\nfunc xBefore(s string) string { return strings.ToLower(s) }\n\nfunc xAfter(s string) string { return s }\n", true},
		{"recipe of aliases", "//go:build ignore\n\npackage recipe\n\ntype (\n\ttBefore = int\n\ttAfter = int\n)\n", true},
		{"a program", "//go:build ignore\n\npackage main\n\nfunc main() {}\n", false},
		{"a program with a pair", "//go:build ignore\n\npackage main\n\nfunc xBefore() {}\n\nfunc xAfter() {}\n\nfunc main() {}\n", false},
		{"no pair", "//go:build ignore\n\npackage recipe\n", false},
		{"a recipe built", "package recipe\n\nfunc xBefore() {}\n\nfunc xAfter() {}\n", false},
	} {
		if got := ignoredRecipe([]byte(tc.src)); got != tc.want {
			t.Errorf("%s: ignoredRecipe = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBuildLineInCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"header", "//go:build linux\n// +build linux\n\npackage p\n\nfunc f() {}\n", false},
		{"in a call", "package p\n\nfunc f(a, b int) {}\n\nfunc g() {\n\tf(1, // +build foo\n\t\t2)\n}\n", true},
		{"go:build in a body", "package p\n\nfunc g() {\n\t//go:build x\n}\n", true},
		{"other comments", "package p\n\n// +builder is not a constraint\nfunc g() {}\n", false},
	} {
		f, err := parser.ParseFile(token.NewFileSet(), "x.go", tc.src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if got := buildLineInCode(f).IsValid(); got != tc.want {
			t.Errorf("%s: buildLineInCode found %v, want %v", tc.name, got, tc.want)
		}
	}
}
