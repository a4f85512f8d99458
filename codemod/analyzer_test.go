package codemod

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"
	"golang.org/x/tools/txtar"
)

// TestAnalyzer runs the analyzer with analysistest on the module of
// testdata/analyzer/calls.txtar: the "// want" comments are the expected
// diagnostics and the .golden file the source after every suggested fix.
func TestAnalyzer(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/analyzer/calls.txtar")
	if err != nil {
		t.Fatal(err)
	}
	c := &goldenCase{inputs: map[string][]byte{}}
	for _, f := range ar.Files {
		c.inputs[f.Name] = f.Data
	}
	dir := t.TempDir()
	c.writeModule(t, dir)
	// writeModule tidied the module with the golden file beside the source;
	// analysistest reads it from there.
	if !bytes.Contains(c.inputs["a/a.go.golden"], []byte("facade.ToUser")) {
		t.Fatal("the archive lacks its golden file")
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "a.go.golden")); err != nil {
		t.Fatal(err)
	}
	analysistest.RunWithSuggestedFixes(t, dir, Analyzer, "./...")
}
