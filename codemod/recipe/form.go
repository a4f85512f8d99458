package recipe

import (
	"bytes"
	"go/ast"
	"go/printer"
	"go/token"
	"strings"
)

// oneLine prints e as gofmt would, on one line, without comments: printed
// against an empty file set, no two positions are on different lines. The
// statements of a function literal, which the printer still puts on lines
// of their own, are joined with semicolons.
func (p *parser) oneLine(e ast.Node) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, token.NewFileSet(), e); err != nil {
		return "<" + err.Error() + ">"
	}
	lines := strings.Split(b.String(), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	var s strings.Builder
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if i > 0 {
			prev := strings.TrimSpace(lines[i-1])
			if strings.HasSuffix(prev, "{") || strings.HasPrefix(l, "}") || strings.HasSuffix(prev, ",") {
				s.WriteByte(' ')
			} else {
				s.WriteString("; ")
			}
		}
		s.WriteString(l)
	}
	return s.String()
}
