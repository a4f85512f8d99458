package codemod

import (
	"context"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/analysis/passes/inline"
	"golang.org/x/tools/go/packages"

	"github.com/wsunify/wsunify/internal/gosrc"
	"github.com/wsunify/wsunify/internal/testmod"
)

var (
	benchPkgs  = flag.Int("bench.pkgs", 10, "packages in the corpora of BenchmarkMigrate")
	benchFiles = flag.Int("bench.files", 10, "files per package in the corpora of BenchmarkMigrate")
	benchDir   = flag.String("bench.dir", "", "keep the corpora of BenchmarkMigrate in DIR/wsunify and DIR/anchor, written there if missing, instead of in a temporary directory")
)

// writeCorpus writes a module of pkgs×files files, each with ten legacy
// call sites (five WebSocketManager.SendToUser, five
// AgentWebSocketBridge.NotifyAgentThinking), the shape of
// ../../shared/bench/gen-corpus.sh.
func writeCorpus(b *testing.B, dir string, pkgs, files int) {
	b.Helper()
	mod := corpusFiles(pkgs, files, "github.com/wsunify/wsunify/bridge",
		"m bridge.WebSocketManager, b bridge.AgentWebSocketBridge", func(k int) string {
			return fmt.Sprintf("\tif err := m.SendToUser(ctx, \"user%d\", bridge.Message{\"k\": %d}); err != nil {\n\t\treturn err\n\t}\n"+
				"\t_ = b.NotifyAgentThinking(ctx, \"run%d\", \"agent\", \"step\", %d) // method call %d\n", k, k, k, k, k)
		})
	mod["go.mod"], mod["go.sum"] = testmod.GoMod("example.com/corpus"), testmod.Sum(b)
	testmod.Write(b, dir, mod)
	testmod.Go(b, dir, "mod", "tidy")
}

// writeAnchorCorpus writes a module of pkgs×files files, each with ten
// calls that x/tools' inliner inlines (five of legacy.SendToUser, five of
// the method Manager.SendToUser), the shape of
// ../../shared/bench/gen-anchor-corpus.sh.
func writeAnchorCorpus(b *testing.B, dir string, pkgs, files int) {
	b.Helper()
	mod := corpusFiles(pkgs, files, "example.com/corpus/legacy",
		"s legacy.Sender, m *legacy.Manager", func(k int) string {
			return fmt.Sprintf("\tif err := legacy.SendToUser(s, ctx, \"user%d\", \"msg%d\"); err != nil {\n\t\treturn err\n\t}\n"+
				"\t_ = m.SendToUser(ctx, \"muser%d\", \"mmsg%d\") // method call %d\n", k, k, k, k, k)
		})
	mod["go.mod"] = "module example.com/corpus\n\ngo 1.26.8\n"
	mod["facade/facade.go"], mod["legacy/legacy.go"] = anchorFacade, anchorLegacy
	testmod.Write(b, dir, mod)
}

// corpusFiles returns the files of a benchmark corpus by name: pkgs
// packages of files files, each a function F<n> of ctx and params that
// imports context and legacy, with five calls written by call(k).
func corpusFiles(pkgs, files int, legacy, params string, call func(k int) string) map[string]string {
	out := map[string]string{}
	for p := range pkgs {
		name := fmt.Sprintf("p%03d", p+1)
		for f := range files {
			var s strings.Builder
			fmt.Fprintf(&s, "package %s\n\nimport (\n\t\"context\"\n\n\t%q\n)\n\n", name, legacy)
			fmt.Fprintf(&s, "// F%02d exercises legacy calls.\nfunc F%02d(ctx context.Context, %s) error {\n", f+1, f+1, params)
			for k := range 5 {
				fmt.Fprintf(&s, "\t// call %d\n%s", k, call(k))
			}
			s.WriteString("\treturn nil\n}\n")
			out[fmt.Sprintf("%s/f%02d.go", name, f+1)] = s.String()
		}
	}
	return out
}

