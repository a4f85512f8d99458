package codemod

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

// TestAVendoredModuleMigratesEveryConfiguration: in a module with a
// vendor directory, which holds only the packages the module imports, the
// rewrite may need a package vendor/ lacks (facadetest, what a test double
// becomes). That must neither leave a file of another GOOS unchecked, as
// if a dependency of the sources did not build, nor keep a double without
// saying why.
func TestAVendoredModuleMigratesEveryConfiguration(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{
		"ws/ws.go": notifySrc,
		"ws/ws_windows.go": `package ws

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

func hello(ctx context.Context, m bridge.WebSocketManager) error { return Notify(ctx, m, "windows") }
`,
		"ws/fake_test.go": `package ws

import (
	"context"
	"testing"

	"github.com/wsunify/wsunify/bridge"
)

type fake struct{ bridge.WebSocketManager }

var _ bridge.WebSocketManager = (*fake)(nil)

func TestNotify(t *testing.T) {
	m := &fake{}
	_ = Notify(context.Background(), m, "ann")
}
`,
	})
	testmod.Go(t, dir, "mod", "vendor")
	ctx := context.Background()
	prog, err := Load(ctx, &LoadConfig{Dir: dir, Env: testmod.Env("GOFLAGS=-mod=vendor")}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Err(); err != nil {
		t.Fatalf("the default configuration has errors: %v", err)
	}
	if got := prog.Configs(); len(got) != 2 {
		t.Errorf("configurations: %v, want the default and GOOS=windows", got)
	}
	res, _, err := Migrate(ctx, prog, &Options{API: APIChange})
	if err != nil {
		t.Fatal(err)
	}
	changed := map[string]bool{}
	for _, c := range res.Changes {
		changed[filepath.Base(c.Name)] = true
	}
	if !changed["ws.go"] || !changed["ws_windows.go"] {
		t.Errorf("changed %v, want ws.go and ws_windows.go", changed)
	}
	const why = "the retype cannot put one in place of fake: " + facadetestPath + " is not in vendor/ (go mod vendor adds it once a test imports it)"
	var said bool
	for _, f := range res.Findings {
		if f.Rule == RuleUnchecked {
			t.Errorf("unchecked: %v", f)
		}
		said = said || strings.Contains(f.Message, why)
	}
	if !said {
		t.Errorf("no finding says %q:\n%v", why, res.Findings)
	}
}
