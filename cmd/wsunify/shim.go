package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/wsunify/wsunify/codemod"
	"github.com/wsunify/wsunify/codemod/shim"
)

var cmdShim = &command{
	Name:      "shim",
	UsageLine: "shim [-diff] [-allow-partial] [-C dir] OLDPKG NEWPKG",
	Short:     "deprecated forwarders at a moved package's old import path",
	Long: `Shim turns the package OLDPKG into deprecated forwarders to NEWPKG, so that
code importing OLDPKG keeps compiling and "go fix" can move it to NEWPKG.
Both are import paths (or directories such as ./old); OLDPKG must be in
the current module, and only its files change.

It refuses, writing nothing, if an exported name of OLDPKG cannot be
forwarded (missing in NEWPKG, or a different kind, type, value or method
set; a variable that importers write through OLDPKG, which would become a
copy, and in a library, whose importers shim does not see, any exported
variable but a sentinel error), or if its initialization has effects that
NEWPKG does not repeat;
each is reported on stderr as file:line:col: name: reason. The old
package's init functions and //go:generate lines go: NEWPKG runs them once
for both paths. What the user should know without a refusal (variables
that become copies, initialization and directives removed) is printed as a
note.

OLDPKG must still exist: copy the package to NEWPKG, run shim, and delete
OLDPKG when nothing imports it any more.

Exit status: 0 done, 1 refused or failed, 2 usage.
`,
	Args: func(n int) bool { return n == 2 },
	Flags: func(fs *flag.FlagSet, inv *invocation) func(context.Context, []string) int {
		diff := fs.Bool("diff", false, "print a unified diff and write nothing")
		partial := fs.Bool("allow-partial", false, "keep the declarations that cannot be forwarded as they are, instead of refusing")
		return func(ctx context.Context, args []string) int {
			return runShim(ctx, inv, args[0], args[1], *diff, *partial)
		}
	},
}

// runShim shims oldPkg to newPkg: the diff (-diff) or the files written,
// and the outcome, on stdout; the findings and notes on stderr with -diff
// or a refusal, else on stdout with the outcome.
func runShim(ctx context.Context, inv *invocation, oldPkg, newPkg string, diff, partial bool) int {
	res, err := shim.Compute(ctx, shim.Config{Dir: string(inv.dir), Old: oldPkg, New: newPkg})
	if err != nil {
		return inv.fail(errors.New(strings.TrimPrefix(err.Error(), "shim: ")))
	}
	rel := func(f shim.Finding) shim.Finding {
		f.Pos.Filename = inv.rel(f.Pos.Filename)
		f.Related = slices.Clone(f.Related)
		for i, r := range f.Related {
			f.Related[i].Pos.Filename = inv.rel(r.Pos.Filename)
		}
		return f
	}
	refused := len(res.Findings) > 0 && !partial
	out := inv.stdout
	if diff || refused {
		out = inv.stderr
	}
	for _, f := range res.Findings {
		fmt.Fprintln(out, rel(f))
	}
	for _, f := range res.Notes {
		f = rel(f)
		fmt.Fprintf(out, "%s: note: %s: %s\n", f.Pos, f.Name, f.Reason)
	}
	if refused {
		return inv.failf("refused: %d declarations of %s cannot be forwarded; nothing written (-allow-partial keeps them as they are)",
			len(res.Findings), oldPkg)
	}
	if diff {
		if _, err := inv.stdout.Write(res.Diff); err != nil {
			return inv.fail(err)
		}
		return exitOK
	}
	if err := writeShim(ctx, res.Files); err != nil {
		return inv.fail(err)
	}
	for _, f := range res.Files {
		if f.New == nil {
			fmt.Fprintln(inv.stdout, "removed", inv.rel(f.Path))
		} else {
			fmt.Fprintln(inv.stdout, "wrote", inv.rel(f.Path))
		}
	}
	fmt.Fprintf(inv.stdout, "%d names of %s forward to %s; %d files changed\n",
		len(res.Forwarded), oldPkg, newPkg, len(res.Files))
	return exitOK
}

// writeShim writes the changed files with writeAll (all or none) and
// removes the files the shim deletes last.
func writeShim(ctx context.Context, files []shim.File) error {
	var changes []codemod.FileChange
	for _, f := range files {
		if f.New != nil {
			changes = append(changes, codemod.FileChange{Name: f.Path, Old: f.Old, New: f.New})
		}
	}
	if err := writeAll(ctx, changes); err != nil {
		return err
	}
	for _, f := range files {
		if f.New == nil {
			if err := os.Remove(f.Path); err != nil {
				return err
			}
		}
	}
	return nil
}
