package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsunify/wsunify/codemod"
)

var cmdReport = &command{
	Name:      "report",
	UsageLine: "report [-o FILE] [-history N] [plan flags] [packages]",
	Short:     "the migration's state as one self-contained HTML file",
	Long: `report writes the state of the migration as one self-contained HTML file
(no external assets, no network): the legacy uses left per package and per
rule, the share done, each finding with its source lines, reason and
related positions, and the next wsunify apply command. Its numbers are the
ones "wsunify plan -json" prints for the same flags and tree.

-history N, in a git repository, also charts the legacy uses left at each
of the last N commits of the current branch, each counted on a temporary
git worktree that is removed afterwards; the share done is measured
against the most uses in that window. The other flags are plan's.
`,
	Progress: true,
	Flags: func(fs *flag.FlagSet, inv *invocation) func(context.Context, []string) int {
		ra := &reportArgs{}
		fs.StringVar(&ra.out, "o", "", "write the report to `FILE` (default: standard output)")
		fs.IntVar(&ra.history, "history", 0, "also chart the legacy uses left at each of the last `N` commits")
		// plan's flags, recorded as given: report hands them to plan.
		pf := flag.NewFlagSet("plan", flag.ContinueOnError)
		(&migrateFlags{cmd: "plan"}).declare(pf)
		pf.VisitAll(func(f *flag.Flag) {
			if f.Name == "json" || f.Name == "format" {
				return // report asks plan for JSON itself
			}
			r := recordedFlag{f.Value, "-" + f.Name, &ra.plan}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				fs.Var(&recordedBool{r}, f.Name, f.Usage)
			} else {
				fs.Var(&r, f.Name, f.Usage)
			}
		})
		return func(ctx context.Context, patterns []string) int {
			if ra.history < 0 {
				return inv.usagef("-history %d: want a number of commits", ra.history)
			}
			ra.plan = append(ra.plan, patterns...)
			return runReport(ctx, inv, ra)
		}
	},
}

// recordedFlag is a flag of plan that report takes: setting it records
// "-name=value" for plan.
type recordedFlag struct {
	flag.Value
	name string
	args *[]string
}

func (f *recordedFlag) String() string {
	if f == nil || f.Value == nil {
		return "" // the zero value, for flag.PrintDefaults
	}
	return f.Value.String()
}

func (f *recordedFlag) Set(v string) error {
	*f.args = append(*f.args, f.name+"="+v)
	return f.Value.Set(v)
}

// recordedBool is a recordedFlag that may stand alone (-generated,
// -test=false).
type recordedBool struct{ recordedFlag }

func (f *recordedBool) IsBoolFlag() bool { return true }

func (f *recordedBool) String() string {
	if f == nil || f.Value == nil {
		return "false" // the zero value, for flag.PrintDefaults
	}
	return f.Value.String()
}

// reportArgs are report's flags.
type reportArgs struct {
	out     string
	history int
	plan    []string // plan's flags and the patterns, without -C
}

// runReport runs report.
func runReport(ctx context.Context, inv *invocation, ra *reportArgs) int {
	start := time.Now()
	inv.printf("taking the inventory")
	plan, code := planJSON(ctx, inv.base, append([]string{"-progress=" + string(inv.progressMode)}, ra.plan...), inv.stderr)
	if plan == nil {
		return code
	}
	data := newReportData(inv.base, ra.plan, plan)
	if ra.history > 0 {
		hist, err := history(ctx, inv.base, ra.history, ra.plan, inv)
		if err != nil {
			return inv.failf("-history: %v", err)
		}
		data.setHistory(hist)
	}
	data.Elapsed = time.Since(start).Round(time.Millisecond).String()

	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, data); err != nil {
		return inv.fail(err)
	}
	if ra.out == "" || ra.out == "-" {
		inv.stdout.Write(buf.Bytes())
		return exitOK
	}
	out := ra.out
	if !filepath.IsAbs(out) && inv.dir != "" {
		out = filepath.Join(string(inv.dir), out)
	}
	if err := writeAll(ctx, []codemod.FileChange{{Name: mustAbs(out), New: buf.Bytes()}}); err != nil {
		return inv.fail(err)
	}
	fmt.Fprintln(inv.stdout, "wrote", out)
	return exitOK
}

func mustAbs(name string) string {
	if a, err := filepath.Abs(name); err == nil {
		return a
	}
	return name
}

// planJSON runs "wsunify plan -format=json" in dir with the given flags and
// patterns: the report shows exactly its numbers. On failure it returns
// nil and plan's exit code, having said why on stderr.
func planJSON(ctx context.Context, dir string, args []string, stderr io.Writer) (*codemod.Plan, int) {
	var out bytes.Buffer
	a := append([]string{"-C", dir, "-format=json"}, args...)
	if code := cmdPlan.run(ctx, a, &out, stderr); code != exitOK {
		return nil, code
	}
	var plan codemod.Plan
	if err := json.Unmarshal(out.Bytes(), &plan); err != nil {
		fmt.Fprintln(stderr, "wsunify: report: reading the plan:", err)
		return nil, exitFailure
	}
	return &plan, exitOK
}

// point is the legacy uses left at one commit.
type point struct {
	Commit  string
	Subject string
	Date    string
	Total   int
	Err     string // why the commit could not be counted; Total is then -1
}

// history counts the legacy uses left at each of the last n commits of the
// current branch (first parents, oldest first), each on a temporary
// detached worktree of the repository of dir, removed afterwards: the
// user's tree and index are never touched.
func history(ctx context.Context, dir string, n int, args []string, inv *invocation) ([]point, error) {
	git := func(dir string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out)), nil
	}
	top, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("not in a git repository: %w", err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	sub, err := filepath.Rel(top, realDir)
	if err != nil {
		return nil, err
	}
	log, err := git(dir, "log", "--first-parent", "-n", strconv.Itoa(n), "--format=%H%x09%cs%x09%s", "HEAD")
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "wsunify-history-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// Each commit's plan draws nothing: the line says which commit it is.
	quiet := append([]string{"-progress=never"}, args...)
	var points []point
	lines := strings.Split(log, "\n")
	for i, line := range lines {
		inv.printf("history: commit %d of %d", i+1, len(lines))
		f := strings.SplitN(line, "\t", 3)
		if len(f) < 3 {
			continue
		}
		p := point{Commit: f[0][:12], Date: f[1], Subject: f[2], Total: -1}
		wt := filepath.Join(tmp, strconv.Itoa(i))
		if _, err := git(dir, "worktree", "add", "--detach", "--quiet", wt, f[0]); err != nil {
			return nil, err
		}
		var errb bytes.Buffer
		plan, _ := planJSON(ctx, filepath.Join(wt, sub), quiet, &errb)
		_, rmErr := git(dir, "worktree", "remove", "--force", wt)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if rmErr != nil {
			return nil, rmErr
		}
		if plan != nil {
			p.Total = plan.Total()
		} else {
			p.Err = firstLine(errb.String())
		}
		points = append(points, p)
	}
	if _, err := git(dir, "worktree", "prune"); err != nil {
		return nil, err
	}
	slices.Reverse(points)
	return points, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
