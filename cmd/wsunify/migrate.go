package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wsunify/wsunify/codemod"
)

var commandHelp = map[string]string{
	"plan":  "plan lists the legacy uses left, per rule and per package, and what the next apply would do.",
	"diff":  "diff prints the unified diff of what apply would write. It writes nothing.",
	"apply": "apply rewrites the packages in place, step by step, writing only when the result type-checks.",
	"check": "check exits 3 when legacy uses remain, 0 when none do, 1 when the tool fails.",
}

// shapeFlags collects repeated -shape flags.
type shapeFlags map[codemod.Shape][]string

func (s shapeFlags) String() string { return "" }

func (s shapeFlags) Set(v string) error {
	shape, typ, err := codemod.ParseShape(v)
	if err != nil {
		return err
	}
	s[shape] = append(s[shape], typ)
	return nil
}

// runMigrate runs plan, diff, apply or check.
func runMigrate(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsunify "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("C", "", "change to `dir` before running, as the go command does")
	rules := fs.String("rule", "", "comma-separated rule `IDs` to apply (default all): "+ruleList())
	shapes := shapeFlags{}
	fs.Var(shapes, "shape", "`Shape=pkg.Type`: the user's type plays a legacy shape (WebSocketManager or AgentWebSocketBridge); repeatable")
	tests := fs.Bool("test", true, "also load, rewrite and check the packages' _test.go files")
	jsonOut := false
	if cmd == "plan" {
		fs.BoolVar(&jsonOut, "json", false, "print the plan as JSON")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: wsunify %s [flags] [packages]\n\n%s\n\nFlags:\n", cmd, commandHelp[cmd])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	ruleSet, err := codemod.ParseRuleSet(*rules)
	if err != nil {
		fmt.Fprintln(stderr, "wsunify:", err)
		return exitUsage
	}
	opts := &codemod.Options{Rules: ruleSet, Shapes: shapes}
	progress := progressTo(stderr)

	legacyPaths := []string{codemod.BridgePath}
	for _, types := range shapes {
		for _, t := range types {
			legacyPaths = append(legacyPaths, t[:strings.LastIndex(t, ".")])
		}
	}
	progress("loading packages")
	prog, err := codemod.Load(ctx, &codemod.LoadConfig{Dir: *dir, LegacyPaths: legacyPaths, NoTests: !*tests}, fs.Args()...)
	if err != nil {
		fmt.Fprintln(stderr, "wsunify:", err)
		return exitFailure
	}
	if err := prog.Err(); err != nil {
		fmt.Fprintf(stderr, "wsunify: %s: refusing to rewrite packages that do not type-check; nothing written\n%v\n", cmd, err)
		return exitFailure
	}
	base := *dir
	if base == "" {
		base, _ = os.Getwd()
	}
	rel := func(name string) string {
		if r, err := filepath.Rel(base, name); err == nil && !strings.HasPrefix(r, "..") {
			return filepath.ToSlash(r)
		}
		return name
	}

	switch cmd {
	case "plan", "check":
		progress("taking the inventory of %d packages", len(prog.Packages))
		plan, err := codemod.Inventory(prog, opts)
		if err != nil {
			fmt.Fprintln(stderr, "wsunify:", err)
			return exitFailure
		}
		for i := range plan.Findings {
			plan.Findings[i].Pos.Filename = rel(plan.Findings[i].Pos.Filename)
		}
		if cmd == "check" {
			return printCheck(stdout, plan)
		}
		if jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(plan); err != nil {
				fmt.Fprintln(stderr, "wsunify:", err)
				return exitFailure
			}
			return exitOK
		}
		printPlan(stdout, plan)
		return exitOK
	}

	progress("rewriting %d packages", len(prog.Packages))
	res, _, err := codemod.Migrate(ctx, prog, opts)
	if err != nil {
		fmt.Fprintf(stderr, "wsunify: %s: %v\nnothing written\n", cmd, err)
		return exitFailure
	}
	if cmd == "diff" {
		for _, c := range res.Changes {
			stdout.Write(codemod.UnifiedDiff(rel(c.Name), c.Old, c.New))
		}
		printFindings(stderr, res.Findings, rel)
		return exitOK
	}
	progress("writing %d files", len(res.Changes))
	if err := writeAll(ctx, res.Changes); err != nil {
		fmt.Fprintln(stderr, "wsunify: apply:", err)
		return exitFailure
	}
	sites := 0
	for _, n := range res.Rewritten {
		sites += n
	}
	for _, c := range res.Changes {
		fmt.Fprintln(stdout, "wrote", rel(c.Name))
	}
	fmt.Fprintf(stdout, "%d sites rewritten in %d files; %d findings left\n", sites, len(res.Changes), len(res.Findings))
	printFindings(stdout, res.Findings, rel)
	return exitOK
}

func ruleList() string {
	ids := make([]string, len(codemod.Rules))
	for i, r := range codemod.Rules {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

func printFindings(w io.Writer, fs []codemod.Finding, rel func(string) string) {
	for _, f := range fs {
		f.Pos.Filename = rel(f.Pos.Filename)
		fmt.Fprintln(w, f)
	}
}

func printPlan(w io.Writer, plan *codemod.Plan) {
	if plan.Total() == 0 {
		fmt.Fprintln(w, "no legacy uses left")
		return
	}
	fmt.Fprintf(w, "%d legacy uses left\n\nper rule:\n", plan.Total())
	for _, id := range sortedKeys(plan.Remaining) {
		fmt.Fprintf(w, "  %-22s %d\n", id, plan.Remaining[id])
	}
	fmt.Fprintln(w, "\nper package:")
	for _, p := range plan.Packages {
		var parts []string
		n := 0
		for _, id := range sortedKeys(p.Uses) {
			parts = append(parts, fmt.Sprintf("%s %d", id, p.Uses[id]))
			n += p.Uses[id]
		}
		fmt.Fprintf(w, "  %s: %d (%s)\n", p.Path, n, strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	if plan.Next != nil {
		var parts []string
		n := 0
		for _, id := range sortedKeys(plan.Next.Sites) {
			parts = append(parts, fmt.Sprintf("%s %d", id, plan.Next.Sites[id]))
			n += plan.Next.Sites[id]
		}
		fmt.Fprintf(w, "next step (%s): wsunify apply rewrites %d sites in %d files (%s)\n",
			plan.Next.Step, n, plan.Next.Files, strings.Join(parts, ", "))
	} else {
		fmt.Fprintln(w, "next step: nothing can be rewritten automatically; see the findings")
	}
	if len(plan.Findings) > 0 {
		fmt.Fprintln(w, "\nfindings:")
		for _, f := range plan.Findings {
			fmt.Fprintln(w, " ", f)
		}
	}
}

func printCheck(w io.Writer, plan *codemod.Plan) int {
	if plan.Total() == 0 {
		fmt.Fprintln(w, "ok: no legacy uses")
		return exitOK
	}
	for _, p := range plan.Packages {
		n := 0
		for _, v := range p.Uses {
			n += v
		}
		fmt.Fprintf(w, "%s: %d legacy uses\n", p.Path, n)
	}
	fmt.Fprintf(w, "%d legacy uses left; run wsunify plan for details\n", plan.Total())
	return exitFindings
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// progressTo returns a printer of progress lines, which writes only when w
// is a terminal.
func progressTo(w io.Writer) func(format string, args ...any) {
	f, ok := w.(*os.File)
	if !ok {
		return func(string, ...any) {}
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) {
		fmt.Fprintf(w, "wsunify: "+format+"…\n", args...)
	}
}
