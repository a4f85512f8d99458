package codemod

import (
	"context"
	"encoding/json"
	"testing"
)

// TestSitesArePlaces holds Sites, which Count sums, to what a CI needs on
// every golden case: each site has a position, stands for one use (or a
// whole unchecked file's), and no place is listed twice, though a file
// may be checked in several build configurations.
func TestSitesArePlaces(t *testing.T) {
	for _, c := range readCases(t) {
		if c.wantErr != "" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c.writeModule(t, dir)
			opts, cfg, patterns := c.options(t)
			cfg.Dir = dir
			prog, err := Load(context.Background(), cfg, patterns...)
			if err != nil {
				t.Fatal(err)
			}
			sites, err := Sites(prog, opts)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[Site]bool{}
			for _, s := range sites {
				if s.Pos.Line == 0 || s.Pos.Filename == "" {
					t.Errorf("site without a position: %+v", s)
				}
				if s.Uses < 1 || (s.Uses != 1 && s.Rule != RuleUnchecked) {
					t.Errorf("site stands for %d uses: %+v", s.Uses, s)
				}
				if seen[s] {
					t.Errorf("site listed twice: %+v", s)
				}
				seen[s] = true
			}
		})
	}
}

// TestFindingJSON pins the one form of positions in JSON and its round trip.
func TestFindingJSON(t *testing.T) {
	var f Finding
	f.Pos.Filename, f.Pos.Line, f.Pos.Column = "internal/x.go", 3, 9
	f.Package, f.Rule, f.Message = "example.com/app/internal", RuleRetype, "m keeps its legacy type"
	f.Related = []Related{{Message: "why"}}
	f.Related[0].Pos.Filename, f.Related[0].Pos.Line, f.Related[0].Pos.Column = "y.go", 12, 11
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"pos":{"file":"internal/x.go","line":3,"column":9},"package":"example.com/app/internal","rule":"retype",` +
		`"message":"m keeps its legacy type","related":[{"pos":{"file":"y.go","line":12,"column":11},"message":"why"}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back Finding
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(back); string(b2) != want {
		t.Errorf("round trip: %s", b2)
	}
}
