package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wsunify/wsunify/codemod"
	"github.com/wsunify/wsunify/internal/testmod"
)

// ciSrc has uses apply rewrites (SendToUser, IsConnectionActive) and one it
// leaves with a finding (a method's parameter, whose signature may satisfy
// an interface).
const ciSrc = `package ws

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

// Greet sends one message.
func Greet(ctx context.Context, m bridge.WebSocketManager, user string) error {
	return m.SendToUser(ctx, user, bridge.Message{"type": "hello"})
}

// S is a type with a method.
type S struct{}

// Active asks the manager.
func (S) Active(m bridge.WebSocketManager, user string) bool { return m != nil && m.IsConnectionActive(user) }
`

// ghLine is a workflow command as GitHub documents it:
// ::LEVEL file=F,line=L,col=C,title=T::MESSAGE, where the properties have
// %, CR, LF, ':' and ',' escaped and the message %, CR and LF.
var ghLine = regexp.MustCompile(`^::(warning|notice|error) file=([^,:]+),line=(\d+),col=(\d+),title=([^,:]+)::([^\r\n]*)$`)

var ghUnescape = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace

func TestGitHubFormat(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": ciSrc, "cmd/app/main.go": commandSrc})
	// The repository is the module's parent: paths are relative to it.
	top := filepath.Dir(dir)
	git := exec.Command("git", "init", "-q", top)
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	src, err := os.ReadFile(filepath.Join(dir, "ws/ws.go"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	for _, cmd := range []string{"check", "plan"} {
		code, stdout, stderr := wsunify(cmd, "-C", dir, "-format=github", "./...")
		if want := map[string]int{"check": exitFindings, "plan": exitOK}[cmd]; code != want {
			t.Fatalf("%s = %d, want %d\n%s", cmd, code, want, stderr)
		}
		levels := map[string]int{}
		rules := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
			m := ghLine.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("%s: not a workflow command: %q", cmd, l)
				continue
			}
			levels[m[1]]++
			if want := filepath.Base(dir) + "/ws/ws.go"; ghUnescape(m[2]) != want {
				t.Errorf("%s: file=%s, want %s", cmd, m[2], want)
			}
			line, _ := strconv.Atoi(m[3])
			col, _ := strconv.Atoi(m[4])
			title := ghUnescape(m[5])
			rule := strings.TrimPrefix(title, "wsunify ")
			rules[rule] = true
			if line < 1 || line > len(lines) || col < 1 || col > len(lines[line-1]) {
				t.Errorf("%s: %d:%d is not in the file", cmd, line, col)
				continue
			}
			// The position is on the legacy call the rule names.
			method := map[string]string{"send-to-user": "SendToUser", "is-connection-active": "IsConnectionActive"}[rule]
			if method != "" && !strings.HasPrefix(lines[line-1][col-1:], method) {
				t.Errorf("%s: %s at %d:%d points at %q", cmd, rule, line, col, lines[line-1][col-1:])
			}
			if msg := ghUnescape(m[6]); msg == "" {
				t.Errorf("%s: empty message: %q", cmd, l)
			}
		}
		// A warning per finding (the retype of Active's m), a notice per
		// other use.
		if levels["warning"] != 1 || levels["notice"] != 5 || !rules["send-to-user"] || !rules["is-connection-active"] {
			t.Errorf("%s: want 1 warning (the finding) and 5 notices (the other uses), got %v %v:\n%s", cmd, levels, rules, stdout)
		}
	}
}

