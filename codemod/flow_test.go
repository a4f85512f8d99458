package codemod

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlowRelated checks that a declaration kept because a value flows in
// from outside the selected packages names, as related positions, the
// sites that block it: the calls in ./app of the relay-service-partial
// case.
func TestFlowRelated(t *testing.T) {
	res, dir := migrateCase(t, "relay-service-partial")
	got := map[string]string{} // "file:line" of the finding → its related positions
	for _, f := range res.Findings {
		if f.Rule != "retype" {
			continue
		}
		var rel []string
		for _, r := range f.Related {
			name, _ := filepath.Rel(dir, r.Pos.Filename)
			rel = append(rel, fmt.Sprintf("%s:%d", filepath.ToSlash(name), r.Pos.Line))
		}
		name, _ := filepath.Rel(dir, f.Pos.Filename)
		got[fmt.Sprintf("%s:%d", filepath.ToSlash(name), f.Pos.Line)] = strings.Join(rel, " ")
	}
	for decl, want := range map[string]string{
		"relay/relay.go:17": "app/app.go:13", // NewRelay's ws: called from app
		"relay/relay.go:30": "app/app.go:17", // Online's m: called from app
	} {
		if got[decl] != want {
			t.Errorf("%s: related %q, want %q (all: %q)", decl, got[decl], want, got)
		}
	}
}

// TestOutsideHint: a declaration kept because a package outside the
// selection uses it says how that package reaches the facade from it, by
// the recipe's pair for its type (bridge.EmitterOf for an agent bridge).
func TestOutsideHint(t *testing.T) {
	res, _ := migrateCase(t, "partial-agent-field")
	var msgs []string
	for _, f := range res.Findings {
		if f.Rule == "retype" {
			msgs = append(msgs, f.Message)
		}
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "outside the selected packages") ||
		!strings.Contains(msgs[0], "bridge.EmitterOf") || strings.Contains(msgs[0], "NotifierOf") {
		t.Errorf("retype findings: %q, want one naming bridge.EmitterOf", msgs)
	}
}

// TestKeptWithTheFieldItFlowsInto: a field kept because a generated file
// uses it keeps the variable whose value flows into it, for that reason,
// before any retype is tried (generated-flow).
func TestKeptWithTheFieldItFlowsInto(t *testing.T) {
	res, _ := migrateCase(t, "generated-flow")
	for _, f := range res.Findings {
		if strings.HasPrefix(f.Message, "defaultNotifier keeps") {
			if !strings.Contains(f.Message, "its value flows into notifier, which keeps its legacy type") {
				t.Errorf("finding %q: want the field it flows into as the reason", f.Message)
			}
			return
		}
	}
	t.Errorf("no finding for defaultNotifier in %v", res.Findings)
}
