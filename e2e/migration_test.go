package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/internal/testmod"
)

// A command is one line of a sh block of MIGRATION.md and what the walk
// expects of it.
type command struct {
	line string // run with sh -c in the service's directory, as written in the guide
	exit int    // the exit status it must end with
	want string // a regexp its combined output must match; "" for any
	// readOnly commands must leave every file of the service as it was.
	readOnly bool
	// note is added to the message of a failure: what most likely went
	// wrong when the expectation fails.
	note string
}

// A step is one section of MIGRATION.md.
type step struct {
	title string
	cmds  []command
	// verify runs go build, go vet and go test after the commands.
	verify bool
	// after runs after the commands and the verification.
	after func(t *testing.T, w *walk)
}

// verifyCmds is the check that follows every step of the guide.
var verifyCmds = []command{
	{line: "go build ./..."},
	{line: "go vet ./..."},
	{line: "go test ./..."},
	{line: "! gofmt -l . | grep ."},
}

// The rules of each call-site pass of step 3.
const (
	managerRules = "send-to-user,send-to-thread,broadcast,emit-critical-event,is-connection-active,get-user-connections"
	agentRules   = "agent-started,agent-thinking,tool-executing,tool-completed,agent-completed,agent-error,progress-update"
)

// guide is MIGRATION.md as the walk runs it, step by step.
var guide = []step{{
	title:  "0. Before you start",
	verify: true,
	after: func(t *testing.T, w *walk) {
		w.legacy = w.session(t, "legacy service")
		assert.Positive(t, w.legacy.lost, "the race lost nothing before the swap: %+v", w.legacy)
		t.Logf("the chat session every later one must match:\n%s", strings.Join(w.legacy.transcript, "\n"))
	},
}, {
	title: "1. Take the inventory",
	cmds: []command{
		{line: "wsunify plan ./...", want: `(?m)^\d+ legacy uses left$[\s\S]*^per package:$[\s\S]*^next step` + prepareFindings,
			readOnly: true, note: "the test doubles' assertions are the findings left for step 4; if they moved or changed, update MIGRATION.md step 1"},
		{line: "wsunify check ./...", exit: 3, want: `(?m)^\d+ legacy uses left; run wsunify plan for details$`, readOnly: true},
		{line: "wsunify plan -json ./...", want: `"remaining": \{`, readOnly: true},
	},
}, {
	title: "2a. Swap the implementation",
	cmds: []command{
		{line: "git apply migration/2a-swap.patch"},
	},
	verify: true,
	after: func(t *testing.T, w *walk) {
		s := w.session(t, "after the swap")
		assert.Zero(t, s.lost, "events lost over the bridge: %+v", s)
		assert.Equal(t, w.legacy.transcript, s.transcript, "the swap changed the bytes on the wire")
		assert.Regexp(t, deprecationLine, s.stderr, "the bridge logs no deprecation warning")
		w.deprecations = deprecationLine.FindAllString(s.stderr, -1)
		assert.NotEmpty(t, s.deprecated, "/metrics counts no deprecated call over the bridge")
		t.Logf("deprecated calls in /metrics after the swap:\n%s", formatSites(s.deprecated))

		// The rollback: the same binary, the old manager.
		back := w.session(t, "rolled back with -bridge=false", "-bridge=false")
		assert.Positive(t, back.lost, "-bridge=false lost nothing: %+v", back)
		assert.Equal(t, w.legacy.transcript, back.transcript)
	},
}, {
	title: "2b. Delete the old implementation",
	cmds: []command{
		{line: "WSUNIFY_DEPRECATION=panic go test ./...", exit: 1, want: `WSUNIFY_DEPRECATION=panic`},
		{line: "rm -r internal/ws internal/server/legacy.go internal/server/legacy_test.go"},
		{line: "git apply migration/2b-delete-legacy.patch"},
	},
	verify: true,
}, {
	title: "3. Rewrite the call sites, rule by rule, package by package",
	cmds: []command{
		{line: "wsunify diff -rule message-type ./...", want: `(?m)^\+\+\+ b/`, readOnly: true},
		{line: "wsunify apply -rule message-type ./...", want: `(?m)^\d+ sites rewritten in \d+ files`},
		{line: "go vet ./..."},
		{line: "wsunify diff -rule " + managerRules + " ./internal/chat ./internal/server", want: `facade\.ToUser`, readOnly: true},
		{line: "wsunify apply -rule " + managerRules + " ./internal/chat ./internal/server", want: `(?m)^\d+ sites rewritten`},
		{line: "go vet ./..."},
		{line: "wsunify apply -rule " + agentRules + " ./internal/agent", want: `(?m)^\d+ sites rewritten`},
		{line: "wsunify plan ./...", want: `(?m)^next step \(call sites \+ retype\)`, readOnly: true,
			note: "what is left at the call sites is the fake manager's own IsConnectionActive call, which goes with the fakes in step 4"},
	},
	verify: true,
}, {
	title: "4. Retype the declarations",
	cmds: []command{
		{line: "wsunify apply -rule retype ./...", want: retypeWrites, note: retypeNote},
		{line: "go vet ./..."},
		{line: "wsunify plan ./...", want: retypeFindings, readOnly: true, note: "4-findings.patch answers " +
			"exactly these findings; if they moved or changed, regenerate the patch from the retype's output " +
			"and update the list in MIGRATION.md"},
		{line: "git apply migration/4-findings.patch", note: "the patch is a diff against what the retype " +
			"wrote; regenerate it if the codemod's output changed"},
		{line: "rm -r internal/fakes"},
		{line: "wsunify apply ./...", want: `(?m)^wrote internal/agent/runner_test\.go\nwrote internal/chat/handler_test\.go\n3 sites rewritten in 2 files; 0 findings left$`,
			note: "bridge.PresenceOf(hs.manager) and bridge.EmitterOf(b) of the tests' *facadetest.Recorder must fold to hs.manager and b.Emitter()"},
		{line: "wsunify check ./...", want: `(?m)^ok: no legacy uses$`, readOnly: true},
		{line: "wsunify apply ./...", want: `(?m)^0 sites rewritten in 0 files`, readOnly: true},
	},
	verify: true,
	after: func(t *testing.T, w *walk) {
		assert.Empty(t, w.bridgeImports(t), "Go files that still import package bridge")
		s := w.session(t, "after the rewrite")
		assert.Zero(t, s.lost, "events lost after the rewrite: %+v", s)
		assert.Equal(t, w.legacy.transcript, s.transcript, "the rewrite changed the bytes on the wire")
		assert.NotRegexp(t, deprecationLine, s.stderr, "deprecated calls left after the rewrite")
		assert.Empty(t, s.deprecated, "/metrics counts deprecated calls after the rewrite")
	},
}, {
	title: "5. Keep an old import path alive",
	cmds: []command{
		{line: "cp -r internal/agent agent"},
		{line: "wsunify shim -diff example.com/chatapp/internal/agent example.com/chatapp/agent", want: `(?m)^\+// Deprecated: use example\.com/chatapp/agent\.`, readOnly: true},
		{line: "wsunify shim example.com/chatapp/internal/agent example.com/chatapp/agent", want: `(?m)^wrote internal/agent/runner\.go\n6 names of example\.com/chatapp/internal/agent forward to example\.com/chatapp/agent; 1 files changed$`},
	},
	verify: true,
}, {
	title: "6. Keep it migrated",
	cmds: []command{
		{line: "WSUNIFY_DEPRECATION=panic go test ./..."},
		{line: "wsunify check ./...", want: `(?m)^ok: no legacy uses$`, readOnly: true},
	},
}, {
	title: "7. Delete the shims",
	cmds: []command{
		{line: `grep -rl '"example.com/chatapp/internal/agent"' --include='*.go' . | xargs sed -i 's|"example.com/chatapp/internal/agent"|"example.com/chatapp/agent"|'`},
		{line: "rm -r internal/agent"},
		{line: "wsunify check ./...", want: `(?m)^ok: no legacy uses$`, readOnly: true},
	},
	verify: true,
	after: func(t *testing.T, w *walk) {
		assert.Empty(t, w.bridgeImports(t), "Go files that import package bridge")
		s := w.session(t, "migrated service")
		assert.Zero(t, s.lost, "events lost at the end: %+v", s)
		assert.Equal(t, w.legacy.transcript, s.transcript, "the migration changed the bytes on the wire")
		assert.NotRegexp(t, deprecationLine, s.stderr, "deprecated calls left at the end")
		assert.Empty(t, s.deprecated, "/metrics counts deprecated calls at the end")
	},
}}

