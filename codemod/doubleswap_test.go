package codemod

import (
	"slices"
	"strings"
	"testing"
)

// TestDoubleSwapFindings reads the findings of
// ../testdata/cases/doubleswap.txtar (the case pins their lines and the
// swaps): each double that keeps a slot lists the uses that keep it, with
// the Recorder's counterpart of another signature when it has one.
func TestDoubleSwapFindings(t *testing.T) {
	t.Parallel()
	res, _ := migrateCase(t, "doubleswap")
	related := map[string][]string{} // double → "file:line: message"
	for _, f := range res.Findings {
		if !strings.HasSuffix(f.Pos.Filename, "fakes.go") {
			continue
		}
		name := "Manager"
		if strings.Contains(f.Message, "that Bridge implements") {
			name = "Bridge"
		}
		if !strings.Contains(f.Message, "the uses below keep "+name) {
			t.Errorf("%s: %s", name, f.Message)
		}
		for _, r := range f.Related {
			related[name] = append(related[name], r.Pos.Filename[strings.LastIndex(r.Pos.Filename, "/")+1:]+": "+r.Message)
		}
	}
	want := map[string][]string{
		"Manager": {
			"notify_test.go: reached through NotifierOf",
			"notify_test.go: m.Sent: Manager's Sent() []fakes.Sent; a *facadetest.Recorder's is Sent() []facadetest.Sent",
		},
		"Bridge": {
			"agent_test.go: reached through EmitterOf",
			"agent_test.go: reached through EmitterOf",
			"agent_test.go: a struct literal without field names sets a",
			"agent_test.go: a struct literal without field names sets b",
			"agent_test.go: a shares its type with the other fields of its line",
			"agent_test.go: b shares its type with the other fields of its line",
			"agent_test.go: b.FailOn: Bridge's FailOn(string); a *facadetest.Recorder's is FailOn(string, error)",
		},
	}
	for name, w := range want {
		got := related[name]
		slices.Sort(got)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: related\n got %q\nwant %q", name, got, w)
		}
	}
}
