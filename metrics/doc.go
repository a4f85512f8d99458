// Package metrics names the numbers a service running wsunify exports — a
// hub's [facade.Stats] and the calls to the bridge's deprecated entry
// points — and publishes them through [expvar]:
//
//	metrics.Publish("wsunify", hub) // GET /debug/vars shows them
//
// Package metrics/prom exports the same numbers, under the same names, as
// a Prometheus collector. It is the only package of the module that imports
// github.com/prometheus/client_golang, so a service that does not use it
// never compiles that dependency; facade and bridge import neither.
//
// Neither package imports bridge either: the bridge hands its counts over
// when it is linked ([github.com/wsunify/wsunify/bridge.DeprecatedCalls]),
// so a migrated service, whose code no longer imports it, exports its
// metrics without linking the bridge, and counts no deprecated call.
//
// # Names
//
// Every number of a hub is one element of [Hub]: its name in Prometheus is
// "wsunify_hub_" followed by [HubMetric.Name]; in expvar, the name is the
// key of the "hub" object, and numbers that share a name with a label
// (connections by state) are one object keyed by the label's value. The
// calls to deprecated entry points are the counter [DeprecatedCallsName],
// labelled call, rule and site, in expvar the "deprecated_calls" list of
// [github.com/wsunify/wsunify/bridge.DeprecatedCall].
//
// The legacy paths still running in production are then those whose
// counter grows:
//
//	sum by (call, rule, site) (rate(wsunify_bridge_deprecated_calls_total[1h])) > 0
package metrics