// prepareFindings are the findings of the legacy service that stay until
// step 4 (MIGRATION.md step 1): the test doubles' assertions that they
// implement the legacy shapes, the manager double's with its replacement. IsConnectionActive is no finding: step 3
// rewrites it to bridge.PresenceOf(m).Connected(u).
const prepareFindings = `[\s\S]*^findings:$` +
	`[\s\S]*^  internal/fakes/fakes\.go:30:5: retype: _ keeps its legacy type: it asserts that Manager implements bridge\.WebSocketManager, ` +
	`and a Manager reaches the facade only through the bridge's adapter: a \*facadetest\.Recorder ` +
	`[\s\S]*^  internal/fakes/fakes\.go:118:5: retype: _ keeps its legacy type: it asserts that AgentBridge implements bridge\.AgentWebSocketBridge, ` +
	`and an AgentBridge reaches the facade only through the bridge's adapter: `

// retypeWrites is what the retype step of the guide must rewrite: the
// embedded bridge of agent.Runner (and the tests that build a Runner), the
// manager of chat.Handler and of server.Server.
const retypeWrites = `(?m)^wrote internal/agent/runner\.go$\n` +
	`^wrote internal/agent/runner_test\.go$\n` +
	`^wrote internal/chat/handler\.go$\n` +
	`^wrote internal/chat/handler_test\.go$\n` +
	`^wrote internal/server/server\.go$\n` +
	`^\d+ sites rewritten in \d+ files; 2 findings left$`

