package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

// TestLeadingChdir runs commands with -C before the command, as
// "go -C dir vet" takes it: they do what the command does with -C among
// its own flags, and a relative -C after the command is taken from there.
func TestLeadingChdir(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": legacySrc})
	for _, cmd := range []string{"plan", "check", "diff"} {
		wantCode, want, wantErr := wsunify(cmd, "-C", dir, "./...")
		for _, args := range [][]string{
			{"-C", dir, cmd, "./..."},
			{"-C=" + dir, cmd, "./..."},
			{"--C", dir, cmd, "./..."},
			{"-C", filepath.Dir(dir), cmd, "-C", filepath.Base(dir), "./..."},
		} {
			code, got, stderr := wsunify(args...)
			if code != wantCode || got != want || stderr != wantErr {
				t.Errorf("wsunify %q = %d\n%s%s\nwant %d\n%s%s", args, code, got, stderr, wantCode, want, wantErr)
			}
		}
		if wantCode == exitFailure || wantCode == exitUsage {
			t.Errorf("%s -C %s failed: %d %s", cmd, dir, wantCode, wantErr)
		}
	}
	if code, _, stderr := wsunify("-C"); code != exitUsage || !strings.Contains(stderr, "flag needs an argument: -C") {
		t.Errorf("wsunify -C = %d, %q", code, stderr)
	}
}

// TestChdirMissing: -C at a directory that does not exist is said as the
// go command says it, for every command, instead of the failure to start
// the go command there.
func TestChdirMissing(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope")
	for _, args := range [][]string{
		{"plan", "-C", missing, "./..."},
		{"check", "-C", missing},
		{"-C", missing, "apply", "./..."},
		{"shim", "-C", missing, "./old", "./new"},
		{"-C", missing, "shim", "example.com/m/old", "example.com/m/new"},
	} {
		code, stdout, stderr := wsunify(args...)
		want := "chdir " + missing + ": no such file or directory\n"
		if code != exitFailure || stdout != "" || !strings.HasSuffix(stderr, want) || strings.Contains(stderr, "fork/exec") {
			t.Errorf("wsunify %q = %d, stdout %q, stderr %q; want 1 and %q", args, code, stdout, stderr, want)
		}
	}
}

// TestPlanJSONEmptyLists: plan -json writes an empty list as [], so that
// a reader ranges over it without checking for null.
func TestPlanJSONEmptyLists(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": cleanSrc})
	code, stdout, stderr := wsunify("plan", "-json", "-C", dir, "./...")
	if code != exitOK {
		t.Fatalf("plan -json = %d: %s", code, stderr)
	}
	for _, want := range []string{`"packages": []`, `"findings": []`, `"remaining": {}`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan -json lacks %s:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "null") {
		t.Errorf("plan -json has null:\n%s", stdout)
	}
}
