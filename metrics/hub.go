package metrics

import "github.com/wsunify/wsunify/facade"

// Kind says how a number behaves.
type Kind uint8

const (
	// Gauge is a number that goes up and down: a count of things now.
	Gauge Kind = iota + 1
	// Counter only goes up, from zero when the hub was made: a count of
	// things that happened.
	Counter
)

// A HubMetric is one number of a hub's [facade.Stats].
type HubMetric struct {
	// Name is the metric's name without the "wsunify_hub_" prefix;
	// counters end in "_total".
	Name string
	// Help is the metric's help text; the numbers that share a Name
	// carry it on the first of them.
	Help string
	Kind Kind
	// Label and LabelValue tell apart the numbers that share a Name (e.g.
	// state="ready"); both are empty for the others.
	Label, LabelValue string
	// Value reads the number in s.
	Value func(s facade.Stats) float64
}

// HubPrefix is the prefix of the Prometheus names of a hub's numbers.
const HubPrefix = "wsunify_hub_"

// Hub lists every number of a hub's Stats that package metrics exports, in
// the order they are exported. Numbers sharing a Name are adjacent.
var Hub = []HubMetric{
	{Name: "connections", Help: "Live connections, by readiness: ready (ProcessingReady) or not_ready (still on the way to it).",
		Kind: Gauge, Label: "state", LabelValue: "ready", Value: func(s facade.Stats) float64 { return float64(s.Ready) }},
	{Name: "connections", Kind: Gauge, Label: "state", LabelValue: "not_ready",
		Value: func(s facade.Stats) float64 { return float64(s.Conns - s.Ready) }},
	{Name: "users", Help: "Users with a live authenticated connection.",
		Kind: Gauge, Value: func(s facade.Stats) float64 { return float64(s.Users) }},
	{Name: "held_events", Help: "Events held for users and threads with no connection.",
		Kind: Gauge, Value: func(s facade.Stats) float64 { return float64(s.Held) }},
	{Name: "held_bytes", Help: "Bytes of the held events.",
		Kind: Gauge, Value: func(s facade.Stats) float64 { return float64(s.HeldBytes) }},
	{Name: "queued_events", Help: "Events queued on live connections, not yet written.",
		Kind: Gauge, Value: func(s facade.Stats) float64 { return float64(s.Queued) }},
	{Name: "notified_total", Help: "Notify calls that reached every receiver or a hold.",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.Notified) }},
	{Name: "accepted_total", Help: "Copies of events put on a connection's queue or in a hold: each ends written, expired, undelivered, held or queued.",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.Accepted) }},
	{Name: "written_total", Help: "Messages written to clients.",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.Written) }},
	{Name: "rejected_total", Help: "Events refused by a full hold or queue.",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.Rejected) }},
	{Name: "expired_total", Help: "Held events discarded past the hold's TTL.",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.Expired) }},
	{Name: "undelivered_total", Help: "Events given up because their connection went away unsent.",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.Undelivered) }},
	{Name: "slow_consumers_total", Help: "Connections closed as slow consumers (4008).",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.SlowConsumers) }},
	{Name: "ready_timeouts_total", Help: "Connections failed because they did not become ready in time.",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.ReadyTimeouts) }},
	{Name: "failed_connections_total", Help: "Connections that ended Failed.",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.Failed) }},
	{Name: "broker_errors_total", Help: "Notify calls the Broker failed (e.g. Redis unavailable).",
		Kind: Counter, Value: func(s facade.Stats) float64 { return float64(s.BrokerErrors) }},
}

// DeprecatedCallsName is the Prometheus name of the calls to deprecated
// entry points, a counter labelled call, rule and site.
const DeprecatedCallsName = "wsunify_bridge_deprecated_calls_total"

// DeprecatedCallsHelp is its help text.
const DeprecatedCallsHelp = "Calls to deprecated entry points of package bridge, by entry point (call), " +
	"the codemod rule that rewrites them (rule) and call site (site, file:line)."