// retypeNote explains the one way the retype step is known to fall short.
const retypeNote = "the retype must give Runner's embedded bridge, Handler.manager, Server.manager and chat.BridgeFunc " +
	"facade types, leaving the 2 findings (the test doubles) that 4-findings.patch answers. A finding \"keeps its legacy type: " +
	"perhaps set by this struct literal without field names\" at main_test.go:12:11 (or runner_test.go:24:11) is a " +
	"codemod bug: that literal is the table of a table-driven test, []struct{...}{{...}}; " +
	"codemod.typeExprType has no case for *ast.StructType, so litType returns nil and findUses blocks the " +
	"retype of every field and embedded field of the program."

// retypeFindings are the findings the retype leaves, all of them, which
// migration/4-findings.patch answers (MIGRATION.md step 4): the two
// doubles, each with the uses that keep it in the tests (the harness's
// agent double, used only through EmitterOf and Types, is a
// *facadetest.Recorder already).
const retypeFindings = `(?m)^findings:\n` +
	`  internal/fakes/fakes\.go:30:5: retype: _ keeps its legacy type: it asserts that Manager implements bridge\.WebSocketManager, ` +
	`and a Manager reaches the facade only through the bridge's adapter: a \*facadetest\.Recorder ` +
	`\(github\.com/wsunify/wsunify/facade/facadetest\) is a facade\.Presence that records what it is sent \(Sent, Types, Messages, ` +
	`To\) and answers Connected and ConnIDs from SetConns; with it in place of Manager, the assertion and Manager go; the retype puts ` +
	`one in place of Manager wherever a test hands it on through NotifierOf or EmitterOf and uses it only through methods a Recorder ` +
	`has, not where PresenceOf asks Manager who is connected: a Recorder answers from SetConns; the uses below keep Manager: which ` +
	`Recorder reading says what they say is the test's authors' call\n` +
	`  \tinternal/chat/handler_test\.go:43:25: reached through PresenceOf\n` +
	`  \tinternal/chat/handler_test\.go:57:2: hs\.manager\.SetOnline: a \*facadetest\.Recorder has no SetOnline\n` +
	`  \tinternal/chat/handler_test\.go:67:5: hs\.manager\.Sent: Manager's Sent\(\) \[\]fakes\.Sent; a \*facadetest\.Recorder's is ` +
	`Sent\(\) \[\]facadetest\.Sent\n` +
	`  \tinternal/chat/handler_test\.go:84:20: hs\.manager\.Sent: Manager's Sent\(\) \[\]fakes\.Sent; a \*facadetest\.Recorder's is ` +
	`Sent\(\) \[\]facadetest\.Sent\n` +
	`  \tinternal/chat/handler_test\.go:112:20: hs\.manager\.Sent: Manager's Sent\(\) \[\]fakes\.Sent; a \*facadetest\.Recorder's is ` +
	`Sent\(\) \[\]facadetest\.Sent\n` +
	`  internal/fakes/fakes\.go:101:5: retype: bridge\.PresenceOf\(m\) stays: m is a \*Manager, no declaration of a legacy interface ` +
	`the retype step can change; give it a facade value by hand \(a test double: facade/facadetest\.Recorder\)\n` +
	`  internal/fakes/fakes\.go:118:5: retype: _ keeps its legacy type: it asserts that AgentBridge implements ` +
	`bridge\.AgentWebSocketBridge, and an AgentBridge reaches the facade only through the bridge's adapter: a \*facadetest\.Recorder ` +
	`\(github\.com/wsunify/wsunify/facade/facadetest\) records what its Emitter\(\) emits \(Events, Types, Sent\) and FailOn refuses ` +
	`one type of event; with it in place of AgentBridge, the assertion and AgentBridge go; the retype puts one in place of AgentBridge ` +
	`wherever a test hands it on through NotifierOf or EmitterOf and uses it only through methods a Recorder has; the uses below keep ` +
	`AgentBridge: which Recorder reading says what they say is the test's authors' call\n` +
	`  \tinternal/agent/runner_test\.go:60:43: reached through EmitterOf\n` +
	`  \tinternal/agent/runner_test\.go:80:35: reached through EmitterOf\n` +
	`  \tinternal/agent/runner_test\.go:59:4: b\.FailOn: AgentBridge's FailOn\(string\); a \*facadetest\.Recorder's is FailOn\(string, ` +
	`error\)\n` +
	`  \tinternal/agent/runner_test\.go:63:22: b\.Events: AgentBridge's Events\(\) \[\]fakes\.Event; a \*facadetest\.Recorder's is ` +
	`Events\(\) \[\]facade\.Event\n` +
	`  \tinternal/agent/runner_test\.go:83:20: b\.Events: AgentBridge's Events\(\) \[\]fakes\.Event; a \*facadetest\.Recorder's is ` +
	`Events\(\) \[\]facade\.Event\n\z`

