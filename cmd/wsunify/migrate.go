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

// The commands that load packages and migrate them: they share their
// flags (migrateFlags) and their run (migrateFlags.run).
var (
	cmdPlan = &command{
		Name:      "plan",
		UsageLine: "plan [-format=text|json|github|sarif] [flags] [packages]",
		Short:     "legacy uses left per rule and per package, and the next step",
		Long: `plan lists the legacy uses left, per rule and per package, and what the next
apply would do, every step of it, with the findings it would leave (each
with its reason and related positions). -format=json (or -json) prints the
plan as one object for machines; github and sarif print annotations for a
CI (see "go doc github.com/wsunify/wsunify/cmd/wsunify").
`,
		Progress: true,
	}
	cmdDiff = &command{
		Name:      "diff",
		UsageLine: "diff [flags] [packages]",
		Short:     "unified diff of what apply would write (writes nothing)",
		Long: `diff prints the unified diff of what apply would write, on stdout, and the
findings it would leave on stderr. It writes nothing.
`,
		Progress: true,
	}
	cmdApply = &command{
		Name:      "apply",
		UsageLine: "apply [flags] [packages]",
		Short:     "rewrite in place, atomically, only what type-checks afterwards",
		Long: `apply rewrites the packages in place, step by step, writing only when the
result type-checks, all files or none. It prints the files written, the
sites rewritten and the findings left.
`,
		Progress: true,
	}
	cmdCheck = &command{
		Name:      "check",
		UsageLine: "check [-format=text|json|github|sarif] [flags] [packages]",
		Short:     "exit 3 when legacy uses remain, 0 when clean, 1 on failure",
		Long: `check prints the legacy uses left per package and exits 3 when legacy uses
remain, 0 when none do, 1 when the tool fails: for CI. It keeps its exit
codes in every format.
`,
		Progress: true,
	}
)

func init() {
	for _, c := range []*command{cmdPlan, cmdDiff, cmdApply, cmdCheck} {
		c.Flags = func(fs *flag.FlagSet, inv *invocation) func(context.Context, []string) int {
			m := &migrateFlags{cmd: c.Name}
			m.declare(fs)
			return func(ctx context.Context, patterns []string) int { return m.run(ctx, inv, patterns) }
		}
	}
}

// migrateFlags are the flags of plan, diff, apply and check.
type migrateFlags struct {
	cmd       string
	rules     string
	recipe    string
	shapes    shapeFlags
	tests     bool
	generated bool
	api       apiFlag
	goos      string
	tags      string
	jsonOut   bool
	format    formatFlag
}

// declare declares the flags of m.cmd on fs.
func (m *migrateFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&m.rules, "rule", "", "comma-separated rule `IDs` to apply (default all; plan lists them)")
	fs.StringVar(&m.recipe, "recipe", "", "run the rules of this recipe `file` (a Go file of rule pairs; see MIGRATION.md) instead of the built-in recipe")
	m.shapes = shapeFlags{}
	fs.Var(m.shapes, "shape", "`Shape=pkg.Type`: the user's type plays a legacy shape (WebSocketManager or AgentWebSocketBridge); repeatable")
	fs.BoolVar(&m.tests, "test", true, "also load, rewrite and check the packages' _test.go files")
	fs.BoolVar(&m.generated, "generated", false, "also rewrite generated files (// Code generated … DO NOT EDIT.), which are otherwise left alone with a finding")
	fs.Var(&m.api, "api", "`auto`, keep or change: whether the retype step may change the exported API of a package, what importers outside the module can reach (auto: a library's is kept, a service's changes where its commands import it; a module with a main package and none at its root is a service)")
	fs.StringVar(&m.goos, "goos", "", "comma-separated `GOOS` values to check, one build configuration each (default: the go command's, and those the module's files need)")
	fs.StringVar(&m.tags, "tags", "", "comma-separated build `tags` of every configuration checked (default: none, and those the module's files need)")
	m.format = formatText
	if m.cmd == "plan" {
		fs.BoolVar(&m.jsonOut, "json", false, "print the plan as JSON (-format=json)")
	}
	if m.cmd == "plan" || m.cmd == "check" {
		fs.Var(&m.format, "format", "output `format`: text, json (the plan), github (workflow annotations) or sarif (SARIF 2.1.0)")
	}
}

