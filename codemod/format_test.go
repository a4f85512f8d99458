package codemod

import (
	"bytes"
	"go/format"
	"go/token"
	"testing"
)

// TestGofmtFile holds gofmtFile to go/format.Source, and checks that the
// syntax tree comes back only when the source was formatted already.
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
		if stable := bytes.Equal(want, []byte(src)); (af != nil) != stable {
			t.Errorf("gofmtFile(%q): tree returned = %v, source formatted = %v", src, af != nil, stable)
		}
	}
}