// deprecationLine is a warning of the bridge as the service logs it.
var deprecationLine = regexp.MustCompile(`(?m)^.* WARN bridge: deprecated call call=\S+ site=\S+ replacement=.* rule=\S+ count=\d+$`)

// TestMigration walks MIGRATION.md over a copy of testdata/chatapp.
func TestMigration(t *testing.T) {
	t.Parallel()
	start := time.Now()
	w := newWalk(t)
	for _, s := range guide {
		w.step(t, s)
	}
	t.Logf("walked %d steps in %v", len(guide), time.Since(start).Round(time.Millisecond))
	t.Logf("deprecation warnings after the swap:\n%s", strings.Join(w.deprecations, "\n"))
}

// walk is a copy of the service and the tools to run commands in it.
type walk struct {
	root   string // this repository
	dir    string // the copy of the service
	binDir string // wsunify and chatd
	env    []string
	ctx    context.Context

	legacy       session  // the legacy service's session, the reference
	pushed       []string // pusherapp's session before the recipe, the reference
	deprecations []string // the bridge's warnings after the swap
}

// newWalk copies testdata/chatapp into a temporary directory, points its
// replace directive at this repository and builds wsunify.
func newWalk(t *testing.T) *walk {
	t.Helper()
	return newServiceWalk(t, "chatapp")
}

