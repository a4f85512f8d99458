package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

// copyChatapp copies the legacy service of testdata/chatapp into a
// temporary directory, its replace directive pointing at this checkout.
func copyChatapp(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "chatapp")
	testmod.Copy(t, filepath.Join(testmod.Root(t), "testdata", "chatapp"), dst)
	return dst
}

// applySummary is the last lines of apply's output: the sites, files and
// findings it reports, and the files it lists as written.
var applySummary = regexp.MustCompile(`(?m)^(\d+) sites rewritten in (\d+) files; (\d+) findings left$`)

// TestPlanMatchesApply holds plan to what apply then does on the legacy
// service, which apply migrates in several steps: the sites per rule, the
// files and the findings plan announces are those apply reports.
func TestPlanMatchesApply(t *testing.T) {
	t.Parallel()
	dir := copyChatapp(t)
	code, stdout, stderr := wsunify("plan", "-json", "-C", dir, "./...")
	if code != exitOK {
		t.Fatalf("plan = %d\n%s%s", code, stdout, stderr)
	}
	var plan struct {
		Next *struct {
			Step  string         `json:"step"`
			Sites map[string]int `json:"sites"`
			Files int            `json:"files"`
		} `json:"next"`
		Findings []struct {
			Rule string `json:"Rule"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil || plan.Next == nil {
		t.Fatalf("plan -json: %v\n%s", err, stdout)
	}
	sites := 0
	for _, n := range plan.Next.Sites {
		sites += n
	}
	// The text form says the same.
	_, text, _ := wsunify("plan", "-C", dir, "./...")
	if want := "wsunify apply rewrites " + strconv.Itoa(sites) + " sites in " + strconv.Itoa(plan.Next.Files) + " files"; !strings.Contains(text, want) {
		t.Errorf("plan says:\n%s\nwant %q", text, want)
	}

	code, stdout, stderr = wsunify("apply", "-C", dir, "./...")
	m := applySummary.FindStringSubmatch(stdout)
	if code != exitOK || m == nil {
		t.Fatalf("apply = %d\n%s%s", code, stdout, stderr)
	}
	if got := m[1] + " sites, " + m[2] + " files, " + m[3] + " findings"; got != strconv.Itoa(sites)+" sites, "+
		strconv.Itoa(plan.Next.Files)+" files, "+strconv.Itoa(len(plan.Findings))+" findings" {
		t.Errorf("apply did %s; plan said %d sites, %d files, %d findings", got, sites, plan.Next.Files, len(plan.Findings))
	}
	if n := len(regexp.MustCompile(`(?m)^wrote `).FindAllString(stdout, -1)); strconv.Itoa(n) != m[2] {
		t.Errorf("apply lists %d files and counts %s", n, m[2])
	}
	// The service took more than one step: plan is not the first step only.
	if !strings.Contains(plan.Next.Step, "call sites") || !strings.Contains(plan.Next.Step, "retype") {
		t.Errorf("plan's step is %q", plan.Next.Step)
	}
	// What is left is what plan said would be.
	if code, stdout, _ = wsunify("plan", "-json", "-C", dir, "./..."); code != exitOK || strings.Contains(stdout, `"next"`) {
		t.Errorf("plan after apply = %d\n%s", code, stdout)
	}
}

// TestPathsUnderC runs the commands from another directory with a relative
// -C: every path they print is relative to the -C directory, as go vet
// prints them ("x.go" for a file of the directory itself, not "./x.go").
func TestPathsUnderC(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{
		"ws/ws.go": legacySrc,
		"root.go": `package app

import "github.com/wsunify/wsunify/bridge"

// Manager asserts that the bridge's manager is one.
var _ bridge.WebSocketManager = bridge.NewWebSocketManager(nil)
`,
	})
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	relDir, err := filepath.Rel(cwd, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(relDir, "..") {
		t.Fatalf("-C %s is not relative to elsewhere", relDir)
	}
	for _, cmd := range []string{"plan", "diff", "apply"} {
		code, stdout, stderr := wsunify(cmd, "-C", relDir, "./...")
		out := stdout + stderr
		if code != exitOK || strings.Contains(out, dir) || strings.Contains(out, relDir) {
			t.Errorf("%s -C %s = %d: absolute or -C-relative paths\n%s", cmd, relDir, code, out)
		}
		if !strings.Contains(out, "\nroot.go:6:5: retype: _ keeps its legacy type") && !strings.Contains(out, "  root.go:6:5: retype: _ keeps its legacy type") {
			t.Errorf("%s: the finding is not at root.go:6:5\n%s", cmd, out)
		}
	}
	if code, stdout, _ := wsunify("check", "-C", relDir, "./..."); code != exitFindings {
		t.Errorf("check = %d\n%s", code, stdout)
	}

	// Messages too: the type errors of a refused package.
	broken := testmod.New(t, map[string]string{"ws/ws.go": brokenSrc})
	relBroken, _ := filepath.Rel(cwd, broken)
	code, stdout, stderr := wsunify("apply", "-C", relBroken, "./...")
	if code != exitFailure || strings.Contains(stdout+stderr, broken) || !strings.Contains(stderr, " ws/ws.go:10:") {
		t.Errorf("apply -C %s = %d\n%s%s", relBroken, code, stdout, stderr)
	}
}

// TestApplySkipsUnchangedFile: a test file that the first step rewrites
// (bridge.NotifierOf around an argument) and the second puts back (the
// variable is retyped) ends as it was; apply neither lists nor writes it.
func TestApplySkipsUnchangedFile(t *testing.T) {
	t.Parallel()
	const testSrc = `package ws

import (
	"testing"
)

func TestGreet(t *testing.T) {
	if err := Greet(t.Context(), Default, "u1"); err != nil {
		t.Fatal(err)
	}
}
`
	dir := testmod.New(t, map[string]string{
		"ws/ws.go":        legacySrc,
		"cmd/app/main.go": commandSrc,
		"ws/default.go": `package ws

import (
	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

// Default is the manager of the process.
var Default bridge.WebSocketManager = bridge.NewWebSocketManager(facade.NewHub(nil))
`,
		"ws/ws_test.go": testSrc,
	})
	test := filepath.Join(dir, "ws", "ws_test.go")
	before, err := os.Stat(test)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := wsunify("apply", "-C", dir, "./...")
	if code != exitOK || !strings.Contains(stdout, "wrote ws/default.go") {
		t.Fatalf("apply = %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "ws_test.go") || !strings.Contains(stdout, "in 2 files") {
		t.Errorf("apply lists the unchanged test file:\n%s", stdout)
	}
	after, err := os.Stat(test)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(test); string(got) != testSrc || !os.SameFile(before, after) {
		t.Errorf("ws_test.go was rewritten (same file: %v):\n%s", os.SameFile(before, after), got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "ws", "default.go")); !strings.Contains(string(got), "var Default facade.Notifier = facade.NewHub(nil)") {
		t.Errorf("default.go:\n%s", got)
	}
}

// TestOtherModule: a pattern inside a nested module (testdata/chatapp from
// the repository root) fails with a message that names the module and the
// -C command that loads it, and that command works.
func TestOtherModule(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": cleanSrc})
	nested := testmod.New(t, map[string]string{"ws/ws.go": legacySrc, "app.go": strings.Replace(legacySrc, "package ws", "package app", 1)})
	if err := os.MkdirAll(filepath.Join(dir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(nested, filepath.Join(dir, "testdata", "app")); err != nil {
		t.Fatal(err)
	}
	for pattern, rest := range map[string]string{
		"./testdata/app/...": "./...",
		"./testdata/app/ws":  "./ws",
		"./testdata/app":     ".",
	} {
		code, stdout, stderr := wsunify("plan", "-C", dir, pattern)
		if code != exitFailure || !strings.Contains(stderr, "pattern "+pattern+" lies in another module") {
			t.Errorf("plan %s = %d\n%s%s", pattern, code, stdout, stderr)
			continue
		}
		m := regexp.MustCompile(`(?m)^run it in that module: wsunify plan -C (\S+) (\S+)$`).FindStringSubmatch(stderr)
		if m == nil || m[2] != rest || !strings.HasSuffix(filepath.ToSlash(m[1]), "testdata/app") {
			t.Errorf("plan %s suggests %q, want -C …/testdata/app %s\n%s", pattern, m, rest, stderr)
			continue
		}
		if code, stdout, stderr := wsunify("plan", "-C", m[1], m[2]); code != exitOK || !strings.Contains(stdout, "legacy uses left") {
			t.Errorf("the suggested command = %d\n%s%s", code, stdout, stderr)
		}
	}
}

// TestDroppedRetypeSaysWhy: a retype dropped because its step does not
// type-check is reported with the type error as a reader wants it: its
// place relative to the directory of the run, as every position is, and
// the reason, without the package path and the checker's mark.
func TestDroppedRetypeSaysWhy(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{
		"cmd/app/main.go": commandSrc,
		"ws/ws.go": `package ws

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

// Service embeds the legacy manager.
type Service struct {
	bridge.WebSocketManager
}

// Announce broadcasts through the embedded manager.
func (s *Service) Announce(ctx context.Context) error {
	return s.WebSocketManager.Broadcast(ctx, nil)
}
`,
		"ws/assert.go": `package ws

import "github.com/wsunify/wsunify/bridge"

func register(m bridge.WebSocketManager) { registered = append(registered, m) }

var registered []bridge.WebSocketManager

func init() { register(&Service{}) }
`,
	})
	const want = ": retype: WebSocketManager keeps its legacy type: retyping it does not type-check: " +
		"ws/assert.go:9:24: cannot use &Service{} (value of type *Service) as bridge.WebSocketManager value in argument to register"
	for _, cmd := range []string{"plan", "apply"} {
		code, stdout, stderr := wsunify(cmd, "-C", dir, "./...")
		if code != exitOK || !strings.Contains(stdout, want) || strings.Contains(stdout, dir) || strings.Contains(stdout, "type error") {
			t.Errorf("%s = %d: want the finding\n%s\ngot:\n%s%s", cmd, code, want, stdout, stderr)
		}
	}
}

// TestAPIFlag: in a library (no command), Greet's exported parameter keeps
// its legacy type with a finding naming -api=change, and check fails;
// apply -api=change retypes it and check passes. A wrong value is a usage
// error that names the right ones.
func TestAPIFlag(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": legacySrc})
	code, stdout, stderr := wsunify("apply", "-C", dir, "./...")
	if code != exitOK || !strings.Contains(stdout, "m keeps its legacy type: it is exported API of example.com/app/ws, and example.com/app is a library") ||
		!strings.Contains(stdout, "run with -api=change") {
		t.Fatalf("apply = %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := wsunify("check", "-C", dir, "./..."); code != exitFindings {
		t.Errorf("check after apply in a library = %d, want %d\n%s", code, exitFindings, stdout)
	}
	if code, stdout, stderr := wsunify("apply", "-api=change", "-C", dir, "./..."); code != exitOK || !strings.Contains(stdout, "0 findings left") {
		t.Errorf("apply -api=change = %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := wsunify("check", "-C", dir, "./..."); code != exitOK {
		t.Errorf("check after apply -api=change = %d\n%s", code, stdout)
	}
	if code, _, stderr := wsunify("plan", "-api=yes", "-C", dir, "./..."); code != exitUsage || !strings.Contains(stderr, "want auto, keep or change") {
		t.Errorf("plan -api=yes = %d\n%s", code, stderr)
	}
}

// TestServiceAPIIsListed: in a module with a command, taken for a service,
// plan and apply list each exported declaration the step retypes, with
// the command that made it a service and the flag that keeps them; a
// library that ships a command sees there what would break its importers,
// and -api=keep keeps them.
func TestServiceAPIIsListed(t *testing.T) {
	t.Parallel()
	files := map[string]string{"ws/ws.go": legacySrc, "cmd/tool/main.go": commandSrc}
	const (
		header = "exported API: example.com/app is taken for a service (it has the command example.com/app/cmd/tool)"
		decl   = "\n  ws/ws.go:10:33: parameter m of ws.Greet\n"
	)
	dir := testmod.New(t, files)
	code, stdout, stderr := wsunify("plan", "-C", dir, "./...")
	if code != exitOK || !strings.Contains(stdout, header+", so the step would retype") || !strings.Contains(stdout, decl) ||
		!strings.Contains(stdout, "apply with -api=keep") {
		t.Errorf("plan = %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = wsunify("plan", "-json", "-C", dir, "./...")
	var plan struct {
		Exported []struct {
			Pos struct {
				File         string
				Line, Column int
			} `json:"pos"`
			Decl     string   `json:"decl"`
			Module   string   `json:"module"`
			Commands []string `json:"commands"`
		} `json:"exported"`
	}
	if err := json.Unmarshal([]byte(stdout), &plan); code != exitOK || err != nil || len(plan.Exported) != 1 {
		t.Fatalf("plan -json = %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if e := plan.Exported[0]; e.Pos.File != "ws/ws.go" || e.Pos.Line != 10 || e.Decl != "parameter m of ws.Greet" ||
		e.Module != "example.com/app" || len(e.Commands) != 1 || e.Commands[0] != "example.com/app/cmd/tool" {
		t.Errorf("plan -json lists %+v", e)
	}

	code, stdout, stderr = wsunify("apply", "-C", dir, "./...")
	if code != exitOK || !strings.Contains(stdout, header+", so the step retyped") || !strings.Contains(stdout, decl) ||
		!strings.Contains(stdout, "restore these files and apply again with -api=keep") {
		t.Errorf("apply = %d\n%s%s", code, stdout, stderr)
	}

	// With -api=keep nothing exported changes, and nothing is listed.
	kept := testmod.New(t, files)
	code, stdout, stderr = wsunify("apply", "-api=keep", "-C", kept, "./...")
	if code != exitOK || strings.Contains(stdout, "exported API:") || !strings.Contains(stdout, "m keeps its legacy type: it is exported API of example.com/app/ws, and -api=keep keeps it") {
		t.Errorf("apply -api=keep = %d\n%s%s", code, stdout, stderr)
	}
}
