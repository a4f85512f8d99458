package codemod

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"testing"
)

// TestGofmtFile holds gofmtFile to go/format.Source, checks that the
// syntax tree comes back only when the source was formatted already, and
// that maybeAbnormal misses no literal gofmt rewrites.
func TestGofmtFile(t *testing.T) {
	for _, src := range []string{
		"package p\n\nvar x = 1\n",
		"package p\n\nimport (\n\t\"strings\"\n\t\"bytes\"\n)\n\nvar _, _ = strings.Cut, bytes.Cut\n",
		"package p\n\nfunc f() {\nx := 1\n_ = x\n}\n",
		"package p\n\nvar a = 1 // a\nvar bbbb = 2 // b\n",
		"package p\n\nvar x = 0X1F\n",
		"package p\n\nvar x = 0xABCDEF\n",
		"package p\n\nvar x = 1E3\n",
		"package p\n\nvar x = 0x1P-2\n",
		"package p\n\nvar x = 0B101 + 0O17 + 0o17\n",
		"package p\n\nvar x = 00i\n",
		"package p\n\nvar x = .5E3\n",
		"package p\n\nvar x = 1_000E3\n",
		"package p\n\nvar x = 0x1_Fp-2 + 0x1.P3\n",
		"package p\n\nvar x = []int{1}[0]; var Ei, iE = x.Error, x.iOS // 0X1F in a comment\n",
	} {
		want, err := format.Source([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		got, af, err := gofmtFile(token.NewFileSet(), "x.go", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("gofmtFile(%q) = %q, want %q", src, got, want)
		}
		if !maybeAbnormal([]byte(src)) && !numbersNormal(parseFile(t, src)) {
			t.Errorf("maybeAbnormal(%q) = false, but a literal is not as gofmt writes it", src)
		}
		if stable := bytes.Equal(want, []byte(src)); (af != nil) != stable {
			t.Errorf("gofmtFile(%q): tree returned = %v, source formatted = %v", src, af != nil, stable)
		}
	}
}

// parseFile parses src, with every literal checked by numbersNormal.
func parseFile(t *testing.T, src string) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
