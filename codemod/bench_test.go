package codemod

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	benchPkgs  = flag.Int("bench.pkgs", 10, "packages in the corpus of BenchmarkMigrate")
	benchFiles = flag.Int("bench.files", 10, "files per package in the corpus of BenchmarkMigrate")
	benchDir   = flag.String("bench.dir", "", "migrate this existing corpus (e.g. from gen-corpus.sh) instead of generating one")
)

// writeCorpus writes a module of pkgs×files files, each with ten legacy
// call sites (five WebSocketManager.SendToUser, five
// AgentWebSocketBridge.NotifyAgentThinking), the shape of
// ../../shared/bench/gen-corpus.sh.
func writeCorpus(b *testing.B, dir string, pkgs, files int) {
	b.Helper()
	gomod := fmt.Sprintf("module example.com/corpus\n\ngo 1.26\n\nrequire github.com/wsunify/wsunify v0.0.0\n\nreplace github.com/wsunify/wsunify => %s\n", repoRoot(b))
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		b.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repoRoot(b), "go.sum"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		b.Fatal(err)
	}
	for p := range pkgs {
		name := fmt.Sprintf("p%03d", p+1)
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range files {
			var s strings.Builder
			fmt.Fprintf(&s, "package %s\n\nimport (\n\t\"context\"\n\n\t\"github.com/wsunify/wsunify/bridge\"\n)\n\n", name)
			fmt.Fprintf(&s, "// F%02d exercises legacy calls.\nfunc F%02d(ctx context.Context, m bridge.WebSocketManager, b bridge.AgentWebSocketBridge) error {\n", f+1, f+1)
			for k := range 5 {
				fmt.Fprintf(&s, "\t// call %d\n\tif err := m.SendToUser(ctx, \"user%d\", bridge.Message{\"k\": %d}); err != nil {\n\t\treturn err\n\t}\n", k, k, k)
				fmt.Fprintf(&s, "\t_ = b.NotifyAgentThinking(ctx, \"run%d\", \"agent\", \"step\", %d) // method call %d\n", k, k, k)
			}
			s.WriteString("\treturn nil\n}\n")
			if err := os.WriteFile(filepath.Join(dir, name, fmt.Sprintf("f%02d.go", f+1)), []byte(s.String()), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	goCmd(b, dir, "mod", "tidy")
}

// BenchmarkMigrate loads, rewrites and verifies a generated corpus, as
// "wsunify apply ./..." does short of writing. The default corpus is small;
// issue 4's figure is for -bench.pkgs=500 -bench.files=10 (or -bench.dir
// with a corpus from gen-corpus.sh).
func BenchmarkMigrate(b *testing.B) {
	dir := *benchDir
	if dir == "" {
		dir = b.TempDir()
		writeCorpus(b, dir, *benchPkgs, *benchFiles)
	}
	b.Setenv("GOFLAGS", "-mod=mod")
	b.Setenv("GOPROXY", "off")
	ctx := context.Background()
	var files int
	for b.Loop() {
		res, err := migrate(ctx, &LoadConfig{Dir: dir}, nil, []string{"./..."})
		if err != nil {
			b.Fatal(err)
		}
		files = len(res.Changes)
	}
	if files == 0 {
		b.Fatal("the corpus did not change")
	}
	b.ReportMetric(float64(files), "files/op")
}