// newServiceWalk is newWalk for the bundled service testdata/<service>.
func newServiceWalk(t *testing.T, service string) *walk {
	t.Helper()
	root := testmod.Root(t)
	tmp := t.TempDir()
	w := &walk{root: root, dir: filepath.Join(tmp, service), binDir: filepath.Join(tmp, "bin")}
	// A guard against a hung command, not a speed bound: the walks of
	// chatapp and pusherapp run side by side and take two to five minutes
	// under -race on two busy cores; it ends a walk before go test's own
	// -timeout does, so that the failure names the command.
	limit := 15 * time.Minute
	if d, ok := t.Deadline(); ok {
		limit = min(limit, time.Until(d)-30*time.Second)
	}
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	t.Cleanup(cancel)
	w.ctx = ctx

	testmod.Copy(t, filepath.Join(root, "testdata", service), w.dir)

	w.env = testmod.Env(
		"PATH="+w.binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"WSUNIFY_DEPRECATION=once",
		// git apply works on the copy alone, even if the temporary
		// directory is inside a repository.
		"GIT_CEILING_DIRECTORIES="+tmp,
	)
	out, err := w.exec(root, "go", "build", "-o", filepath.Join(w.binDir, "wsunify"), "./cmd/wsunify")
	require.NoError(t, err, "go build ./cmd/wsunify:\n%s", out)
	return w
}

// step runs the commands of s, then the verification, then s.after.
func (w *walk) step(t *testing.T, s step) {
	t.Helper()
	for _, c := range s.cmds {
		w.run(t, s.title, c)
	}
	if s.verify {
		for _, c := range verifyCmds {
			w.run(t, s.title, c)
		}
	}
	if s.after != nil {
		s.after(t, w)
	}
}

// run runs one command of the guide and checks it. A failed expectation
// stops the walk: the guide's next step starts from what this one left.
func (w *walk) run(t *testing.T, title string, c command) {
	t.Helper()
	var before string
	if c.readOnly {
		before = treeHash(t, w.dir)
	}
	cmd := exec.CommandContext(w.ctx, "sh", "-c", c.line)
	cmd.Dir = w.dir
	cmd.Env = w.env
	began := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("$ %s (%v)", c.line, time.Since(began).Round(time.Millisecond))
	exit := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("step %q: %s: %v", title, c.line, err)
	}

	var problems []string
	if exit != c.exit {
		problems = append(problems, fmt.Sprintf("exit status %d, want %d", exit, c.exit))
	}
	if c.want != "" && !regexp.MustCompile(c.want).Match(out) {
		problems = append(problems, fmt.Sprintf("output does not match %q", c.want))
	}
	if c.readOnly && treeHash(t, w.dir) != before {
		problems = append(problems, "it changed files; it must write nothing")
	}
	if len(problems) == 0 {
		return
	}
	msg := fmt.Sprintf("step %q: $ %s\n%s\n--- output:\n%s", title, c.line, strings.Join(problems, "; "), out)
	if c.note != "" {
		msg += "--- note: " + c.note
	}
	t.Fatal(msg)
}

// exec runs a program in dir with the walk's environment.
func (w *walk) exec(dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(w.ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = w.env
	return cmd.CombinedOutput()
}

// bridgeImports lists the Go files of the service that import package
// bridge, test files included.
func (w *walk) bridgeImports(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), `"github.com/wsunify/wsunify/bridge"`) {
			rel, _ := filepath.Rel(w.dir, path)
			files = append(files, rel)
		}
		return nil
	})
	require.NoError(t, err)
	return files
}

// session is what a client saw of the running service.
type session struct {
	// transcript is every message of a chat session as alice, normalised.
	transcript []string
	// sent is the number of messages that report one run to its user (see
	// reportsRun); lost is how many of them bob missed when he connected
	// while his run was under way.
	sent, lost int
	stderr     string // the service's log
	// deprecated is what the service's /metrics counts of the calls to
	// deprecated entry points, by call site, once the session is over.
	deprecated map[callSite]float64
}

