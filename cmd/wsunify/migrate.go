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
	"github.com/wsunify/wsunify/codemod/recipe"
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
	var dir chdirFlag
	fs.Var(&dir, "C", "change to `dir` before running, as the go command does")
	rules := fs.String("rule", "", "comma-separated rule `IDs` to apply (default all; plan lists them)")
	recipeFile := fs.String("recipe", "", "run the rules of this recipe `file` (a Go file of rule pairs; see MIGRATION.md) instead of the built-in recipe")
	shapes := shapeFlags{}
	fs.Var(shapes, "shape", "`Shape=pkg.Type`: the user's type plays a legacy shape (WebSocketManager or AgentWebSocketBridge); repeatable")
	tests := fs.Bool("test", true, "also load, rewrite and check the packages' _test.go files")
	generated := fs.Bool("generated", false, "also rewrite generated files (// Code generated … DO NOT EDIT.), which are otherwise left alone with a finding")
	goos := fs.String("goos", "", "comma-separated `GOOS` values to check, one build configuration each (default: the go command's, and those the module's files need)")
	tags := fs.String("tags", "", "comma-separated build `tags` of every configuration checked (default: none, and those the module's files need)")
	progressMode := progressFlag(progressAuto)
	fs.Var(&progressMode, "progress", "show the stages of the run on stderr: `auto` (when stderr is a terminal), always or never")
	jsonOut := false
	format := formatFlag(formatText)
	if cmd == "plan" {
		fs.BoolVar(&jsonOut, "json", false, "print the plan as JSON (-format=json)")
	}
	if cmd == "plan" || cmd == "check" {
		fs.Var(&format, "format", "output `format`: text, json (the plan), github (workflow annotations) or sarif (SARIF 2.1.0)")
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
	if jsonOut {
		format = formatJSON
	}
	if err := dir.check(); err != nil {
		fmt.Fprintln(stderr, "wsunify:", err)
		return exitFailure
	}
	ruleSet, err := codemod.ParseRuleSet(*rules)
	if err != nil {
		fmt.Fprintln(stderr, "wsunify:", err)
		return exitUsage
	}
	opts := &codemod.Options{Rules: ruleSet, Shapes: shapes, Generated: *generated}
	legacyPaths := []string{codemod.BridgePath}
	if *recipeFile != "" {
		rc, err := loadRecipe(ctx, string(dir), *recipeFile)
		if err != nil {
			fmt.Fprintf(stderr, "wsunify: %s: %v\n", cmd, err)
			return exitUsage
		}
		opts.Recipe, legacyPaths = rc, rc.Legacy
	}
	pl := newProgress(stderr, progressMode)
	defer pl.clear()
	stdout, stderr = pl.before(stdout), pl.before(stderr)
	progress := pl.printf

	for _, types := range shapes {
		for _, t := range types {
			legacyPaths = append(legacyPaths, t[:strings.LastIndex(t, ".")])
		}
	}
	// Paths are printed as the go command prints them: relative to the
	// directory it runs in (after -C) when they lie below it.
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(stderr, "wsunify:", err)
		return exitFailure
	}
	base := string(dir)
	if !filepath.IsAbs(base) {
		base = filepath.Join(cwd, base)
	}
	rel := func(name string) string { return relPath(base, name) }
	short := func(msg string) string { return shortenPaths(base, msg) }

	prog, err := codemod.Load(ctx, &codemod.LoadConfig{
		Dir: string(dir), LegacyPaths: legacyPaths, NoTests: !*tests, Configs: buildConfigs(*goos, *tags), Progress: pl.stage,
	}, fs.Args()...)
	if oe := (*codemod.OtherModuleError)(nil); errors.As(err, &oe) {
		modDir, rerr := filepath.Rel(cwd, oe.Module)
		if rerr != nil {
			modDir = oe.Module
		}
		fmt.Fprintf(stderr, "wsunify: %s: pattern %s lies in another module, %s, which the go command does not load from here\n"+
			"run it in that module: wsunify %s -C %s %s\n",
			cmd, oe.Pattern, filepath.ToSlash(filepath.Join(modDir, "go.mod")), cmd, filepath.ToSlash(modDir), oe.InModule)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintln(stderr, "wsunify:", short(err.Error()))
		return exitFailure
	}
	if err := prog.Err(); err != nil {
		fmt.Fprintf(stderr, "wsunify: %s: packages do not parse or type-check; nothing written\n%v\n", cmd, short(err.Error()))
		return exitFailure
	}
	recipeRules, err := codemod.Rules(prog, opts)
	if err != nil {
		fmt.Fprintf(stderr, "wsunify: %s: the recipe does not type-check against the packages loaded:\n%v\n", cmd, err)
		return exitUsage
	}
	if err := ruleSet.Check(recipeRules); err != nil {
		fmt.Fprintln(stderr, "wsunify:", err)
		return exitUsage
	}
	relFindings := func(fs []codemod.Finding) {
		for i := range fs {
			fs[i].Pos.Filename = rel(fs[i].Pos.Filename)
			fs[i].Message = short(fs[i].Message)
			for j := range fs[i].Related {
				fs[i].Related[j].Pos.Filename = rel(fs[i].Related[j].Pos.Filename)
			}
		}
	}

	switch cmd {
	case "plan", "check":
		progress("taking the inventory of %d packages", len(prog.Packages))
		ci := format == formatGitHub || format == formatSARIF
		var sites []codemod.Site
		if ci {
			// Before the inventory, which uses prog up.
			if sites, err = codemod.Sites(prog, opts); err != nil {
				fmt.Fprintf(stderr, "wsunify: %s: %s\n", cmd, short(err.Error()))
				return exitFailure
			}
		}
		var plan *codemod.Plan
		if cmd == "check" && format == formatText {
			plan, err = codemod.Count(prog, opts)
		} else {
			plan, err = codemod.Inventory(ctx, prog, opts)
		}
		if err != nil {
			fmt.Fprintf(stderr, "wsunify: %s: %s\n", cmd, short(err.Error()))
			return exitFailure
		}
		done := exitOK
		if cmd == "check" && plan.Total() > 0 {
			done = exitFindings
		}
		if ci {
			r := &ciReport{Root: repoRoot(base), Sites: sites, Findings: plan.Findings, Rules: recipeRules}
			write := writeGitHub
			if format == formatSARIF {
				write = writeSARIF
			}
			if err := write(stdout, r); err != nil {
				fmt.Fprintln(stderr, "wsunify:", err)
				return exitFailure
			}
			return done
		}
		relFindings(plan.Findings)
		if format == formatText && cmd == "check" {
			return printCheck(stdout, plan)
		}
		if format == formatJSON {
			// Lists are [] when empty, never null: a reader may range over
			// them without a check.
			if plan.Packages == nil {
				plan.Packages = []codemod.PackagePlan{}
			}
			if plan.Findings == nil {
				plan.Findings = []codemod.Finding{}
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(plan); err != nil {
				fmt.Fprintln(stderr, "wsunify:", err)
				return exitFailure
			}
			return done
		}
		printPlan(stdout, plan)
		return exitOK
	}

	progress("rewriting %d packages", len(prog.Packages))
	res, _, err := codemod.Migrate(ctx, prog, opts)
	if err != nil {
		fmt.Fprintf(stderr, "wsunify: %s: %s\nnothing written\n", cmd, short(err.Error()))
		return exitFailure
	}
	relFindings(res.Findings)
	if cmd == "diff" {
		for _, c := range res.Changes {
			stdout.Write(codemod.UnifiedDiff(strings.TrimPrefix(rel(c.Name), "./"), c.Old, c.New))
		}
		printFindings(stderr, res.Findings)
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
	printFindings(stdout, res.Findings)
	return exitOK
}

// buildConfigs returns the build configurations -goos and -tags name:
// one per GOOS, each with the tags; nil when neither is set, for the
// codemod to find them.
func buildConfigs(goos, tags string) []codemod.BuildConfig {
	if goos == "" && tags == "" {
		return nil
	}
	var tagList []string
	for t := range strings.SplitSeq(tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tagList = append(tagList, t)
		}
	}
	var out []codemod.BuildConfig
	for g := range strings.SplitSeq(goos, ",") {
		out = append(out, codemod.BuildConfig{GOOS: strings.TrimSpace(g), Tags: tagList})
	}
	return out
}