// apiFlag is the value of -api.
type apiFlag codemod.API

func (a *apiFlag) String() string { return codemod.API(*a).String() }

func (a *apiFlag) Set(v string) error {
	api, err := codemod.ParseAPI(v)
	*a = apiFlag(api)
	return err
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

// run runs plan, diff, apply or check on the packages of patterns.
func (m *migrateFlags) run(ctx context.Context, inv *invocation, patterns []string) int {
	cmd, stdout, stderr := m.cmd, inv.stdout, inv.stderr
	format := m.format
	if m.jsonOut {
		format = formatJSON
	}
	ruleSet, err := codemod.ParseRuleSet(m.rules)
	if err != nil {
		return inv.usagef("%v", err)
	}
	opts := &codemod.Options{Rules: ruleSet, Shapes: m.shapes, Generated: m.generated, API: codemod.API(m.api)}
	legacyPaths := []string{codemod.BridgePath}
	for _, types := range m.shapes {
		for _, t := range types {
			legacyPaths = append(legacyPaths, t[:strings.LastIndex(t, ".")])
		}
	}
	if m.recipe != "" {
		rc, err := loadRecipe(ctx, string(inv.dir), m.recipe)
		if err != nil {
			fmt.Fprintf(stderr, "wsunify: %s: %v\n", cmd, err)
			return exitUsage
		}
		opts.Recipe, legacyPaths = rc, rc.Legacy
	}
	configs, err := buildConfigs(m.goos, m.tags)
	if err != nil {
		return inv.usagef("%v", err)
	}
	// Paths are printed as the go command prints them: relative to the
	// directory it runs in (after -C) when they lie below it.
	prog, err := codemod.Load(ctx, &codemod.LoadConfig{
		Dir: string(inv.dir), LegacyPaths: legacyPaths, NoTests: !m.tests, Configs: configs, Progress: inv.stage,
	}, patterns...)
	if oe := (*codemod.OtherModuleError)(nil); errors.As(err, &oe) {
		cwd, _ := os.Getwd()
		modDir, rerr := filepath.Rel(cwd, oe.Module)
		if rerr != nil {
			modDir = oe.Module
		}
		return inv.failf("pattern %s lies in another module, %s, which the go command does not load from here\n"+
			"run it in that module: wsunify %s -C %s %s",
			oe.Pattern, filepath.ToSlash(filepath.Join(modDir, "go.mod")), cmd, filepath.ToSlash(modDir), oe.InModule)
	}
	if err != nil {
		return inv.fail(err)
	}
	if err := prog.Err(); err != nil {
		return inv.fail(fmt.Errorf("packages do not parse or type-check; nothing written\n%w", err))
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
	relExported := func(cs []codemod.ExportedChange) {
		for i := range cs {
			cs[i].Pos.File = inv.rel(cs[i].Pos.File)
		}
	}
	// A finding's positions and the paths its messages quote (a type
	// error's) are printed as relPath prints them.
	relFindings := func(fs []codemod.Finding) {
		for i := range fs {
			fs[i].Pos.Filename = inv.rel(fs[i].Pos.Filename)
			fs[i].Message = shortenPaths(inv.base, fs[i].Message)
			for j := range fs[i].Related {
				fs[i].Related[j].Pos.Filename = inv.rel(fs[i].Related[j].Pos.Filename)
				fs[i].Related[j].Message = shortenPaths(inv.base, fs[i].Related[j].Message)
			}
		}
	}

	switch cmd {
	case "plan", "check":
		inv.printf("taking the inventory of %d packages", len(prog.Packages))
		ci := format == formatGitHub || format == formatSARIF
		var sites []codemod.Site
		if ci {
			// Before the inventory, which uses prog up.
			if sites, err = codemod.Sites(prog, opts); err != nil {
				return inv.fail(err)
			}
		}
		var plan *codemod.Plan
		if cmd == "check" && format == formatText {
			plan, err = codemod.Count(prog, opts)
		} else {
			plan, err = codemod.Inventory(ctx, prog, opts)
		}
		if err != nil {
			return inv.fail(err)
		}
		done := exitOK
		if cmd == "check" && plan.Total() > 0 {
			done = exitFindings
		}
		if ci {
			r := &ciReport{Root: repoRoot(inv.base), Sites: sites, Findings: plan.Findings, Rules: recipeRules}
			write := writeGitHub
			if format == formatSARIF {
				write = writeSARIF
			}
			if err := write(stdout, r); err != nil {
				return inv.fail(err)
			}
			return done
		}
		relFindings(plan.Findings)
		relExported(plan.Exported)
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
				return inv.fail(err)
			}
			return done
		}
		printPlan(stdout, plan)
		return exitOK
	}

	inv.printf("rewriting %d packages", len(prog.Packages))
	res, _, err := codemod.Migrate(ctx, prog, opts)
	if err != nil {
		return inv.fail(err, "nothing written")
	}
	relFindings(res.Findings)
	relExported(res.Exported)
	if cmd == "diff" {
		for _, c := range res.Changes {
			stdout.Write(codemod.UnifiedDiff(inv.rel(c.Name), c.Old, c.New))
		}
		printFindings(stderr, res.Findings)
		printExported(stderr, false, res.Exported)
		return exitOK
	}
	inv.printf("writing %d files", len(res.Changes))
	if err := writeAll(ctx, res.Changes); err != nil {
		return inv.fail(err)
	}
	sites := 0
	for _, n := range res.Rewritten {
		sites += n
	}
	for _, c := range res.Changes {
		fmt.Fprintln(stdout, "wrote", inv.rel(c.Name))
	}
	fmt.Fprintf(stdout, "%d sites rewritten in %d files; %d findings left\n", sites, len(res.Changes), len(res.Findings))
	printFindings(stdout, res.Findings)
	printExported(stdout, true, res.Exported)
	return exitOK
}

