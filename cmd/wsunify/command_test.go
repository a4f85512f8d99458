package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryCommandSharesTheSetup: each command of the table has its help
// (wsunify help CMD and CMD -h print the same, on stdout), -C, a usage
// error with exit 2 for an unknown flag, and a failure with exit 1 and its
// name on stderr for a -C directory that does not exist; nothing goes to
// stdout but results.
func TestEveryCommandSharesTheSetup(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope")
	for _, c := range commands {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			code, help, stderr := wsunify("help", c.Name)
			if code != exitOK || stderr != "" || !strings.HasPrefix(help, "usage: wsunify "+c.Name) || !strings.Contains(help, "-C dir") {
				t.Errorf("help %s = %d\nstdout:\n%s\nstderr:\n%s", c.Name, code, help, stderr)
			}
			if code, h, _ := wsunify(c.Name, "-h"); code != exitOK || h != help {
				t.Errorf("%s -h = %d\n%s\nwant what help %s prints:\n%s", c.Name, code, h, c.Name, help)
			}
			code, stdout, stderr := wsunify(c.Name, "-nope")
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, "wsunify "+c.Name+": flag provided but not defined: -nope") ||
				!strings.Contains(stderr, "usage: wsunify "+c.UsageLine) {
				t.Errorf("%s -nope = %d\nstdout:\n%s\nstderr:\n%s", c.Name, code, stdout, stderr)
			}
			args := []string{c.Name, "-C", missing}
			if c.Name == "shim" {
				args = append(args, "a", "b")
			}
			code, stdout, stderr = wsunify(args...)
			if want := "wsunify " + c.Name + ": chdir " + missing + ": no such file or directory\n"; code != exitFailure || stdout != "" || stderr != want {
				t.Errorf("%s -C %s = %d\nstdout:\n%s\nstderr:\n%s\nwant stderr %q", c.Name, missing, code, stdout, stderr, want)
			}
			// -C before the command is the same.
			if code, _, stderr2 := wsunify(append([]string{"-C", missing}, args[0:1]...)...); c.Name != "shim" && (code != exitFailure || stderr2 != stderr) {
				t.Errorf("-C %s %s = %d, stderr %q; want %q", missing, c.Name, code, stderr2, stderr)
			}
		})
	}
}

// TestHelp: wsunify help lists every command of the table; help of an
// unknown command is a usage error.
func TestHelp(t *testing.T) {
	t.Parallel()
	code, stdout, _ := wsunify("help")
	if code != exitOK {
		t.Fatalf("help = %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(stdout, "\n  "+c.Name+" ") || !strings.Contains(stdout, c.Short) {
			t.Errorf("help does not list %s (%s):\n%s", c.Name, c.Short, stdout)
		}
	}
	if code, _, stderr := wsunify("help", "frobnicate"); code != exitUsage || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("help frobnicate = %d, %q", code, stderr)
	}
}