// loadRecipe reads and type-checks the recipe file name (relative to dir,
// the -C directory) against the packages of the module in dir. A recipe
// that does not type-check, or whose pairs do not match, is refused with
// every problem and its position.
func loadRecipe(ctx context.Context, dir, name string) (*recipe.Recipe, error) {
	if dir != "" && !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	rc, err := recipe.LoadFile(ctx, dir, name)
	if err != nil {
		return nil, fmt.Errorf("recipe %s refused:\n%w", name, err)
	}
	return rc, nil
}

func printFindings(w io.Writer, fs []codemod.Finding) {
	for _, f := range fs {
		fmt.Fprintln(w, f)
	}
}

// relPath returns name as the go command prints a file: relative to base
// when it lies below it ("./x.go" for a file of base itself, "sub/x.go"
// otherwise), and as it is when it does not.
func relPath(base, name string) string {
	if !filepath.IsAbs(name) {
		return name
	}
	r, err := filepath.Rel(base, name)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return name
	}
	if filepath.Dir(r) == "." {
		return "./" + filepath.ToSlash(r)
	}
	return filepath.ToSlash(r)
}

// shortenPaths rewrites the absolute paths below base in msg (an error or
// a finding, which may quote the type checker) as relPath does.
func shortenPaths(base, msg string) string {
	prefix := filepath.Clean(base) + string(filepath.Separator)
	var b strings.Builder
	for {
		i := strings.Index(msg, prefix)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		end := i + len(prefix)
		for end < len(msg) && !strings.ContainsRune(" \t\n:;,()\"'", rune(msg[end])) {
			end++
		}
		b.WriteString(msg[:i])
		b.WriteString(relPath(base, msg[i:end]))
		msg = msg[end:]
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
