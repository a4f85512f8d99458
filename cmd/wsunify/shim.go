package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"

	"github.com/wsunify/wsunify/codemod"
	"github.com/wsunify/wsunify/codemod/shim"
)

const shimUsage = `usage: wsunify shim [-diff] [-allow-partial] [-C dir] OLDPKG NEWPKG

Shim turns the package OLDPKG into deprecated forwarders to NEWPKG, so that
code importing OLDPKG keeps compiling and "go fix" can move it to NEWPKG.
Both are import paths (or directories such as ./old); OLDPKG must be in
the current module, and only its files change.

It refuses, writing nothing, if an exported name of OLDPKG cannot be
forwarded (missing in NEWPKG, or a different kind, type, value or method
set; a variable that importers write through OLDPKG, which would become a
copy), or if its initialization has effects that NEWPKG does not repeat;
each is reported as file:line:col: name: reason. The old package's init
functions and //go:generate lines go: NEWPKG runs them once for both
paths. What the user should know without a refusal (variables that become
copies, initialization and directives removed) is printed as a note.

OLDPKG must still exist: copy the package to NEWPKG, run shim, and delete
OLDPKG when nothing imports it any more.

Exit status: 0 done, 1 refused or failed, 2 usage.

Flags:
`

// runShim implements `wsunify shim [-diff] [-allow-partial] [-C dir] OLDPKG NEWPKG`;
// it returns the exit code (0 ok, 1 failure/refusal, 2 usage).
func runShim(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	diff := fs.Bool("diff", false, "print a unified diff and write nothing")
	partial := fs.Bool("allow-partial", false, "keep the declarations that cannot be forwarded as they are, instead of refusing")
	var dir chdirFlag
	fs.Var(&dir, "C", "run in `dir`, a directory of the module")
	fs.Usage = func() {
		fmt.Fprint(stderr, shimUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	if err := dir.check(); err != nil {
		fmt.Fprintf(stderr, "wsunify shim: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := shim.Compute(ctx, shim.Config{Dir: string(dir), Old: fs.Arg(0), New: fs.Arg(1)})
	if err != nil {
		fmt.Fprintf(stderr, "wsunify %v\n", err) // "shim: ..."
		return 1
	}
	base, _ := filepath.Abs(string(dir))
	rel := func(f shim.Finding) shim.Finding {
		f.Pos.Filename = relPath(base, f.Pos.Filename)
		f.Related = slices.Clone(f.Related)
		for i, r := range f.Related {
			f.Related[i].Pos.Filename = relPath(base, r.Pos.Filename)
		}
		return f
	}
	for _, f := range res.Findings {
		fmt.Fprintln(stderr, rel(f))
	}
	for _, f := range res.Notes {
		f = rel(f)
		fmt.Fprintf(stderr, "%s: note: %s: %s\n", f.Pos, f.Name, f.Reason)
	}
	if len(res.Findings) > 0 && !*partial {
		fmt.Fprintf(stderr, "wsunify shim: refused: %d declarations of %s cannot be forwarded; nothing written (-allow-partial keeps them as they are)\n",
			len(res.Findings), fs.Arg(0))
		return 1
	}
	if *diff {
		if _, err := stdout.Write(res.Diff); err != nil {
			fmt.Fprintf(stderr, "wsunify shim: %v\n", err)
			return 1
		}
		return 0
	}
	if err := writeShim(ctx, res.Files); err != nil {
		fmt.Fprintf(stderr, "wsunify shim: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "wsunify shim: %d names of %s forward to %s; %d files changed\n",
		len(res.Forwarded), fs.Arg(0), fs.Arg(1), len(res.Files))
	return 0
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