func TestGitHubEscaping(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := ghCommand(&b, "warning", "a,b:c%.go", 3, 4, "t, i: t", "100% sure\r\nnext: line, more"); err != nil {
		t.Fatal(err)
	}
	const want = "::warning file=a%2Cb%3Ac%25.go,line=3,col=4,title=t%2C i%3A t::100%25 sure%0D%0Anext: line, more\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}

func TestSARIFValidates(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": ciSrc, "cmd/app/main.go": commandSrc})
	code, stdout, stderr := wsunify("check", "-C", dir, "-format=sarif", "./...")
	if code != exitFindings {
		t.Fatalf("check -format=sarif = %d\n%s", code, stderr)
	}

	log := validSARIF(t, stdout)
	run := log.Runs[0]
	rules, err := codemod.BuiltinRules(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		i := findRule(run.Tool.Driver.Rules, r.ID)
		if i < 0 || !strings.Contains(run.Tool.Driver.Rules[i].Help.Text, r.Form) {
			t.Errorf("rule %s missing, or its help does not give the migrated form", r.ID)
		}
	}
	// The schema accepts a log without results: check what it holds.
	levels := map[string]int{}
	for _, res := range run.Results {
		levels[res.Level]++
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("ruleIndex %d is not %s", res.RuleIndex, res.RuleID)
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != "ws/ws.go" || loc.ArtifactLocation.URIBaseID != srcRoot || loc.Region.StartLine < 1 {
			t.Errorf("location %+v: want ws/ws.go relative to %s", loc, srcRoot)
		}
	}
	if levels["warning"] != 1 || levels["note"] != 5 {
		t.Errorf("want 1 warning (the finding) and 5 notes (the other uses), got %v", levels)
	}
}

func findRule(rules []sarifRule, id string) int {
	for i, r := range rules {
		if r.ID == id {
			return i
		}
	}
	return -1
}

// TestSARIFRelated validates the SARIF of the bundled service, whose
// findings have related locations.
func TestSARIFRelated(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := wsunify("plan", "-C", "../../testdata/chatapp", "-format=sarif", "./...")
	if code != exitOK {
		t.Fatalf("plan -format=sarif = %d\n%s", code, stderr)
	}
	log := validSARIF(t, stdout)
	related := 0
	for _, res := range log.Runs[0].Results {
		for _, r := range res.RelatedLocations {
			related++
			if r.Message == nil || r.Message.Text == "" || !strings.HasSuffix(r.PhysicalLocation.ArtifactLocation.URI, ".go") || filepath.IsAbs(r.PhysicalLocation.ArtifactLocation.URI) {
				t.Errorf("related location %+v: want a message and a path relative to the repository's root", r)
			}
		}
	}
	if related == 0 {
		t.Error("no related locations in the bundled service's findings")
	}
}

// validSARIF validates out against the SARIF 2.1.0 schema and decodes it.
func validSARIF(t *testing.T, out string) sarifLog {
	t.Helper()
	schemaFile, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer schemaFile.Close()
	doc, err := jsonschema.UnmarshalJSON(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("invalid SARIF 2.1.0: %v\n%s", err, out)
	}
	var log sarifLog
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatal(err)
	}
	return log
}

// TestPlanJSONRelated: plan -format=json gives a finding's related places
// as structured positions, relative as the text output's, on the files as
// they are on disk.
func TestPlanJSONRelated(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{
		"cmd/app/main.go": svcCommandSrc,
		"svc/svc.go":      svcSrc,
		"svc/new.go": `package svc

import "github.com/wsunify/wsunify/bridge"

// New builds a service.
func New(m bridge.WebSocketManager) *Service { return &Service{m: m} }

// Managers lists the manager.
func (s *Service) Managers() []bridge.WebSocketManager { return []bridge.WebSocketManager{s.m} }
`,
	})
	code, stdout, stderr := wsunify("plan", "-format=json", "-C", dir, "./...")
	if code != exitOK {
		t.Fatalf("plan -format=json = %d\n%s%s", code, stdout, stderr)
	}
	var plan struct {
		Findings []struct {
			Pos     codemod.Position `json:"pos"`
			Message string           `json:"message"`
			Related []struct {
				Pos     codemod.Position `json:"pos"`
				Message string           `json:"message"`
			} `json:"related"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	want := codemod.Position{File: "svc/new.go", Line: 6, Column: 67}
	for _, f := range plan.Findings {
		for _, r := range f.Related {
			if r.Pos == want && r.Message == "its value flows into m, which keeps its legacy type" && f.Pos == (codemod.Position{File: "svc/new.go", Line: 6, Column: 10}) {
				return
			}
		}
	}
	t.Errorf("no finding at svc/new.go:6:10 with the related place %+v, \"its value flows into m, which keeps its legacy type\":\n%s", want, stdout)
}
