package codemod

import (
	"slices"
	"strings"
	"testing"
)

// TestSatisfy holds the configuration a file outside the default one is
// checked in to its build constraints, as the go command reads them.
func TestSatisfy(t *testing.T) {
	t.Parallel()
	def := BuildConfig{GOOS: "linux", GOARCH: "amd64"}
	tests := []struct {
		name, file, src string
		want            BuildConfig
		ok              bool
	}{
		{"file name GOOS", "svc_windows.go", "package svc\n", BuildConfig{GOOS: "windows", GOARCH: "amd64"}, true},
		{"file name GOOS and GOARCH", "svc_plan9_386.go", "package svc\n", BuildConfig{GOOS: "plan9", GOARCH: "386"}, true},
		{"custom tag", "audit.go", "//go:build enterprise\n\npackage svc\n", BuildConfig{GOOS: "linux", GOARCH: "amd64", Tags: []string{"enterprise"}}, true},
		{"tagged test", "it_test.go", "//go:build integration\n\npackage svc_test\n", BuildConfig{GOOS: "linux", GOARCH: "amd64", Tags: []string{"integration"}}, true},
		{"negated tag", "free.go", "//go:build !enterprise && darwin\n\npackage svc\n", BuildConfig{GOOS: "darwin", GOARCH: "amd64"}, true},
		{"or of systems and arch", "fast.go", "//go:build (darwin || freebsd) && arm64\n\npackage svc\n", BuildConfig{GOOS: "darwin", GOARCH: "arm64"}, true},
		{"unix on another system", "u.go", "//go:build unix && !linux\n\npackage svc\n", BuildConfig{GOOS: "darwin", GOARCH: "amd64"}, true},
		{"js", "dom_js.go", "package svc\n", BuildConfig{GOOS: "js", GOARCH: "wasm"}, true},
		{"file name GOOS without the default GOARCH", "svc_aix.go", "package svc\n", BuildConfig{GOOS: "aix", GOARCH: "ppc64"}, true},
		{"constraint GOOS without the default GOARCH", "a.go", "//go:build aix || solaris && !amd64\n\npackage svc\n", BuildConfig{GOOS: "aix", GOARCH: "ppc64"}, true},
		{"no port", "svc_dragonfly_arm64.go", "package svc\n", BuildConfig{}, false},
		{"ignore", "gen.go", "//go:build ignore\n\npackage main\n", BuildConfig{}, false},
		{"contradiction", "never.go", "//go:build linux && windows\n\npackage svc\n", BuildConfig{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := satisfy(&uncheckedFile{name: "/m/svc/" + tt.file, src: []byte(tt.src)}, def)
			if ok != tt.ok || (ok && (got.GOOS != tt.want.GOOS || got.GOARCH != tt.want.GOARCH || !slices.Equal(got.Tags, tt.want.Tags))) {
				t.Errorf("satisfy(%s) = %+v, %v; want %+v, %v", tt.file, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestConfigsFor: the files of one GOOS and GOARCH share a configuration
// with the union of their tags when it still includes each of them.
func TestConfigsFor(t *testing.T) {
	t.Parallel()
	file := func(name, src string) *uncheckedFile {
		return &uncheckedFile{name: "/m/svc/" + name, src: []byte(src)}
	}
	got := configsFor([]*uncheckedFile{
		file("svc_windows.go", "package svc\n"),
		file("audit.go", "//go:build enterprise\n\npackage svc\n"),
		file("it_test.go", "//go:build integration\n\npackage svc_test\n"),
		file("community.go", "//go:build !enterprise && oss\n\npackage svc\n"),
	}, BuildConfig{GOOS: "linux", GOARCH: "amd64"})
	want := []BuildConfig{
		{GOOS: "windows"},
		{Tags: []string{"enterprise", "integration"}},
		{Tags: []string{"oss"}},
	}
	if len(got) != len(want) {
		t.Fatalf("configsFor = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].GOOS != want[i].GOOS || got[i].GOARCH != want[i].GOARCH || !slices.Equal(got[i].Tags, want[i].Tags) {
			t.Errorf("configsFor[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestUncheckedDotImport: the names an unchecked file uses of a legacy
// package it imports with a dot count, as bridge.X does: WebSocketManager,
// NewWebSocketManager and Message, and the legacy method Broadcast of a
// package loaded from source.
func TestUncheckedDotImport(t *testing.T) {
	res, _ := migrateCase(t, "unchecked-dot-import")
	for _, f := range res.Findings {
		if f.Rule == RuleUnchecked {
			if !strings.Contains(f.Message, "(legacy names: 4)") {
				t.Errorf("finding %q: want 4 legacy names", f.Message)
			}
			return
		}
	}
	t.Errorf("no unchecked finding in %v", res.Findings)
}

// TestSees: a file sees a package's declarations when it belongs to it or
// imports it. A program built only with the ignore tag in the package's
// directory (client_golang's gen_go_collector_set.go is package main) and
// an external test package see only what they import, so an unexported
// field they happen to name a variable after is not theirs.
func TestSees(t *testing.T) {
	t.Parallel()
	pkg := &Package{Path: "example.com/app/svc", Name: "svc", Dir: "/m/svc"}
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"svc_windows.go", "package svc\n", true},
		{"gen.go", "//go:build ignore\n\npackage main\n\nfunc main() { m := 1; _ = m }\n", false},
		{"gen2.go", "//go:build ignore\n\npackage main\n\nimport \"example.com/app/svc\"\n\nvar _ = svc.New\n", true},
		{"x_test.go", "package svc_test\n", false},
		{"broken.go", "this is not Go", true},
	} {
		u := &uncheckedFile{name: "/m/svc/" + tc.name, src: []byte(tc.src)}
		u.imports, _ = fileImports(u.src)
		if got := u.sees(pkg); got != tc.want {
			t.Errorf("%s sees svc = %v, want %v", tc.name, got, tc.want)
		}
	}
	if (&uncheckedFile{name: "/m/other/o.go", src: []byte("package svc\n")}).sees(pkg) {
		t.Error("a file of another directory sees svc without importing it")
	}
}

// TestBuildConfigPort: a configuration names a GOOS and GOARCH the go
// command builds for, which lists no package otherwise: GOOS=aix alone is
// aix/ppc64, and aix/amd64 is refused.
func TestBuildConfigPort(t *testing.T) {
	t.Parallel()
	if err := (BuildConfig{GOOS: "aix", GOARCH: "amd64"}).Check(); err == nil || !strings.Contains(err.Error(), "GOARCH is one of ppc64") {
		t.Errorf("Check(aix/amd64) = %v, want it refused", err)
	}
	for _, c := range []BuildConfig{{GOOS: "aix"}, {GOOS: "windows"}, {GOOS: "js"}, {}} {
		if err := c.Check(); err != nil {
			t.Errorf("Check(%v) = %v", c, err)
		}
	}
	env := (BuildConfig{GOOS: "aix"}).apply(&LoadConfig{Env: []string{"HOME=/h"}}).Env
	if !slices.Contains(env, "GOOS=aix") || !slices.Contains(env, "GOARCH=ppc64") {
		t.Errorf("GOOS=aix loads with %v, want GOARCH=ppc64", env)
	}
}
