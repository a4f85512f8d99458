package codemod

import (
	"context"
	"go/token"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

func TestFSPattern(t *testing.T) {
	base := "/w/mod"
	for _, tc := range []struct {
		pattern string
		want    walkRoot
		ok      bool
	}{
		{"./...", walkRoot{"/w/mod", true}, true},
		{".", walkRoot{"/w/mod", false}, true},
		{"./a/b", walkRoot{"/w/mod/a/b", false}, true},
		{"./a/...", walkRoot{"/w/mod/a", true}, true},
		{"../x/...", walkRoot{"/w/x", true}, true},
		{"/abs/dir", walkRoot{"/abs/dir", false}, true},
		{"example.com/mod/...", walkRoot{}, false},
		{"fmt", walkRoot{}, false},
		{"./a/.../b", walkRoot{}, false},
	} {
		got, ok := fsPattern(base, tc.pattern)
		if ok != tc.ok || got != tc.want {
			t.Errorf("fsPattern(%q, %q) = %v, %v; want %v, %v", base, tc.pattern, got, ok, tc.want, tc.ok)
		}
	}
}

const specBridgeFile = `package app

import (
	"context"
	"strings"

	"example.com/app/store"
	"github.com/wsunify/wsunify/bridge"
)

// Hello greets through the legacy manager.
func Hello(ctx context.Context, m bridge.WebSocketManager) error {
	return m.SendToUser(ctx, strings.ToLower(store.User), bridge.Message{"hi": 1})
}
`

// specModule writes a module with a package that imports bridge (one file
// of two), a package of the module it imports, a testdata directory and a
// nested module.
func specModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":              "module example.com/app\n\ngo 1.26\n\nrequire github.com/wsunify/wsunify v0.0.0\n\nreplace github.com/wsunify/wsunify => $REPO\n",
		"app.go":              specBridgeFile,
		"other.go":            "package app\n\nimport \"fmt\"\n\nvar _ = fmt.Sprint\n",
		"store/store.go":      "package store\n\n// User is a user.\nconst User = \"U\"\n",
		"testdata/x/x.go":     specBridgeFile,
		"nested/go.mod":       "module example.com/nested\n",
		"nested/n.go":         specBridgeFile,
		"_hidden/h.go":        specBridgeFile,
		"store/store_test.go": "package store\n",
	}
	m := make(map[string][]byte, len(files))
	for name, data := range files {
		m[name] = []byte(data)
	}
	testmod.Module(t, dir, m)
	return dir
}

// TestSpeculation: of the files under the pattern, those importing a
// legacy path are kept and parsed, and the export data of their imports
// outside the module loaded; testdata, _ directories and nested modules are
// skipped.
func TestSpeculation(t *testing.T) {
	dir := specModule(t)
	testmod.Setenv(t)
	ctx := context.Background()
	fset := token.NewFileSet()
	s := speculate(ctx, &LoadConfig{Dir: dir}, fset, []string{BridgePath}, []string{"./..."})
	if s == nil {
		t.Fatal("no speculation for ./...")
	}
	defer s.close()
	<-s.done // let it finish instead of stopping it
	s.halt()

	var names []string
	for name := range s.files {
		rel, _ := filepath.Rel(dir, name)
		names = append(names, filepath.ToSlash(rel))
	}
	slices.Sort(names)
	if want := []string{"app.go"}; !slices.Equal(names, want) {
		t.Errorf("files kept: %v, want %v (only those importing a legacy path)", names, want)
	}
	if f := s.files[filepath.Join(dir, "app.go")]; f == nil || f.AST == nil || f.Src == nil {
		t.Error("app.go, which imports bridge, was not read and parsed")
	}

	covered := map[string]bool{"context": true, "strings": true, BridgePath: true, FacadePath: true}
	ext, err := s.exportFor(ctx, covered)
	if err != nil || ext == nil {
		t.Fatalf("exportFor(%v) = %v, %v; want the speculative export data", covered, ext, err)
	}
	for path := range covered {
		if _, err := ext.load(path); err != nil {
			t.Errorf("speculative export data: %v", err)
		}
	}
	// The module's own package was not guessed: the caller loads again.
	if ext, _ := s.exportFor(ctx, map[string]bool{"context": true, "example.com/app/store": true}); ext != nil {
		t.Error("exportFor covered example.com/app/store, which the speculation did not load")
	}
}

// TestLoadSpeculationAgrees: a program loaded with the speculation (a
// file-system pattern) has the same packages, files and legacy uses as one
// loaded without it (an import-path pattern).
func TestLoadSpeculationAgrees(t *testing.T) {
	dir := specModule(t)
	testmod.Setenv(t)
	ctx := context.Background()
	summary := func(patterns ...string) []string {
		prog, err := Load(ctx, &LoadConfig{Dir: dir}, patterns...)
		if err != nil {
			t.Fatal(err)
		}
		if err := prog.Err(); err != nil {
			t.Fatal(err)
		}
		res, err := Rewrite(prog, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, pkg := range prog.Packages {
			for _, f := range pkg.Files {
				out = append(out, pkg.Path+" "+filepath.Base(f.Name))
			}
		}
		for _, c := range res.Changes {
			out = append(out, "change "+filepath.Base(c.Name)+"\n"+string(c.New))
		}
		return out
	}
	with, without := summary("./..."), summary("example.com/app/...")
	if !slices.Equal(with, without) {
		t.Errorf("with speculation:\n%v\nwithout:\n%v", with, without)
	}
	if len(with) == 0 {
		t.Error("nothing loaded")
	}
}
