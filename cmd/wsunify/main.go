// Command wsunify migrates Go code from the legacy notification shapes of
// package bridge to package facade, one compiling step at a time.
//
// Usage:
//
//	wsunify [-C dir] plan|diff|apply|check [flags] [packages]
//	wsunify [-C dir] report [-o FILE] [-history N] [flags] [packages]
//	wsunify [-C dir] shim [flags] OLDPKG NEWPKG
//
// plan lists the legacy uses left per rule and per package and the next
// step (-json for machines). diff prints what apply would write and writes
// nothing. apply rewrites in place, atomically, only when the result
// type-checks. check exits 3 when legacy uses remain, 0 when none do and 1
// when the tool fails, for CI. report writes the state of the migration as
// one self-contained HTML file. Run "wsunify <command> -h" for the flags.
//
// # Output formats
//
// plan and check take -format=text (the default), json, github or sarif;
// check keeps its exit codes in every format.
//
// json (also plan -json) is the plan, one object:
//
//	{
//	  "packages":  [{"path": "example.com/app/chat", "uses": {"send-to-user": 2, ...}}, ...],
//	  "remaining": {"send-to-user": 5, ...},          // legacy uses left per rule
//	  "next":      {"step": "call sites + retype", "sites": {"send-to-user": 5}, "files": 3},
//	  "findings":  [{
//	    "pos":      {"file": "chat/handler.go", "line": 32, "column": 2},
//	    "package":  "example.com/app/chat",
//	    "rule":     "retype",
//	    "message":  "manager keeps its legacy type: ...",
//	    "related":  [{"pos": {"file": "chat/handler.go", "line": 59, "column": 27}, "message": "..."}]
//	  }, ...]
//	}
//
// Every position has that one form: the file as wsunify prints it
// (relative to the directory it runs in, after -C), and the 1-based line and
// byte column. "next" is absent when nothing can be rewritten
// automatically; lists are [] when empty, never null.
//
// github prints one GitHub Actions workflow command per line: a warning for
// each finding (its related positions follow in the message) and a notice
// for each other legacy use, with the file relative to the repository's
// root (the git top-level, else the module's root), escaped as the Actions
// runner decodes it (%25, %0D, %0A in the message; also %3A and %2C in
// the properties):
//
//	::warning file=chat/handler.go,line=32,col=2,title=wsunify retype::manager keeps its legacy type: ...
//
// sarif prints a SARIF 2.1.0 log for code scanning: the rules are the
// recipe's, with their help; results carry the same warnings (findings,
// with related locations) and notes (other uses), their locations relative
// to %SRCROOT%, the repository's root.
//
// wsunify is also a vet tool: "go vet -vettool=$(which wsunify) ./..."
// reports the legacy calls with their call-site fixes (see codemod.Analyzer).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/wsunify/wsunify/codemod"
)

func main() {
	if vetInvocation(os.Args[1:]) {
		unitchecker.Main(codemod.Analyzer) // exits
	}
	if os.Getenv("GOMEMLIMIT") == "" && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// The packages a run loads are large and short-lived: the collector runs
// seldom (gcPercent) until the heap nears memoryLimit, and then as often as
// it must to stay under it. A run of 5,000 files holds about 220 MB of
// syntax and types at its peak, and each collection while it does marks
// all of it: 448 MiB leaves room for half as many of those as 384 MiB did,
// for a peak of about 455 MiB of resident memory. The limit is soft: a heap that needs more
// gets it, at the cost of collecting often. GOGC or GOMEMLIMIT overrides
// both.
const (
	gcPercent   = 400
	memoryLimit = 448 << 20
)

// vetInvocation reports whether the go command runs wsunify as a vet tool:
// it asks for the version and the flags, then passes a .cfg file.
func vetInvocation(args []string) bool {
	if len(args) == 0 {
		return false
	}
	return args[0] == "-V=full" || args[0] == "-flags" || strings.HasSuffix(args[len(args)-1], ".cfg")
}

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1 // the tool failed, or refused to rewrite
	exitUsage    = 2
	exitFindings = 3 // check: legacy uses remain
)

const usage = `usage: wsunify [-C dir] <command> [flags] [packages]

Commands:
  plan    legacy uses left per rule and per package, and the next step
  diff    unified diff of what apply would write (writes nothing)
  apply   rewrite in place, atomically, only what type-checks afterwards
  check   exit 3 when legacy uses remain, 0 when clean, 1 on failure
  report  [-o FILE] [-history N]: the migration's state as one HTML file
  shim    OLDPKG NEWPKG: Deprecated forwarders at the old import path

Packages are patterns as the go command takes them (default "."). -C dir,
before the command or among its flags, runs it in dir as the go command
does. Run "wsunify <command> -h" for the flags of a command.
`

// run is the whole command, with its streams injected so that tests run it
// in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	dir, args, err := leadingChdir(args)
	if err != nil {
		fmt.Fprintf(stderr, "wsunify: %v\n\n%s", err, usage)
		return exitUsage
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cmd, rest := args[0], args[1:]
	if dir != "" {
		rest = append([]string{"-C", dir}, rest...)
	}
	switch cmd {
	case "plan", "diff", "apply", "check":
		return runMigrate(ctx, cmd, rest, stdout, stderr)
	case "report":
		return runReport(ctx, rest, stdout, stderr)
	case "shim":
		return runShim(rest, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "wsunify: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}
