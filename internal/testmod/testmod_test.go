package testmod_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testfs"
	"github.com/wsunify/wsunify/internal/testmod"
)

// TestModuleBuildsAgainstTheCheckout: a module written by Module uses this
// checkout's bridge package, offline.
func TestModuleBuildsAgainstTheCheckout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testmod.Module(t, dir, map[string]string{
		"app.go": "package app\n\nimport \"github.com/wsunify/wsunify/bridge\"\n\nvar _ bridge.WebSocketManager\n",
	})
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "=> " + testmod.Root(t); !strings.Contains(string(mod), want) {
		t.Errorf("go.mod does not say %q:\n%s", want, mod)
	}
	testmod.Go(t, dir, "build", "./...")
	if out, err := testmod.Run(t.Context(), dir, nil, "build", "./nope"); err == nil {
		t.Errorf("go build ./nope succeeded:\n%s", out)
	}
}

// TestReplaceAndCopyTree: a copied module's relative replace directive is
// pointed at the checkout, and the copy has every file of the original.
func TestReplaceAndCopyTree(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	testmod.Write(t, src, map[string]string{
		"go.mod":   "module example.com/c\n\ngo 1.26\n\nrequire github.com/wsunify/wsunify v0.0.0\n\nreplace github.com/wsunify/wsunify => ../..\n",
		"a/b/c.go": "package b\n",
	})
	dst := filepath.Join(t.TempDir(), "copy")
	if err := testmod.CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	if got := len(testfs.ReadTree(t, dst)); got != 2 {
		t.Errorf("the copy has %d files, want 2", got)
	}
	testmod.Replace(t, filepath.Join(dst, "go.mod"))
	mod, err := os.ReadFile(filepath.Join(dst, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "replace github.com/wsunify/wsunify => " + testmod.Root(t) + "\n"; !strings.Contains(string(mod), want) || strings.Contains(string(mod), "../..") {
		t.Errorf("go.mod after Replace:\n%s\nwant %q", mod, want)
	}
}
