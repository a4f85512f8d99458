package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

const legacySrc = `package ws

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

// Greet sends one message.
func Greet(ctx context.Context, m bridge.WebSocketManager, user string) error {
	return m.SendToUser(ctx, user, bridge.Message{"type": "hello"})
}
`

// commandSrc is a command: with one, a module is a service, whose
// exported API the retype step changes with its importers (a library's
// is kept: codemod.APIAuto).
// commandSrc is a command that imports package ws, which makes the module
// a service whose ws package changes its exported API (svcCommandSrc: svc).
const commandSrc = "package main\n\nimport _ \"example.com/app/ws\"\n\nfunc main() {}\n"

const svcCommandSrc = "package main\n\nimport _ \"example.com/app/svc\"\n\nfunc main() {}\n"

const cleanSrc = `package ws

// Nothing legacy here.
func Nothing() {}
`

const brokenSrc = `package ws

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

func Greet(ctx context.Context, m bridge.WebSocketManager) error {
	return m.SendToUser(ctx, 42, nil)
}
`

func wsunify(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	legacy := testmod.New(t, map[string]string{"ws/ws.go": legacySrc, "cmd/app/main.go": commandSrc})
	clean := testmod.New(t, map[string]string{"ws/ws.go": cleanSrc})
	broken := testmod.New(t, map[string]string{"ws/ws.go": brokenSrc})

	tests := []struct {
		name string
		args []string
		want int
		out  string // a substring of stdout+stderr
	}{
		{"no command", nil, exitUsage, "usage: wsunify"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"help", []string{"-h"}, exitOK, "Commands:"},
		{"plan help", []string{"plan", "-h"}, exitOK, "-json"},
		{"diff help", []string{"diff", "-h"}, exitOK, "writes nothing"},
		{"apply help", []string{"apply", "-h"}, exitOK, "-shape"},
		{"check help", []string{"check", "-h"}, exitOK, "exits 3"},
		{"bad rule", []string{"check", "-C", legacy, "-rule", "nope", "./..."}, exitUsage, `unknown rule "nope"`},
		{"bad shape", []string{"check", "-shape", "Manager", "./..."}, exitUsage, "-shape"},
		{"check legacy", []string{"check", "-C", legacy, "./..."}, exitFindings, "example.com/app/ws: 3 legacy uses"},
		{"check clean", []string{"check", "-C", clean, "./..."}, exitOK, "ok: no legacy uses"},
		{"check broken", []string{"check", "-C", broken, "./..."}, exitFailure, "do not parse or type-check"},
		{"apply broken", []string{"apply", "-C", broken, "./..."}, exitFailure, "nothing written"},
		{"plan", []string{"plan", "-C", legacy, "./..."}, exitOK, "next step (call sites + retype): wsunify apply rewrites 3 sites in 1 files"},
		{"diff", []string{"diff", "-C", legacy, "./..."}, exitOK, "+\treturn m.Notify(ctx, facade.ToUser(user), facade.Raw(map[string]any{\"type\": \"hello\"}))"},
		{"diff one rule", []string{"diff", "-C", legacy, "-rule", "send-to-user", "./..."}, exitOK, "+\treturn bridge.NotifierOf(m).Notify(ctx, facade.ToUser(user), facade.Raw(bridge.Message{\"type\": \"hello\"}))"},
		{"no packages", []string{"check", "-C", legacy, "./nope/..."}, exitFailure, "wsunify check: "},
	}
	for _, tt := range tests {
		code, stdout, stderr := wsunify(tt.args...)
		if code != tt.want || !strings.Contains(stdout+stderr, tt.out) {
			t.Errorf("%s: wsunify %q = %d\nstdout:\n%s\nstderr:\n%s\nwant %d and %q", tt.name, tt.args, code, stdout, stderr, tt.want, tt.out)
		}
	}
	// Neither diff nor a refused apply wrote anything.
	for dir, src := range map[string]string{legacy: legacySrc, broken: brokenSrc} {
		if got, _ := os.ReadFile(filepath.Join(dir, "ws/ws.go")); string(got) != src {
			t.Errorf("%s was written:\n%s", dir, got)
		}
	}
}

func TestApplyThenCheck(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": legacySrc, "cmd/app/main.go": commandSrc})
	code, stdout, stderr := wsunify("apply", "-C", dir, "./...")
	if code != exitOK || !strings.Contains(stdout, "wrote ws/ws.go") {
		t.Fatalf("apply = %d\n%s%s", code, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "ws/ws.go"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "SendToUser") || !strings.Contains(string(got), "facade.ToUser(user)") {
		t.Errorf("apply wrote:\n%s", got)
	}
	// No temporary file is left beside it.
	entries, _ := os.ReadDir(filepath.Join(dir, "ws"))
	if len(entries) != 1 {
		t.Errorf("ws/ holds %d entries, want 1", len(entries))
	}
	// Idempotent: a second apply writes nothing.
	code, stdout, _ = wsunify("apply", "-C", dir, "./...")
	if code != exitOK || strings.Contains(stdout, "wrote") {
		t.Errorf("second apply = %d\n%s", code, stdout)
	}
	// Fully migrated: nothing from bridge is left, and check says so.
	if strings.Contains(string(got), "bridge") {
		t.Errorf("apply left bridge in:\n%s", got)
	}
	if code, stdout, _ = wsunify("check", "-C", dir, "./..."); code != exitOK {
		t.Errorf("check after apply = %d\n%s", code, stdout)
	}
	// plan -json is machine-readable.
	code, stdout, _ = wsunify("plan", "-json", "-C", dir, "./...")
	var plan struct {
		Remaining map[string]int `json:"remaining"`
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &plan) != nil {
		t.Fatalf("plan -json = %d\n%s", code, stdout)
	}
	if plan.Remaining["send-to-user"] != 0 || plan.Remaining["message-type"] != 0 {
		t.Errorf("after apply, plan says %v", plan.Remaining)
	}
}

// TestVetTool runs the built command under go vet -vettool: the legacy call
// is reported with its rewrite.
func TestVetTool(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "wsunify")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := testmod.New(t, map[string]string{"ws/ws.go": legacySrc})
	out, err := testmod.Run(t.Context(), dir, nil, "vet", "-vettool="+bin, "./...")
	if err == nil || !strings.Contains(string(out), "ws.go:11:11: legacy bridge.WebSocketManager.SendToUser: use bridge.NotifierOf(m).Notify") {
		t.Errorf("go vet -vettool: err %v\n%s", err, out)
	}
}
