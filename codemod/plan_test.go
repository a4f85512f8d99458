package codemod

import (
	"fmt"
	"go/token"
	"slices"
	"testing"
)

// TestOnDiskNamesAPlaceOnce: the lines of one changed hunk go back to the
// line the change starts at, so related places that were apart in the
// rewritten source coincide on disk; each place is named once, and "the
// same" place as the finding's not at all (chatapp's plan named
// ws_test.go:71:11 three times under a finding at ws_test.go:71:11).
func TestOnDiskNamesAPlaceOnce(t *testing.T) {
	t.Parallel()
	const name = "/m/a.go"
	change := FileChange{Name: name, Old: []byte("a\nb\nc\n"), New: []byte("a\nB1\nB2\nB3\nc\n")}
	at := func(line int) token.Position { return token.Position{Filename: name, Line: line, Column: 1} }
	got := onDisk([]Finding{{Pos: at(1), Message: "m stays", Related: []Related{
		{Pos: at(2), Message: sameMessage},
		{Pos: at(3), Message: sameMessage},
		{Pos: at(4), Message: sameMessage},
		{Pos: at(1), Message: sameMessage},
		{Pos: at(2), Message: "passed here"},
		{Pos: at(3), Message: "passed here"},
	}}}, []FileChange{change})
	f := got[0]
	var places []string
	for _, r := range f.Related {
		places = append(places, fmt.Sprintf("%d:%s", r.Pos.Line, r.Message))
	}
	hunk := f.Related[0].Pos.Line // where the changed lines B1..B3 go
	want := []string{fmt.Sprintf("%d:%s", hunk, sameMessage), fmt.Sprintf("%d:passed here", hunk)}
	if f.Pos.Line != 1 || hunk == 1 || !slices.Equal(places, want) {
		t.Errorf("onDisk: finding at line %d, related %v; want line 1, related %v", f.Pos.Line, places, want)
	}
}
