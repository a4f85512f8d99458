package codemod

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

// stepModule is a module of three source packages: lib uses bridge, app
// imports lib, and other uses bridge on its own.
var stepModule = map[string]string{
	"lib/lib.go": `package lib

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

// Hello greets a user.
func Hello(ctx context.Context, m bridge.WebSocketManager) error {
	return m.SendToUser(ctx, "u1", bridge.Message{"type": "hello"})
}
`,
	"app/app.go": `package app

import (
	"context"

	"example.com/app/lib"
	"github.com/wsunify/wsunify/bridge"
)

// Run greets.
func Run(ctx context.Context, m bridge.WebSocketManager) error { return lib.Hello(ctx, m) }
`,
	"other/other.go": `package other

import "github.com/wsunify/wsunify/bridge"

// M is a manager.
var M bridge.WebSocketManager
`,
}

// loadStepModule loads stepModule, written in a new module.
func loadStepModule(t *testing.T) *Program {
	t.Helper()
	testmod.Setenv(t)
	prog, err := Load(context.Background(), &LoadConfig{Dir: testmod.New(t, stepModule)}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// TestVerifyChecksImporters: Verify checks again the packages whose files
// change and those that import them, even unchanged, and reports a change
// that breaks an importer; the program it is given keeps its syntax and
// types either way.
func TestVerifyChecksImporters(t *testing.T) {
	ctx := context.Background()
	prog := loadStepModule(t)
	lib, app, other := prog.Package("example.com/app/lib"), prog.Package("example.com/app/app"), prog.Package("example.com/app/other")
	if lib == nil || app == nil || other == nil {
		t.Fatalf("packages not loaded from source: %v", prog.Packages)
	}
	libFile := lib.Files[0]
	change := func(from, to string) []FileChange {
		return []FileChange{{Package: lib.Path, Name: libFile.Name, Old: libFile.Src,
			New: []byte(strings.Replace(string(libFile.Src), from, to, 1))}}
	}

	next, err := Verify(ctx, prog, change("func Hello(", "func Greet("))
	var ve *verifyError
	if !errors.Is(err, ErrWouldBreak) || !errors.As(err, &ve) {
		t.Fatalf("renaming lib.Hello: err = %v, want ErrWouldBreak", err)
	}
	if next != nil || !ve.pkgs[app.Path] || !strings.Contains(err.Error(), "Hello") {
		t.Errorf("renaming lib.Hello: the error does not name app's use: %v", err)
	}

	next, err = Verify(ctx, prog, change(`"hello"`, `"hi"`))
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []*Package{lib, app, other} {
		if pkg.Types == nil || pkg.Info == nil || pkg.Files[0].AST == nil {
			t.Errorf("Verify dropped the syntax or types of %s from the program it was given", pkg.Path)
		}
	}
	nlib, napp, nother := next.Package(lib.Path), next.Package(app.Path), next.Package(other.Path)
	if nlib == lib || napp == app {
		t.Errorf("lib or app not checked again (lib %v, app %v)", nlib != lib, napp != app)
	}
	if nother != other {
		t.Errorf("other, which imports nothing that changed, was checked again")
	}
	if got := string(nlib.Files[0].Src); !strings.Contains(got, `"hi"`) {
		t.Errorf("the new lib has the old source:\n%s", got)
	}
	// app's types refer to the new lib's.
	if imp := napp.Types.Imports(); !slices.Contains(imp, nlib.Types) {
		t.Errorf("app's types import %v, not the new lib's", imp)
	}
}

// TestMigrateReleasesAndRestores: Migrate's steps check the rewritten
// packages as they go; a package that no longer depends on a legacy path
// comes back without rules' information or syntax, but with its source
// and types, and the original program, used up, can be restored.
func TestMigrateReleasesAndRestores(t *testing.T) {
	ctx := context.Background()
	prog := loadStepModule(t)
	// The module has no main package: its exported API changes only when
	// asked.
	res, next, err := Migrate(ctx, prog, &Options{API: APIChange})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 3 {
		t.Fatalf("%d files changed, want 3: %v", len(res.Changes), res.Changes)
	}
	for _, pkg := range next.Packages {
		if pkg.Types == nil || pkg.Info != nil {
			t.Errorf("%s: types %v, info %v; want types and no info (it no longer depends on bridge)", pkg.Path, pkg.Types != nil, pkg.Info != nil)
		}
		for _, f := range pkg.Files {
			if f.AST != nil || strings.Contains(string(f.Src), "bridge") {
				t.Errorf("%s: syntax kept %v, or the source still names bridge:\n%s", f.Name, f.AST != nil, f.Src)
			}
		}
	}
	if err := prog.restore(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pkg := range prog.Packages {
		if pkg.Types == nil || pkg.Info == nil || pkg.Files[0].AST == nil || len(pkg.Errors) > 0 {
			t.Errorf("%s not restored: %v", pkg.Path, pkg.Errors)
		}
	}
}
