package recipe_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/txtar"

	"github.com/wsunify/wsunify/codemod/recipe"
)

var update = flag.Bool("update", false, "rewrite the errors sections of testdata/refuse")

// imports resolves the packages the test recipes import, loaded once from
// this module: the real bridge and facade.
var imports = func() func(t testing.TB) types.Importer {
	var (
		once sync.Once
		imp  types.Importer
		err  error
	)
	return func(t testing.TB) types.Importer {
		t.Helper()
		once.Do(func() {
			var pkgs []*packages.Package
			pkgs, err = packages.Load(&packages.Config{Context: context.Background(), Mode: recipe.LoadMode},
				"github.com/wsunify/wsunify/bridge", "github.com/wsunify/wsunify/facade",
				"context", "time", "errors", "fmt")
			if err == nil {
				imp = recipe.ImporterOf(pkgs)
			}
		})
		require.NoError(t, err)
		return imp
	}
}()

// parse parses src as the recipe file name.
func parse(t *testing.T, name string, src []byte) (*recipe.Recipe, error) {
	t.Helper()
	return recipe.Parse(token.NewFileSet(), name, src, imports(t))
}

// TestRefusals walks testdata/refuse: each archive opens with prose, holds
// one recipe file and the errors section Parse must report, exactly: every
// problem, in file order, with its position.
func TestRefusals(t *testing.T) {
	files, err := filepath.Glob("testdata/refuse/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			require.NoError(t, err)
			require.NotEmpty(t, bytes.TrimSpace(ar.Comment), "a case opens with prose saying what it tests")
			var src []byte
			var name string
			want := -1
			for i, f := range ar.Files {
				switch {
				case f.Name == "errors":
					want = i
				case strings.HasSuffix(f.Name, ".go"):
					name, src = f.Name, f.Data
				}
			}
			require.NotNil(t, src, "no recipe file")
			r, err := parse(t, name, src)
			require.Error(t, err)
			assert.Nil(t, r)
			var list recipe.ErrorList
			require.True(t, errors.As(err, &list), "%T", err)
			var got strings.Builder
			for _, e := range list {
				got.WriteString(e.Error() + "\n")
				assert.True(t, e.Pos.IsValid(), "every problem has a position: %v", e)
			}
			if *update {
				if want < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "errors"})
					want = len(ar.Files) - 1
				}
				ar.Files[want].Data = []byte(got.String())
				require.NoError(t, os.WriteFile(file, txtar.Format(ar), 0o644))
				return
			}
			require.GreaterOrEqual(t, want, 0, "no errors section")
			assert.Equal(t, string(ar.Files[want].Data), got.String())
		})
	}
}