// session builds the service's binary, starts it and drives it: a chat as
// alice, then bob connecting during his run.
func (w *walk) session(t *testing.T, name string, flags ...string) session {
	t.Helper()
	bin := filepath.Join(w.binDir, "chatd")
	out, err := w.exec(w.dir, "go", "build", "-o", bin, "./cmd/chatd")
	require.NoError(t, err, "%s: go build ./cmd/chatd:\n%s", name, out)

	svc := startService(t, w.ctx, bin, w.env, flags...)
	var s session
	s.transcript, s.sent = chat(t, w.ctx, svc.addr)
	received := connectDuringRun(t, w.ctx, svc.addr)
	s.lost = s.sent - received
	s.deprecated = scrapeDeprecated(t, svc, w)
	s.stderr = svc.stop(t)
	t.Logf("%s: bob received %d of the %d messages of his run, %d lost", name, received, s.sent, s.lost)
	return s
}

// service is a running binary of a bundled service (chatd, pushd).
type service struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{} // closed when stderr is drained

	mu     sync.Mutex
	stderr strings.Builder
}

// listening is the log line of a bundled service's binary (chatd, pushd)
// that says where it listens.
var listening = regexp.MustCompile(`\w+: listening addr=(\S+)`)

// startService runs chatd on a loopback port, with flags; the agent's tools
// take long enough that bob connects while the first one runs.
func startService(t *testing.T, ctx context.Context, bin string, env []string, flags ...string) *service {
	t.Helper()
	return startProgram(t, ctx, bin, env, append([]string{"-addr", "127.0.0.1:0", "-setup-delay", "100ms", "-tool-latency", "250ms"}, flags...)...)
}

// startProgram runs the binary of a bundled service with args and waits
// until it logs where it listens.
func startProgram(t *testing.T, ctx context.Context, bin string, env []string, args ...string) *service {
	t.Helper()
	name := filepath.Base(bin)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	svc := &service{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(func() { // a failed test leaves it running otherwise
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-svc.done
			_ = cmd.Wait()
		}
	})
	addr := make(chan string, 1)
	go func() {
		defer close(svc.done)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			svc.mu.Lock()
			svc.stderr.WriteString(sc.Text() + "\n")
			svc.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case svc.addr = <-addr:
	case <-svc.done:
		_ = cmd.Wait()
		t.Fatalf("%s exited before listening:\n%s", name, svc.log())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("%s did not say where it listens:\n%s", name, svc.log())
	}
	return svc
}

func (s *service) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// stop interrupts the service, waits for it and returns its log.
func (s *service) stop(t *testing.T) string {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(os.Interrupt))
	<-s.done
	assert.NoError(t, s.cmd.Wait(), "%s did not shut down cleanly:\n%s", filepath.Base(s.cmd.Path), s.log())
	return s.log()
}

// Normalisation of what changes from run to run.
var (
	stampRE   = regexp.MustCompile(`"timestamp":"[^"]*"`)
	elapsedRE = regexp.MustCompile(`"execution_time_ms":[-+0-9.eE]+`)
)

func normalize(b []byte, connID string) string {
	s := stampRE.ReplaceAllString(string(b), `"timestamp":"T"`)
	s = elapsedRE.ReplaceAllString(s, `"execution_time_ms":0`)
	if connID != "" {
		s = strings.ReplaceAll(s, `"`+connID+`"`, `"CONN"`)
	}
	return s
}

// frame is the part of a message the walk reads.
type frame struct {
	Type         string `json:"type"`
	RunID        string `json:"run_id"`
	AgentName    string `json:"agent_name"`
	ConnectionID string `json:"connection_id"`
}

func dial(t *testing.T, ctx context.Context, addr, query string) *websocket.Conn {
	t.Helper()
	conn, res, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+addr+"/ws?"+query, nil)
	if res != nil && res.Body != nil {
		_ = res.Body.Close()
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	return conn
}

