package main

import (
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/codemod"
	"github.com/wsunify/wsunify/internal/testmod"
)

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestReportHistory makes a repository of three commits (legacy, one rule
// applied, all applied) and checks that report -history counts each, on
// worktrees it removes, leaving the user's tree, index and worktrees as
// they were, and that its numbers are plan -json's.
func TestReportHistory(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{"ws/ws.go": legacySrc, "cmd/app/main.go": commandSrc})
	gitIn(t, dir, "init", "-q")
	gitIn(t, dir, "add", ".")
	gitIn(t, dir, "commit", "-qm", "legacy")
	want := []int{}
	for _, args := range [][]string{{"apply", "-rule", "message-type"}, {"apply"}} {
		_, stdout, _ := wsunify("plan", "-C", dir, "-json", "./...")
		want = append(want, planTotal(t, stdout))
		if code, stdout, stderr := wsunify(append(append([]string{}, args...), "-C", dir, "./...")...); code != exitOK {
			t.Fatalf("%v = %d\n%s%s", args, code, stdout, stderr)
		}
		gitIn(t, dir, "commit", "-qam", strings.Join(args, " "))
	}
	want = append(want, 0)
	// The user's uncommitted work: a change in the tree and one staged.
	if err := os.WriteFile(filepath.Join(dir, "ws/ws.go"), []byte(legacySrc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "add", "notes.txt")
	status := gitIn(t, dir, "status", "--porcelain")
	worktrees := gitIn(t, dir, "worktree", "list")

	code, _, stderr := wsunify("report", "-C", dir, "-history", "5", "-o", "report.html", "./...")
	if code != exitOK {
		t.Fatalf("report = %d\n%s", code, stderr)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "report.html"))
	if got := gitIn(t, dir, "status", "--porcelain"); got != status {
		t.Errorf("git status changed:\n%s\nwas\n%s", got, status)
	}
	if got := gitIn(t, dir, "worktree", "list"); got != worktrees {
		t.Errorf("worktrees left:\n%s", got)
	}

	var got []int
	for _, m := range regexp.MustCompile(`<tr class="commit" data-commit="[0-9a-f]+" data-total="(-?\d+)"`).FindAllSubmatch(html, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		got = append(got, n)
	}
	if !slices.Equal(got, want) {
		t.Errorf("history %v, want %v (oldest first)", got, want)
	}
	if n := strings.Count(string(html), `<circle class="commit"`); n != len(want) {
		t.Errorf("%d points in the chart, want %d", n, len(want))
	}
	// The tree is back to the legacy source: its total is plan's.
	_, stdout, _ := wsunify("plan", "-C", dir, "-json", "./...")
	total := planTotal(t, stdout)
	if !strings.Contains(string(html), `id="total" data-value="`+strconv.Itoa(total)+`"`) {
		t.Errorf("the report's total is not plan's %d", total)
	}
	if !strings.Contains(string(html), `<b id="share-done">0%</b>`) {
		t.Errorf("share done: want 0%% (the tree has all %d uses again)", total)
	}
	// Each rule's row says what the rule is, in the recipe's words.
	rules, err := codemod.BuiltinRules(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`<tr class="rule" data-rule="([^"]+)"[^>]*>[^<]*<td class="name">[^<]*</td><td class="n">\d+</td>\s*<td class="barcell"><div[^>]*></div><span class="detail" title="([^"]*)">([^<]*)</span>`).FindAllSubmatch(html, -1)
	if len(rows) == 0 {
		t.Errorf("no rule row with a described rule in the report")
	}
	for _, m := range rows {
		id, help, detail := string(m[1]), htmlText(string(m[2])), htmlText(string(m[3]))
		i := slices.IndexFunc(rules, func(r *codemod.Rule) bool { return r.ID == id })
		if i < 0 {
			t.Errorf("rule row %s: no such rule in the built-in recipe", id)
			continue
		}
		if r := rules[i]; detail != r.Doc || help != r.Legacy+" → "+r.Form {
			t.Errorf("rule row %s: detail %q title %q, want the recipe's %q and %q", id, detail, help, r.Doc, r.Legacy+" → "+r.Form)
		}
	}
	for _, bad := range []string{"<script src", "<link", "http://", "https://"} {
		if strings.Contains(string(html), bad) {
			t.Errorf("the report is not self-contained: it has %q", bad)
		}
	}
}

func planTotal(t *testing.T, stdout string) int {
	t.Helper()
	var plan codemod.Plan
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatalf("plan -json: %v\n%s", err, stdout)
	}
	return plan.Total()
}

// htmlText undoes html/template's escaping of text.
func htmlText(s string) string { return html.UnescapeString(s) }
