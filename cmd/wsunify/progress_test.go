package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

// TestProgress runs apply, plan, check and report with the progress forced
// on and off: forced, stderr shows the stages drawn in place and stdout
// none of it; by default, with stderr not a terminal, nothing is drawn.
func TestProgress(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": legacySrc})
	for _, tt := range []struct {
		args   []string
		stages []string
	}{
		{[]string{"plan", "./..."}, []string{"loading packages", "type-checking 1 of 1 packages", "rewriting 1 of 1 files", "verifying 1 files"}},
		{[]string{"check", "./..."}, []string{"loading packages", "type-checking 1 of 1 packages"}},
		{[]string{"report", "-o", "-", "./..."}, []string{"taking the inventory", "loading packages", "rewriting 1 of 1 files"}},
		{[]string{"apply", "./..."}, []string{"loading packages", "type-checking 1 of 1 packages", "rewriting 1 of 1 files", "verifying 1 files", "writing 1 files"}},
	} {
		name := tt.args[0]
		if name != "apply" {
			// Unforced first: apply would leave nothing to do.
			_, stdout, stderr := wsunify(append([]string{name, "-C", dir}, tt.args[1:]...)...)
			if strings.Contains(stdout+stderr, "\x1b[K") || strings.Contains(stderr, "…") {
				t.Errorf("%s: progress drawn on a stderr that is not a terminal:\n%q", name, stderr)
			}
		}
		_, stdout, stderr := wsunify(append([]string{name, "-C", dir, "-progress=always"}, tt.args[1:]...)...)
		if strings.ContainsAny(stdout, "\r\x1b") || strings.Contains(stdout, "…") {
			t.Errorf("%s: progress on stdout:\n%q", name, stdout)
		}
		for _, s := range tt.stages {
			if !strings.Contains(stderr, "\r\x1b[Kwsunify: "+s+"…") {
				t.Errorf("%s: stderr does not draw %q in place:\n%q", name, s, stderr)
			}
		}
		// The last line is erased before the command ends.
		if i := strings.LastIndex(stderr, "…"); i >= 0 && !strings.Contains(stderr[i:], "\r\x1b[K") {
			t.Errorf("%s: the last stage line is left on the screen:\n%q", name, stderr)
		}
	}
}

// TestProgressOnTerminal runs the built wsunify under a pseudo-terminal
// (util-linux's script gives its command one as stdin, stdout and stderr)
// with stdout sent to a file: by default, the stages are drawn on the
// terminal, and the file has the plan and none of them.
func TestProgressOnTerminal(t *testing.T) {
	t.Parallel()
	scriptPath, err := exec.LookPath("script")
	if err != nil {
		t.Fatal("needs script, of util-linux, for a pseudo-terminal (Debian's bsdutils)")
	}
	dir := testmod.New(t, map[string]string{"ws/ws.go": legacySrc})
	bin := filepath.Join(t.TempDir(), "wsunify")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	outFile := filepath.Join(t.TempDir(), "stdout")
	cmd := exec.Command(scriptPath, "-qec", bin+" -C "+dir+" plan ./... >"+outFile, "/dev/null")
	term, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%q", err, term)
	}
	stdout, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"loading packages", "type-checking 1 of 1 packages", "rewriting 1 of 1 files"} {
		if !strings.Contains(string(term), "\r\x1b[Kwsunify: "+s+"…") {
			t.Errorf("the terminal does not show %q:\n%q", s, term)
		}
	}
	if !strings.Contains(string(stdout), "legacy uses left") || strings.ContainsAny(string(stdout), "\r\x1b…") {
		t.Errorf("stdout (a file) is not the plan alone:\n%q", stdout)
	}
}
