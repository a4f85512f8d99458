package gosrc_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/gosrc"
)

func TestApply(t *testing.T) {
	t.Parallel()
	src := []byte("hello, world")
	tests := []struct {
		name  string
		edits []gosrc.Edit
		want  string // "" for an error
	}{
		{"none", nil, "hello, world"},
		{"replace and insert, out of order", []gosrc.Edit{{7, 12, "gophers"}, {0, 0, "oh "}, {5, 6, ""}}, "oh hello gophers"},
		{"two insertions at one offset keep their order", []gosrc.Edit{{5, 5, "1"}, {5, 5, "2"}}, "hello12, world"},
		{"overlap", []gosrc.Edit{{0, 5, "x"}, {3, 7, "y"}}, ""},
		{"outside", []gosrc.Edit{{10, 20, "x"}}, ""},
	}
	for _, tt := range tests {
		got, err := gosrc.Apply(src, tt.edits)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s: Apply = %q, want an error", tt.name, got)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: Apply = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestTextEdit(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	tf := fset.AddFile("x.go", -1, 20)
	te := gosrc.Edit{Start: 3, End: 8, New: "x"}.TextEdit(tf)
	if tf.Offset(te.Pos) != 3 || tf.Offset(te.End) != 8 || string(te.NewText) != "x" {
		t.Errorf("TextEdit = %+v", te)
	}
}

func TestFreshName(t *testing.T) {
	t.Parallel()
	taken := map[string]bool{"facade": true, "facade2": true, "ws3": true}
	for name, want := range map[string]string{"facade": "facade3", "fresh": "fresh", "ws3": "ws2"} {
		if got := gosrc.FreshName(name, func(s string) bool { return taken[s] }); got != want {
			t.Errorf("FreshName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestImportPaths(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", "package x\n\nimport (\n\t\"fmt\"\n\tws `example.com/ws`\n)\n", parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(gosrc.ImportPaths(f), " "); got != "fmt example.com/ws" {
		t.Errorf("ImportPaths = %q", got)
	}
	if got := gosrc.ImportPath(&ast.ImportSpec{Path: &ast.BasicLit{Value: `"bad`}}); got != `"bad` {
		t.Errorf("ImportPath of a bad literal = %q", got)
	}
}

func TestDeps(t *testing.T) {
	t.Parallel()
	// x imports http and fmt; http imports io and fmt; io imports x (a
	// cycle, as the graph of a test variant may have).
	x, http, fmt, io := types.NewPackage("x", "x"), types.NewPackage("net/http", "http"), types.NewPackage("fmt", "fmt"), types.NewPackage("io", "io")
	x.SetImports([]*types.Package{http, fmt})
	http.SetImports([]*types.Package{io, fmt})
	io.SetImports([]*types.Package{x})
	deps := gosrc.Deps(http)
	if len(deps) != 4 {
		t.Errorf("Deps(http) = %v, want x, net/http, fmt and io", deps)
	}
	if !gosrc.Imports(x, "io") || gosrc.Imports(fmt, "io") || gosrc.Imports(x, "go/ast") {
		t.Error("Imports: want x → io, not fmt → io, not x → go/ast")
	}
}

func TestSignature(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", "package x\n\nfunc F(a int, b ...string) (n int, err error) { return }\nfunc G() {}\nfunc H(string) error { return nil }\n", 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{}).Check("x", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig := func(name string) *types.Signature { return pkg.Scope().Lookup(name).Type().(*types.Signature) }
	typ := func(t types.Type) string { return types.TypeString(t, nil) }
	for _, tt := range []struct{ got, want string }{
		{gosrc.Signature(sig("F"), []string{"x", "y"}, []string{"r0", "r1"}, typ), "(x int, y ...string) (r0 int, r1 error)"},
		{gosrc.Signature(sig("F"), nil, nil, typ), "(int, ...string) (int, error)"},
		{gosrc.Signature(sig("G"), nil, nil, typ), "()"},
		{gosrc.Signature(sig("H"), []string{"s"}, nil, typ), "(s string) error"},
	} {
		if tt.got != tt.want {
			t.Errorf("Signature = %q, want %q", tt.got, tt.want)
		}
	}
}

func TestModulePath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	mod := "// a comment\nmodule \"example.com/m\" // quoted, with a comment\n\ngo 1.26\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := gosrc.ModuleRoot(sub); got != dir {
		t.Errorf("ModuleRoot = %q, want %q", got, dir)
	}
	if got := gosrc.ModulePath(sub); got != "example.com/m" {
		t.Errorf("ModulePath = %q", got)
	}
	if got := gosrc.FindUp(sub, "go.work"); got != "" {
		t.Errorf("FindUp(go.work) = %q, want none", got)
	}
}
