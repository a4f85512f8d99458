package gosrc

import (
	"bytes"
	"fmt"
	"go/token"
	"slices"

	"golang.org/x/tools/go/analysis"
)

// Edit replaces the bytes [Start, End) of a file with New; Start == End
// inserts.
type Edit struct {
	Start, End int
	New        string
}

// TextEdit returns e as an analysis.TextEdit of the file tf.
func (e Edit) TextEdit(tf *token.File) analysis.TextEdit {
	return analysis.TextEdit{Pos: tf.Pos(e.Start), End: tf.Pos(e.End), NewText: []byte(e.New)}
}

// Apply returns src with edits applied, in the order of their offsets
// (insertions at one offset in the order given). Edits that overlap, or
// lie outside src, are an error.
func Apply(src []byte, edits []Edit) ([]byte, error) {
	edits = slices.Clone(edits)
	slices.SortStableFunc(edits, func(a, b Edit) int { return a.Start - b.Start })
	var b bytes.Buffer
	b.Grow(len(src))
	last := 0
	for _, e := range edits {
		if e.Start < last || e.End < e.Start || e.End > len(src) {
			return nil, fmt.Errorf("gosrc: edit [%d,%d) overlaps another or lies outside the %d bytes of the file", e.Start, e.End, len(src))
		}
		b.Write(src[last:e.Start])
		b.WriteString(e.New)
		last = e.End
	}
	b.Write(src[last:])
	return b.Bytes(), nil
}
