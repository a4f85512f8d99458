package metrics

import (
	"expvar"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/deprecated"
)

// Publish publishes [Var](h) through expvar under name, so that expvar's
// handler (GET /debug/vars on [net/http.DefaultServeMux], or
// [expvar.Handler] on a mux of your own) shows it. Like [expvar.Publish],
// it panics if name is already published.
func Publish(name string, h *facade.Hub) {
	expvar.Publish(name, Var(h))
}

// Var returns an expvar.Var whose value, read at each request, is an object
// with h's numbers under "hub" (omitted if h is nil) and the calls to
// deprecated entry points under "deprecated_calls":
//
//	{"hub": {"connections": {"ready": 1, "not_ready": 0}, "users": 1, …, "notified_total": 42, …},
//	 "deprecated_calls": [{"call": "WebSocketManager.SendToUser", "rule": "send-to-user", "site": "/src/chat/handler.go:78", "count": 3}]}
func Var(h *facade.Hub) expvar.Var {
	return expvar.Func(func() any {
		v := map[string]any{"deprecated_calls": deprecatedCalls()}
		if h != nil {
			v["hub"] = hubValues(h.Stats())
		}
		return v
	})
}

// deprecatedCalls is the bridge's DeprecatedCalls, never nil, so that expvar
// shows an empty list rather than null.
func deprecatedCalls() []deprecated.Call {
	if calls := deprecated.Calls(); calls != nil {
		return calls
	}
	return []deprecated.Call{}
}

// hubValues is s as expvar shows it: a number per name, or an object per
// label value for the names that have a label.
func hubValues(s facade.Stats) map[string]any {
	out := make(map[string]any, len(Hub))
	for _, m := range Hub {
		if m.Label == "" {
			out[m.Name] = m.Value(s)
			continue
		}
		byLabel, _ := out[m.Name].(map[string]float64)
		if byLabel == nil {
			byLabel = make(map[string]float64)
			out[m.Name] = byLabel
		}
		byLabel[m.LabelValue] = m.Value(s)
	}
	return out
}
