package recipe

import (
	"bytes"
	"go/ast"
	"go/printer"
	"regexp"
)

// The line breaks gofmt keeps inside an expression, and what each becomes
// on one line.
var (
	breakAfterComma = regexp.MustCompile(`,\s*\n\s*`)
	breakAfterOpen  = regexp.MustCompile(`([({\[])\s*\n\s*`)
	breakBeforeEnd  = regexp.MustCompile(`,?\s*\n\s*([)}\]])`)
	otherBreak      = regexp.MustCompile(`\s*\n\s*`)
)

// oneLine prints e as gofmt would, on one line, without comments.
func (p *parser) oneLine(e ast.Node) string {
	var b bytes.Buffer
	if err := (&printer.Config{Mode: printer.RawFormat}).Fprint(&b, p.fset, e); err != nil {
		return "<" + err.Error() + ">"
	}
	s := b.Bytes()
	s = breakBeforeEnd.ReplaceAll(s, []byte("$1"))
	s = breakAfterOpen.ReplaceAll(s, []byte("$1"))
	s = breakAfterComma.ReplaceAll(s, []byte(", "))
	s = otherBreak.ReplaceAll(s, []byte(" "))
	return string(s)
}