func readFrame(t *testing.T, conn *websocket.Conn) ([]byte, frame) {
	t.Helper()
	typ, b, err := conn.ReadMessage()
	require.NoError(t, err, "the client stopped hearing from the service")
	require.Equal(t, websocket.TextMessage, typ)
	var f frame
	require.NoError(t, json.Unmarshal(b, &f), "%s", b)
	return b, f
}

// chat is a session as alice in thread-1: connect, post a message and read
// the whole run, list her connections, hear an announcement, send an
// unknown message. It returns every message, normalised, and how many of
// them report the run.
func chat(t *testing.T, ctx context.Context, addr string) (transcript []string, runMessages int) {
	t.Helper()
	conn := dial(t, ctx, addr, "token=tok-alice&thread_id=thread-1")
	b, hello := readFrame(t, conn)
	require.Equal(t, "connection_established", hello.Type, "%s", b)
	id := hello.ConnectionID
	transcript = append(transcript, normalize(b, id))

	require.NoError(t, conn.WriteJSON(map[string]string{"type": "user_message", "thread_id": "thread-1", "content": "what did we decide?"}))
	for {
		b, f := readFrame(t, conn)
		transcript = append(transcript, normalize(b, id))
		if reportsRun(f) {
			runMessages++
		}
		if f.Type == "run_finished" {
			break
		}
	}

	body := httpDo(t, ctx, http.MethodGet, "http://"+addr+"/users/alice/connections", "", "", http.StatusOK)
	transcript = append(transcript, "GET /users/alice/connections: "+strings.TrimSpace(normalize(body, id)))
	httpDo(t, ctx, http.MethodPost, "http://"+addr+"/announcements", "", "back at 10", http.StatusAccepted)
	b, _ = readFrame(t, conn)
	transcript = append(transcript, normalize(b, id))

	require.NoError(t, conn.WriteJSON(map[string]string{"type": "dance"}))
	b, _ = readFrame(t, conn)
	transcript = append(transcript, normalize(b, id))
	return transcript, runMessages
}

// reportsRun reports whether f is one of the messages that tell a user
// about their run: the acknowledgement of their message, sent before the
// run starts, and the agent's events.
func reportsRun(f frame) bool {
	return f.Type == "user_message_received" || f.AgentName != ""
}

// connectDuringRun is the original bug: bob posts a message over HTTP while
// he has no socket, then connects while his run is under way. It returns
// how many messages of the run his client received. The acknowledgement is
// sent before the POST returns, so the legacy manager always loses it.
func connectDuringRun(t *testing.T, ctx context.Context, addr string) (received int) {
	t.Helper()
	runID := postMessage(t, ctx, addr)
	// Bob's phone takes a moment to open the socket: the run has started
	// and reported its first step by then.
	time.Sleep(50 * time.Millisecond)
	conn := dial(t, ctx, addr, "token=tok-bob")
	for {
		_, f := readFrame(t, conn)
		if f.RunID == runID && reportsRun(f) {
			received++
		}
		if f.Type == "run_finished" && f.RunID == runID {
			return received
		}
	}
}

// postMessage posts bob's question in thread-2 over HTTP and returns the
// run's ID; the acknowledgement has been sent when it returns.
func postMessage(t *testing.T, ctx context.Context, addr string) string {
	t.Helper()
	body := httpDo(t, ctx, http.MethodPost, "http://"+addr+"/messages", "tok-bob",
		`{"thread_id":"thread-2","content":"what did we decide?"}`, http.StatusAccepted)
	var run struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.Unmarshal(body, &run), "%s", body)
	require.NotEmpty(t, run.RunID)
	return run.RunID
}

// httpDo sends a request and returns the response body, which must come
// with status want.
func httpDo(t *testing.T, ctx context.Context, method, url, token, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, want, res.StatusCode, "%s %s: %s", method, url, b)
	return b
}

// treeHash hashes the names and contents of the files under dir.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	var names []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, path)
		}
		return err
	}))
	slices.Sort(names)
	for _, n := range names {
		b, err := os.ReadFile(n)
		require.NoError(t, err)
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
