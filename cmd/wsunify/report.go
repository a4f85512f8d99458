package main

import (
	"bytes"
	"context"
	"encoding/json"
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

const reportHelp = `usage: wsunify report [-o FILE] [-history N] [plan flags] [packages]

report writes the state of the migration as one self-contained HTML file
(no external assets, no network): the legacy uses left per package and per
rule, the share done, each finding with its source lines, reason and
related positions, and the next wsunify apply command. Its numbers are the
ones "wsunify plan -json" prints for the same flags and tree.

  -o FILE       write the report to FILE (default: standard output)
  -history N    in a git repository, also chart the legacy uses left at each
                of the last N commits of the current branch, each counted on
                a temporary git worktree that is removed afterwards; the
                share done is measured against the most uses in that window

The other flags are plan's (-C, -rule, -shape, -test ...); see
"wsunify plan -h".
`

// reportArgs are report's own flags, split from those it hands to plan.
type reportArgs struct {
	out      string
	history  int
	dir      chdirFlag
	progress progressFlag
	plan     []string // plan's flags and the patterns, without -C
}

func parseReportArgs(args []string) (*reportArgs, error) {
	r := &reportArgs{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			r.plan = append(r.plan, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "o", "history", "C":
		default:
			r.plan = append(r.plan, a)
			// A plan flag's value follows it unless given with =.
			if !hasValue && slices.Contains([]string{"rule", "shape", "progress", "recipe"}, name) && i+1 < len(args) {
				i++
				r.plan = append(r.plan, args[i])
				value = args[i]
			}
			if name == "progress" {
				if err := r.progress.Set(value); err != nil {
					return nil, fmt.Errorf("-progress: %v", err)
				}
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag needs an argument: -%s", name)
			}
			i++
			value = args[i]
		}
		switch name {
		case "o":
			r.out = value
		case "C":
			r.dir.Set(value)
		case "history":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("-history %q: want a number of commits", value)
			}
			r.history = n
		}
	}
	return r, nil
}

// runReport runs report.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprint(stderr, reportHelp)
			return exitOK
		}
	}
	ra, err := parseReportArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "wsunify: report: %v\n\n%s", err, reportHelp)
		return exitUsage
	}
	if err := ra.dir.check(); err != nil {
		fmt.Fprintln(stderr, "wsunify:", err)
		return exitFailure
	}
	base, err := filepath.Abs(string(ra.dir))
	if err != nil {
		fmt.Fprintln(stderr, "wsunify:", err)
		return exitFailure
	}
	pl := newProgress(stderr, ra.progress)
	defer pl.clear()
	stdout, stderr = pl.before(stdout), pl.before(stderr)
	start := time.Now()
	pl.printf("taking the inventory")
	plan, code := planJSON(ctx, base, ra.plan, stderr)
	if plan == nil {
		return code
	}
	data := newReportData(base, ra.plan, plan)
	if ra.history > 0 {
		hist, err := history(ctx, base, ra.history, ra.plan, pl)
		if err != nil {
			fmt.Fprintln(stderr, "wsunify: report: -history:", err)
			return exitFailure
		}
		data.setHistory(hist)
	}
	data.Elapsed = time.Since(start).Round(time.Millisecond).String()

	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, data); err != nil {
		fmt.Fprintln(stderr, "wsunify: report:", err)
		return exitFailure
	}
	if ra.out == "" || ra.out == "-" {
		stdout.Write(buf.Bytes())
		return exitOK
	}
	out := ra.out
	if !filepath.IsAbs(out) && ra.dir != "" {
		out = filepath.Join(string(ra.dir), out)
	}
	if err := writeAll(ctx, []codemod.FileChange{{Name: mustAbs(out), New: buf.Bytes()}}); err != nil {
		fmt.Fprintln(stderr, "wsunify: report:", err)
		return exitFailure
	}
	fmt.Fprintln(stderr, "wrote", out)
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
	if code := runMigrate(ctx, "plan", a, &out, stderr); code != exitOK {
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
func history(ctx context.Context, dir string, n int, args []string, pl *progressLine) ([]point, error) {
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
	quiet := []string{"-progress=never"}
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		switch {
		case !strings.HasPrefix(args[i], "-"):
			quiet = append(quiet, args[i:]...)
			i = len(args)
		case name == "progress" && !hasValue:
			i++
		case name != "progress":
			quiet = append(quiet, args[i])
		}
	}
	var points []point
	lines := strings.Split(log, "\n")
	for i, line := range lines {
		pl.printf("history: commit %d of %d", i+1, len(lines))
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
