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
// one self-contained HTML file. shim turns a moved package's old import
// path into deprecated forwarders. "wsunify help <command>" (or "wsunify
// <command> -h") prints a command's help and flags.
//
// Every command takes -C dir and prints its results on stdout, its
// progress (-progress) and its errors on stderr. Exit status: 0 done, 1 the
// tool failed or refused (nothing is written then), 2 usage, and for check
// 3 when legacy uses remain.
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
	"os"
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
		preferHugePages(hugeHeap)
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
// gets it, at the cost of collecting often. The first hugeHeap bytes of the
// heap are backed by huge pages (preferHugePages): nearly all of a large
// run's heap, not all of memoryLimit, which would leave the runtime at its
// limit as soon as it starts. GOGC or GOMEMLIMIT overrides all three.
const (
	gcPercent   = 400
	memoryLimit = 448 << 20
	hugeHeap    = 416 << 20
)

// vetInvocation reports whether the go command runs wsunify as a vet tool:
// it asks for the version and the flags, then passes a .cfg file.
func vetInvocation(args []string) bool {
	if len(args) == 0 {
		return false
	}
	return args[0] == "-V=full" || args[0] == "-flags" || strings.HasSuffix(args[len(args)-1], ".cfg")
}