// anchorFacade and anchorLegacy are the packages of the anchor corpus.
const (
	anchorFacade = `// Package facade is the new unified notification API.
package facade

import "context"

// Recipient addresses a message.
type Recipient struct {
	Kind string
	ID   string
}

// ToUser addresses a single user.
func ToUser(id string) Recipient { return Recipient{Kind: "user", ID: id} }

// ToGroup addresses a group.
func ToGroup(id string) Recipient { return Recipient{Kind: "group", ID: id} }

// Notifier is the unified interface.
type Notifier interface {
	Notify(ctx context.Context, to Recipient, msg string) error
}

// Hub is the concrete notifier.
type Hub struct{ Retries int }

// Option configures a Hub.
type Option func(*Hub)

// WithRetries sets retries.
func WithRetries(n int) Option { return func(h *Hub) { h.Retries = n } }

// NewHub builds a Hub.
func NewHub(opts ...Option) *Hub {
	h := &Hub{Retries: DefaultRetries}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Notify implements Notifier.
func (h *Hub) Notify(ctx context.Context, to Recipient, msg string) error { return nil }

// DefaultRetries is the default retry count.
const DefaultRetries = 3

// Level is a severity.
type Level int

const (
	Info Level = iota
	Warn
)

// Box is a generic container.
type Box[T any] struct{ V T }

// MapAll applies f to xs.
func MapAll[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}
`
	anchorLegacy = `// Package legacy holds deprecation shims.
package legacy

import (
	"context"

	"example.com/corpus/facade"
)

// Sender is the old interface name (alias, not annotated).
type Sender = facade.Notifier

// Manager wraps a hub.
type Manager struct{ N *facade.Hub }

// SendToUser is the old free function.
//
// Deprecated: use n.Notify(ctx, facade.ToUser(userID), msg).
//
//go:fix inline
func SendToUser(n facade.Notifier, ctx context.Context, userID, msg string) error {
	return n.Notify(ctx, facade.ToUser(userID), msg)
}

// SendToUser is the old method.
//
// Deprecated: use m.N.Notify(ctx, facade.ToUser(userID), msg).
//
//go:fix inline
func (m *Manager) SendToUser(ctx context.Context, userID, msg string) error {
	return m.N.Notify(ctx, facade.ToUser(userID), msg)
}
`
)

// BenchmarkMigrate loads, rewrites and verifies a generated corpus, as
// "wsunify apply ./..." does short of writing, and in the same process
// does what x/tools' "inline -fix ./..." does short of writing
// ([inlineFix]) on the anchor corpus of the same size, the reference of
// issue 14's goal (../../shared/bench/README.md). It reports wsunify's
// time (ns/op, cpu-ns/op), the inliner's (inliner-ns/op,
// inliner-cpu-ns/op) and the ratios wsunify/inliner of wall time (ratio)
// and of CPU time (cpu-ratio; CPU time counts the go command the loaders
// run too, and is the figure to compare on a busy machine). The two run
// in turn, each first in every other iteration.
//
// The corpora have pkgs×files files (-bench.pkgs, -bench.files) with ten
// sites each. wsunify's (writeCorpus, as gen-corpus.sh) has five
// WebSocketManager.SendToUser and five NotifyAgentThinking calls; wsunify
// rewrites the ten calls and the two parameters of every file. The
// anchor corpus (writeAnchorCorpus, as gen-anchor-corpus.sh) has five
// calls of a function and five of a method that carry "//go:fix
// inline", which the inliner inlines. (On wsunify's corpus the inliner
// would rewrite only the bridge.Message literals, bridge/shapes.go's
// directive, and load bridge's dependencies from source.)
//
// The default corpora are small, to keep "go test -bench ." quick; the
// figure of issue 14 is for -bench.pkgs=500 -bench.files=10, with
// -bench.dir to write the corpora once and reuse them.
func BenchmarkMigrate(b *testing.B) {
	dir, anchor := filepath.Join(*benchDir, "wsunify"), filepath.Join(*benchDir, "anchor")
	if *benchDir == "" {
		dir, anchor = b.TempDir(), b.TempDir()
		writeCorpus(b, dir, *benchPkgs, *benchFiles)
		writeAnchorCorpus(b, anchor, *benchPkgs, *benchFiles)
	}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		writeCorpus(b, dir, *benchPkgs, *benchFiles)
	}
	if _, err := os.Stat(anchor); os.IsNotExist(err) {
		writeAnchorCorpus(b, anchor, *benchPkgs, *benchFiles)
	}
	testmod.Setenv(b)
	ctx := context.Background()
	var files, inlined int
	var ws, in, wsCPU, inCPU time.Duration
	runWsunify := func() {
		start, cpu := time.Now(), cpuTime()
		// The corpus has no main package, so by default its exported
		// F(…, m bridge.WebSocketManager, …) would keep its type as a
		// library's API; the figure is for the whole migration, as the
		// inliner rewrites every call.
		res, err := migrate(ctx, &LoadConfig{Dir: dir}, &Options{API: APIChange}, []string{"./..."})
		if err != nil {
			b.Fatal(err)
		}
		ws, wsCPU = ws+time.Since(start), wsCPU+cpuTime()-cpu
		files = len(res.Changes)
	}
	runInliner := func() {
		start, cpu := time.Now(), cpuTime()
		changed := inlineFix(b, anchor)
		in, inCPU = in+time.Since(start), inCPU+cpuTime()-cpu
		inlined = len(changed)
	}
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			runWsunify()
			runInliner()
		} else {
			runInliner()
			runWsunify()
		}
		n++
	}
	if files == 0 || inlined == 0 {
		b.Fatalf("wsunify changed %d files, the inliner %d: a corpus has nothing to migrate", files, inlined)
	}
	b.ReportMetric(float64(ws.Nanoseconds())/float64(n), "ns/op")
	b.ReportMetric(float64(in.Nanoseconds())/float64(n), "inliner-ns/op")
	b.ReportMetric(float64(ws)/float64(in), "ratio")
	if inCPU > 0 {
		b.ReportMetric(float64(wsCPU.Nanoseconds())/float64(n), "cpu-ns/op")
		b.ReportMetric(float64(inCPU.Nanoseconds())/float64(n), "inliner-cpu-ns/op")
		b.ReportMetric(float64(wsCPU)/float64(inCPU), "cpu-ratio")
	}
	b.ReportMetric(float64(files), "files/op")
}

