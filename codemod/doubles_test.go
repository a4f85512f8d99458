package codemod

import (
	"strings"
	"testing"
)

// TestDoublesFindings reads the messages of ../testdata/cases/doubles.txtar
// (the case itself pins only their lines): the exact replacement of a
// double reached only through the bridge's adapter, with the adapter's
// sites and the use that keeps it (doubleswap.go); the removal of one
// nothing uses as a legacy manager, with its declaration and legacy
// methods; the plain reason for one still held as a legacy manager.
func TestDoublesFindings(t *testing.T) {
	t.Parallel()
	res, _ := migrateCase(t, "doubles")
	byLine := map[int]Finding{}
	for _, f := range res.Findings {
		if strings.HasSuffix(f.Pos.Filename, "doubles_test.go") {
			byLine[f.Pos.Line] = f
		}
	}
	rec := byLine[13]
	if !strings.Contains(rec.Message, "Recording reaches the facade only through the bridge's adapter: a *facadetest.Recorder") ||
		len(rec.Related) != 3 || rec.Related[0].Message != "reached through PresenceOf" ||
		rec.Related[2].Message != "r is set to a value other than an empty &Recording{}" {
		t.Errorf("Recording: %s %v", rec.Message, rec.Related)
	}
	unused := byLine[27]
	if !strings.Contains(unused.Message, "nothing uses an Unused as one any more: the assertion and Unused's legacy methods can be removed") ||
		len(unused.Related) != 7 || unused.Related[0].Message != "Unused is declared here" || unused.Related[0].Pos.Line != 25 {
		t.Errorf("Unused: %s %v", unused.Message, unused.Related)
	}
	for _, r := range unused.Related[1:] {
		if !strings.HasPrefix(r.Message, "legacy method ") || r.Pos.Line < 29 || r.Pos.Line > 34 {
			t.Errorf("Unused: related %v", r)
		}
	}
	if held := byLine[39]; held.Message != "_ keeps its legacy type: "+assertionReason || len(held.Related) != 0 {
		t.Errorf("Held: %s %v", held.Message, held.Related)
	}
}
