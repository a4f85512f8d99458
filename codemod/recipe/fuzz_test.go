package recipe_test

import (
	"errors"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/wsunify/wsunify/codemod/recipe"
	"github.com/wsunify/wsunify/codemod/recipe/builtin"
)

// FuzzParse holds Parse to its contract on any input: a recipe, or an
// ErrorList whose every problem has a position, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(builtin.Source)
	f.Add([]byte(rulesSrc))
	files, _ := filepath.Glob("testdata/refuse/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			if strings.HasSuffix(af.Name, ".go") {
				f.Add(af.Data)
			}
		}
	}
	imp := imports(f) // before the workers time their first input
	f.Fuzz(func(t *testing.T, src []byte) {
		r, err := recipe.Parse(token.NewFileSet(), "fuzz.go", src, imp)
		if err == nil {
			if r == nil {
				t.Fatal("no recipe and no error")
			}
			for _, x := range r.Rules {
				if x.ID == "" || x.Form == "" || x.Legacy == nil {
					t.Fatalf("rule %+v lacks a field", x)
				}
			}
			return
		}
		var list recipe.ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %v is no ErrorList", err)
		}
		for _, e := range list {
			if !e.Pos.IsValid() {
				t.Fatalf("problem without a position: %v", e)
			}
		}
	})
}