// buildConfigs returns the build configurations -goos and -tags name:
// one per GOOS, each with the tags; nil when neither is set, for the
// codemod to find them. A GOOS the go command does not build for is an
// error.
func buildConfigs(goos, tags string) ([]codemod.BuildConfig, error) {
	if goos == "" && tags == "" {
		return nil, nil
	}
	var tagList []string
	for t := range strings.SplitSeq(tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tagList = append(tagList, t)
		}
	}
	var out []codemod.BuildConfig
	for g := range strings.SplitSeq(goos, ",") {
		if g = strings.TrimSpace(g); g == "" && goos != "" {
			continue
		}
		c := codemod.BuildConfig{GOOS: g, Tags: tagList}
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("-goos: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
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
		printFinding(w, "", f)
	}
}

// printFinding prints f on one line after indent, and each place it
// relates to on a line of its own below, one tab further in, as
// "file:line:col: message" (without the message when f's own holds it).
func printFinding(w io.Writer, indent string, f codemod.Finding) {
	fmt.Fprintf(w, "%s%s\n", indent, f)
	for _, r := range f.Related {
		if strings.Contains(f.Message, r.Message) {
			fmt.Fprintf(w, "%s\t%s\n", indent, r.Pos)
		} else {
			fmt.Fprintf(w, "%s\t%s: %s\n", indent, r.Pos, r.Message)
		}
	}
}

// relPath returns name as go vet prints a file: relative to base when it
// lies below it ("x.go" for a file of base itself, "sub/x.go" otherwise),
// and as it is when it does not.
func relPath(base, name string) string {
	if !filepath.IsAbs(name) {
		return name
	}
	r, err := filepath.Rel(base, name)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return name
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
			printFinding(w, "  ", f)
		}
	}
	if len(plan.Exported) > 0 {
		fmt.Fprintln(w)
		printExported(w, false, plan.Exported)
	}
}

// printExported says which declarations of a service's exported API the
// step retyped (done) or would retype, per module, and how to keep them
// should a module outside import them after all.
func printExported(w io.Writer, done bool, cs []codemod.ExportedChange) {
	did, keep := "would retype", "apply with -api=keep"
	if done {
		did, keep = "retyped", "restore these files and apply again with -api=keep"
	}
	for i, c := range cs {
		if i == 0 || c.Module != cs[i-1].Module {
			what := "the command "
			if len(c.Commands) > 1 {
				what = "the commands "
			}
			fmt.Fprintf(w, "exported API: %s is taken for a service (it has %s%s), so the step %s its exported declarations below; "+
				"a module that imports its packages would no longer build: if one does, %s\n",
				c.Module, what, strings.Join(c.Commands, ", "), did, keep)
		}
		fmt.Fprintf(w, "  %s\n", c)
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
