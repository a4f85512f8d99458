package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReportInBrowser renders `wsunify report` of the bundled service
// before the migration, half-way through MIGRATION.md (after step 3: the
// call sites rewritten, the declarations not yet retyped) and at its end
// (after step 4), opens each in headless Chromium and reads what the page
// shows: the total, the uses per package and per rule, and the findings
// must be those of `wsunify plan -json` for the same tree. A screenshot
// of each is saved under the test's temporary directory.
//
// Like TestBrowser it needs Debian's chromium, and fails without it.
func TestReportInBrowser(t *testing.T) {
	t.Parallel()
	chromium := findChromium(t)
	w := newWalk(t)
	b := newBrowser(t, w.ctx, chromium)
	shots := t.TempDir()

	stages := []struct {
		name  string
		steps []string // the titles of the guide's steps to walk first
	}{
		{"before", nil},
		{"half-way", []string{"2a. Swap the implementation", "2b. Delete the old implementation",
			"3. Rewrite the call sites, rule by rule, package by package"}},
		{"after", []string{"4. Retype the declarations"}},
	}
	for _, st := range stages {
		for _, title := range st.steps {
			i := slices.IndexFunc(guide, func(s step) bool { return s.title == title })
			require.GreaterOrEqual(t, i, 0, "MIGRATION.md has no step %q", title)
			for _, c := range guide[i].cmds {
				// The go command's checks are TestMigration's; the report
				// needs only the rewrites.
				if strings.HasPrefix(c.line, "go ") || strings.Contains(c.line, "go test") {
					continue
				}
				w.run(t, title, c)
			}
		}

		out, err := w.exec(w.dir, filepath.Join(w.binDir, "wsunify"), "plan", "-json", "./...")
		require.NoError(t, err, "%s: wsunify plan -json:\n%s", st.name, out)
		var plan struct {
			Packages []struct {
				Path string         `json:"path"`
				Uses map[string]int `json:"uses"`
			} `json:"packages"`
			Remaining map[string]int `json:"remaining"`
			Next      *struct {
				Sites map[string]int `json:"sites"`
				Files int            `json:"files"`
			} `json:"next"`
			Findings []struct {
				Pos struct {
					File   string `json:"file"`
					Line   int    `json:"line"`
					Column int    `json:"column"`
				} `json:"pos"`
				Rule    string `json:"rule"`
				Message string `json:"message"`
			} `json:"findings"`
		}
		require.NoError(t, json.Unmarshal(out, &plan), "%s", out)

		html := filepath.Join(t.TempDir(), "report-"+st.name+".html")
		began := time.Now()
		out, err = w.exec(w.dir, filepath.Join(w.binDir, "wsunify"), "report", "-o", html, "./...")
		require.NoError(t, err, "%s: wsunify report:\n%s", st.name, out)
		t.Logf("%s: wsunify report took %v", st.name, time.Since(began).Round(time.Millisecond))

		page := readReport(t, b, "file://"+html, filepath.Join(shots, "report-"+st.name+".png"))

		total := 0
		wantRules := map[string]int{}
		for id, n := range plan.Remaining {
			total += n
			wantRules[id] = n
		}
		wantPkgs := map[string]int{}
		for _, p := range plan.Packages {
			for _, n := range p.Uses {
				wantPkgs[p.Path] += n
			}
		}
		wantFindings := []string{}
		for _, f := range plan.Findings {
			wantFindings = append(wantFindings, fmt.Sprintf("%s:%d:%d %s: %s", f.Pos.File, f.Pos.Line, f.Pos.Column, f.Rule, f.Message))
		}
		assert.Equal(t, total, page.Total, "%s: the total", st.name)
		assert.Equal(t, wantPkgs, page.Packages, "%s: the uses per package", st.name)
		assert.Equal(t, wantRules, page.Rules, "%s: the uses per rule", st.name)
		assert.Equal(t, wantFindings, page.Findings, "%s: the findings", st.name)
		if plan.Next != nil {
			sites := 0
			for _, n := range plan.Next.Sites {
				sites += n
			}
			assert.Equal(t, fmt.Sprintf("%d %d wsunify apply ./...", sites, plan.Next.Files), page.Next, "%s: the next step", st.name)
		} else {
			assert.Empty(t, page.Next, "%s: a next step shown when plan has none", st.name)
		}
		t.Logf("%s: the page shows %d legacy uses in %d packages, %d findings", st.name, page.Total, len(page.Packages), len(page.Findings))
		switch st.name {
		case "before":
			assert.Positive(t, page.Total, "the legacy service has legacy uses")
		case "after":
			assert.Zero(t, page.Total, "legacy uses left after step 4")
		}
	}
}

// reportPage is what the report's page shows, read from its DOM.
type reportPage struct {
	Total    int            `json:"total"`
	Packages map[string]int `json:"packages"`
	Rules    map[string]int `json:"rules"`
	Findings []string       `json:"findings"` // "file:line:col rule: message"
	Next     string         `json:"next"`     // "sites files command", "" when none
	Shown    bool           `json:"shown"`    // the figures are laid out (visible)
}

const readReportJS = `(() => {
	const text = el => el ? el.textContent.trim() : "";
	const num = s => Number(s);
	const packages = {}, rules = {};
	for (const tr of document.querySelectorAll("tr.package")) packages[text(tr.querySelector(".name"))] = num(text(tr.querySelector(".n")));
	for (const tr of document.querySelectorAll("tr.rule")) rules[text(tr.querySelector(".name"))] = num(text(tr.querySelector(".n")));
	const findings = [...document.querySelectorAll("li.finding")].map(li =>
		text(li.querySelector(".where")) + " " + text(li.querySelector(".rule")) + ": " + text(li.querySelector(".message")));
	const cmd = document.getElementById("next-command");
	const next = cmd ? text(document.getElementById("next-sites")) + " " + text(document.getElementById("next-files")) + " " + text(cmd) : "";
	const total = document.getElementById("total");
	return {total: num(text(total)), packages, rules, findings, next, shown: total.getBoundingClientRect().height > 0};
})()`

// readReport opens a report in a new tab of b, reads it and saves a
// screenshot of it at shot.
func readReport(t *testing.T, b *browser, url, shot string) reportPage {
	t.Helper()
	tab, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	ctx, cancelWait := context.WithTimeout(tab, 60*time.Second)
	defer cancelWait()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#total"))), "open %s", url)
	page, err := chromedp.Run(ctx, chromedp.Evaluate[reportPage](readReportJS))
	require.NoError(t, err, "read %s", url)
	require.True(t, page.Shown, "the total is not laid out")
	if page.Packages == nil {
		page.Packages = map[string]int{}
	}
	if page.Findings == nil {
		page.Findings = []string{}
	}
	if page.Rules == nil {
		page.Rules = map[string]int{}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	require.NoError(t, err, "screenshot %s", url)
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("screenshot of %s: %s", url, shot)
	return page
}
