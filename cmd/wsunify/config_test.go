package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

const svcSrc = `package svc

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

// Service sends notifications.
type Service struct {
	m bridge.WebSocketManager
}

// Hello greets a user.
func (s *Service) Hello(ctx context.Context, user string) error {
	return s.m.SendToUser(ctx, user, nil)
}
`

const svcWindowsSrc = `package svc

import "context"

// Tray tells everyone about the tray icon.
func (s *Service) Tray(ctx context.Context) error {
	return s.m.Broadcast(ctx, nil)
}
`

const winonlySrc = `package winonly

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

// Ping tells everyone.
func Ping(ctx context.Context, m bridge.WebSocketManager) error {
	return m.Broadcast(ctx, nil)
}
`

// TestBuildConfigFlags: with -goos naming the configurations to check, a
// file outside them is counted, reported, and keeps every declaration it
// uses; without it, the configurations the files need are found.
func TestBuildConfigFlags(t *testing.T) {
	t.Parallel()
	files := map[string]string{"svc/svc.go": svcSrc, "svc/svc_windows.go": svcWindowsSrc, "winonly/w_windows.go": winonlySrc}
	dir := testmod.New(t, files)

	code, stdout, stderr := wsunify("check", "-C", dir, "./...")
	if code != exitFindings || !strings.Contains(stdout, "example.com/app/winonly: 2 legacy uses") || !strings.Contains(stdout, "example.com/app/svc: 3 legacy uses") {
		t.Errorf("check = %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = wsunify("check", "-C", dir, "-goos", "linux", "./...")
	if code != exitFindings || !strings.Contains(stdout, "example.com/app/winonly: 1 legacy uses") || !strings.Contains(stdout, "example.com/app/svc: 3 legacy uses") {
		t.Errorf("check -goos linux = %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = wsunify("plan", "-C", dir, "-goos", "linux", "./...")
	for _, want := range []string{
		"m keeps its legacy type: m is used in svc_windows.go, which no checked build configuration includes",
		"winonly/w_windows.go:1:1: unchecked: w_windows.go is not checked (legacy names: 1): no build configuration of this run includes it",
		"svc/svc_windows.go:1:1: unchecked: svc_windows.go is not checked (legacy names: 1)",
	} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("plan -goos linux = %d, want %q\n%s%s", code, want, stdout, stderr)
		}
	}
	code, stdout, stderr = wsunify("apply", "-C", dir, "-goos", "linux", "./...")
	if code != exitOK {
		t.Fatalf("apply -goos linux = %d\n%s%s", code, stdout, stderr)
	}
	for name, src := range files {
		if got, _ := os.ReadFile(filepath.Join(dir, name)); strings.HasSuffix(name, "_windows.go") && string(got) != src {
			t.Errorf("%s, outside the configurations checked, was written:\n%s", name, got)
		}
	}
	for _, goos := range []string{"linux", "windows"} {
		if out, err := goVet(t, dir, "GOOS="+goos, "./..."); err != nil {
			t.Errorf("GOOS=%s go vet after apply -goos linux: %v\n%s", goos, err, out)
		}
	}
}

// TestGOOSFlag: a -goos value the go command does not build for is a
// usage error that names it, not a flood of type errors; js and wasip1
// are checked with their only GOARCH, wasm.
func TestGOOSFlag(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"svc/svc.go": svcSrc, "svc/svc_windows.go": svcWindowsSrc})
	for _, goos := range []string{"windwos", "linux,windwos"} {
		code, stdout, stderr := wsunify("check", "-C", dir, "-goos", goos, "./...")
		if code != exitUsage || !strings.Contains(stderr, "-goos") || strings.Contains(stderr, "export data") || stdout != "" {
			t.Errorf("check -goos %s = %d\nstdout:\n%s\nstderr:\n%s", goos, code, stdout, stderr)
		}
	}
	code, stdout, stderr := wsunify("check", "-C", dir, "-goos", "js,windows", "./...")
	if code != exitFindings || !strings.Contains(stdout, "example.com/app/svc: 3 legacy uses") {
		t.Errorf("check -goos js,windows = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestSyntaxErrorIsNotClean: a legacy file that does not parse makes
// check and plan fail, never report "ok".
func TestSyntaxErrorIsNotClean(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": `package ws

import (
	"context"
	"github.com/wsunify/wsunify/bridge
)

func Greet(ctx context.Context, m bridge.WebSocketManager) error {
	return m.SendToUser(ctx, "u", nil)
}
`})
	for _, cmd := range []string{"check", "plan"} {
		code, stdout, stderr := wsunify(cmd, "-C", dir, "./...")
		if code != exitFailure || strings.Contains(stdout, "ok: no legacy uses") || strings.Contains(stdout, "no legacy uses left") ||
			!strings.Contains(stderr, "syntax error") || strings.Contains(stderr, "type error") {
			t.Errorf("%s = %d\nstdout:\n%s\nstderr:\n%s", cmd, code, stdout, stderr)
		}
	}
}

// TestWorkspaceReverseDependency: in a go.work workspace, a package of
// another module that calls the selection is outside it, as within one
// module: apply in module a keeps the parameter module b passes a
// bridge.WebSocketManager to, and b still builds.
func TestWorkspaceReverseDependency(t *testing.T) {
	t.Parallel()
	sum := testmod.Sum(t)
	dir := t.TempDir()
	files := map[string]string{
		"go.work":  "go 1.26\n\nuse (\n\t./a\n\t./b\n)\n\nreplace github.com/wsunify/wsunify => $REPO\n",
		"a/go.mod": "module example.com/a\n\ngo 1.26\n\nrequire github.com/wsunify/wsunify v0.0.0\n",
		"b/go.mod": "module example.com/b\n\ngo 1.26\n\nrequire github.com/wsunify/wsunify v0.0.0\n",
		"a/go.sum": sum,
		"b/go.sum": sum,
		"a/notify/notify.go": `package notify

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

// Hello greets a user.
func Hello(ctx context.Context, m bridge.WebSocketManager, user string) error {
	return m.SendToUser(ctx, user, nil)
}
`,
		"b/app/app.go": `package app

import (
	"context"

	"example.com/a/notify"
	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

// Run greets ada.
func Run(ctx context.Context, hub *facade.Hub) error {
	return notify.Hello(ctx, bridge.NewWebSocketManager(hub), "ada")
}
`,
	}
	testmod.Write(t, dir, files)
	code, stdout, stderr := wsunify("apply", "-C", filepath.Join(dir, "a"), "./...")
	if code != exitOK || !strings.Contains(stdout, "m keeps its legacy type: Hello is called from example.com/b/app, outside the selected packages") {
		t.Fatalf("apply = %d\n%s%s", code, stdout, stderr)
	}
	if out, err := goVet(t, dir, "GOFLAGS= GOWORK=", "./a/...", "./b/..."); err != nil {
		t.Errorf("go vet in the workspace after apply in module a: %v\n%s", err, out)
	}
}

// TestFindingsSayWhatTheCodeDoes: a declaration another build
// configuration keeps is reported with what the code there does and the
// configuration, never with the name of a syntax node.
func TestFindingsSayWhatTheCodeDoes(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{
		"cmd/app/main.go": svcCommandSrc,
		"svc/svc.go":      svcSrc,
		"svc/svc_windows.go": `package svc

// The Windows service host takes the manager as it is.

// Manager is for the Windows service host.
func (s *Service) Manager() any { return s.m }
`,
		"svc/new.go": `package svc

import "github.com/wsunify/wsunify/bridge"

// New builds a service.
func New(m bridge.WebSocketManager) *Service { return &Service{m: m} }

// Managers lists the manager.
func (s *Service) Managers() []bridge.WebSocketManager { return []bridge.WebSocketManager{s.m} }
`,
	})
	code, stdout, stderr := wsunify("plan", "-C", dir, "./...")
	if code != exitOK {
		t.Fatalf("plan = %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"svc/new.go:6:10: retype: m keeps its legacy type: its value flows into m, which keeps its legacy type\n  \tsvc/new.go:6:67\n",
		"svc/svc.go:11:2: retype: m keeps its legacy type: m is stored in a composite literal\n  \tsvc/new.go:9:93\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan does not say %q:\n%s", want, stdout)
		}
	}
	if node := regexp.MustCompile(`\b[A-Z][A-Za-z]*(Expr|Stmt|Spec|Lit)\b`).FindString(stdout); node != "" {
		t.Errorf("a finding names the syntax node %s:\n%s", node, stdout)
	}
	// Without new.go's uses, the field is kept by the Windows file alone.
	if err := os.Remove(filepath.Join(dir, "svc/new.go")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = wsunify("plan", "-C", dir, "./...")
	if want := "retype: m keeps its legacy type: m is returned (in GOOS=windows)\n  \tsvc/svc_windows.go:6:44\n"; code != exitOK || !strings.Contains(stdout, want) {
		t.Errorf("plan = %d, want %q\n%s%s", code, want, stdout, stderr)
	}
}

// goVet runs go vet on patterns in dir, offline, with more environment
// settings (space-separated).
func goVet(t *testing.T, dir, env string, patterns ...string) ([]byte, error) {
	return testmod.Run(t.Context(), dir, strings.Fields(env), append([]string{"vet"}, patterns...)...)
}