// inlineFix is what x/tools' "inline -fix ./..." does in dir (its driver,
// golang.org/x/tools/go/analysis/internal/checker, with
// internal/analysis/driverutil.ApplyFixes), short of writing: it loads
// the packages and their tests with the syntax of every dependency (the
// analyzer has facts), runs the inline analyzer, applies the first fix
// of each diagnostic of the root packages (a fix that overlaps one
// applied already is skipped, as driverutil skips a conflict; one that
// repeats it, from another variant of the package, adds nothing) and
// formats each changed file as gofmt does. It returns the changed files'
// new content by name. The driver also drops the imports a fix leaves
// unused; on the benchmark's corpus no fix does, and that step is left out.
func inlineFix(b *testing.B, dir string) map[string][]byte {
	b.Helper()
	pkgs, err := packages.Load(&packages.Config{
		Mode: packages.LoadAllSyntax | packages.NeedModule, Dir: dir, Tests: true,
	}, "./...")
	if err != nil {
		b.Fatal(err)
	}
	if n := packages.PrintErrors(pkgs); n > 0 {
		b.Fatalf("the corpus does not load: %d errors", n)
	}
	graph, err := checker.Analyze([]*analysis.Analyzer{inline.Analyzer}, pkgs, nil)
	if err != nil {
		b.Fatal(err)
	}
	edits := map[string][]gosrc.Edit{} // file → the edits applied, sorted
	for _, act := range graph.Roots {
		if act.Err != nil {
			b.Fatal(act.Err)
		}
		fset := act.Package.Fset
	fixes:
		for _, d := range act.Diagnostics {
			if len(d.SuggestedFixes) == 0 {
				continue
			}
			add := map[string][]gosrc.Edit{}
			for _, te := range d.SuggestedFixes[0].TextEdits {
				tf := fset.File(te.Pos)
				e := gosrc.Edit{Start: tf.Offset(te.Pos), End: tf.Offset(te.End), New: string(te.NewText)}
				for _, old := range edits[tf.Name()] {
					if old == e {
						continue fixes // the same fix, from another variant
					}
					if old.Start < e.End && e.Start < old.End || old.Start == e.Start {
						continue fixes // a conflict
					}
				}
				add[tf.Name()] = append(add[tf.Name()], e)
			}
			for name, es := range add {
				edits[name] = append(edits[name], es...)
			}
		}
	}
	out := map[string][]byte{}
	for name, es := range edits {
		src, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		if src, err = gosrc.Apply(src, es); err != nil {
			b.Fatal(err)
		}
		if out[name], err = format.Source(src); err != nil {
			b.Fatal(err)
		}
	}
	return out
}
