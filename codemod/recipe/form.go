package recipe

import (
	"bytes"
	"go/ast"
	"go/printer"
	"go/token"
)

// oneLine prints e as gofmt would, on one line, without comments: printed
// against an empty file set, no two positions are on different lines.
func (p *parser) oneLine(e ast.Node) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, token.NewFileSet(), e); err != nil {
		return "<" + err.Error() + ">"
	}
	return b.String()
}
