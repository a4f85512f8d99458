package bridge

import (
	"cmp"
	"slices"

	"github.com/wsunify/wsunify/internal/deprecated"
)

// A DeprecatedCall is the number of calls one call site made to one
// deprecated entry point, as [DeprecatedCalls] reports it: its fields are
// Call (the entry point, e.g. "WebSocketManager.SendToUser"), Rule (the
// codemod rule that rewrites the call, e.g. "send-to-user"), Site (the
// caller's "file:line") and Count (calls since the process started).
type DeprecatedCall = deprecated.Call

func init() { deprecated.SetSource(DeprecatedCalls) }

// DeprecatedCalls returns a snapshot of the calls to deprecated entry
// points, one element per call site and entry point, sorted by Site, then
// Call. Calls made in [DeprecationOff] are not counted. It is safe to call
// concurrently with the calls it counts, which it does not slow down: the
// counting is the one atomic add every deprecated call already makes.
//
// Package metrics publishes it through expvar, and metrics/prom as the
// counter wsunify_bridge_deprecated_calls_total; neither imports bridge.
func DeprecatedCalls() []DeprecatedCall {
	var calls []DeprecatedCall
	bySite.Range(func(_, v any) bool {
		s := v.(*site)
		d := entries[s.id]
		calls = append(calls, DeprecatedCall{Call: d.name, Rule: d.rule, Site: s.pos, Count: uint64(s.count.Load())})
		return true
	})
	slices.SortFunc(calls, func(a, b DeprecatedCall) int {
		return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(a.Call, b.Call))
	})
	return calls
}
