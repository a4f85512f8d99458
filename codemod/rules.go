package codemod

import (
	"fmt"
	"slices"
	"strings"
)

// Shape names a legacy shape: the part a type plays, whatever its name.
type Shape string

// The legacy shapes.
const (
	ShapeManager Shape = "WebSocketManager"     // bridge.WebSocketManager and its look-alikes
	ShapeAgent   Shape = "AgentWebSocketBridge" // bridge.AgentWebSocketBridge and its look-alikes

	shapeContext Shape = "UserExecutionContext" // bridge.UserExecutionContext, retyped to facade.Scope
)

// Step orders the rules: every rule of a step type-checks on its own, and a
// step only starts on what the previous ones left.
type Step int

// The steps of a migration.
const (
	// StepCallSite rewrites calls of legacy methods, reaching the facade
	// through bridge.NotifierOf and bridge.EmitterOf.
	StepCallSite Step = 1 + iota
	// StepRetype gives declarations of a legacy type a facade type and
	// simplifies their uses.
	StepRetype
)

// String names the step for humans.
func (s Step) String() string {
	switch s {
	case StepCallSite:
		return "call sites"
	case StepRetype:
		return "retype"
	}
	return fmt.Sprintf("Step(%d)", int(s))
}

// Rule is one rewrite of the built-in recipe.
type Rule struct {
	ID string
	// Legacy is the fully qualified legacy name the rule rewrites.
	Legacy string
	// Form is the migrated form, for humans.
	Form string
	Step Step

	shape  Shape  // for method rules
	method string // for method rules
	// Notifier rules: the facade target function (nil target for ToAll)
	// and the event constructor.
	target  string
	payload string // "Raw" or "Critical"
	// Hub rules: the *facade.Hub method.
	hubMethod string
	// Emitter rules: the event type constant and the Event field of each
	// argument after ctx; "Data.F" is field F of the Data struct dataType.
	event    string
	fields   []string
	dataType string
}

// The rule IDs that are not method rules.
const (
	RuleMessageType = "message-type"
	RuleRetype      = "retype"
	// RuleBridgeRef counts the remaining references to package bridge that
	// no rule rewrites: they are reported for a human.
	RuleBridgeRef = "bridge-ref"
)

// Rules is the built-in recipe, in the order the rules apply.
var Rules = []*Rule{
	notifyRule("send-to-user", "SendToUser", "ToUser", "Raw", "n.Notify(ctx, facade.ToUser(u), facade.Raw(msg))"),
	notifyRule("send-to-thread", "SendToThread", "ToThread", "Raw", "n.Notify(ctx, facade.ToThread(t), facade.Raw(msg))"),
	notifyRule("broadcast", "Broadcast", "", "Raw", "n.Notify(ctx, facade.ToAll(), facade.Raw(msg))"),
	notifyRule("emit-critical-event", "EmitCriticalEvent", "ToUser", "Critical", "n.Notify(ctx, facade.ToUser(u), facade.Critical(typ, data))"),
	hubRule("is-connection-active", "IsConnectionActive", "Connected"),
	hubRule("get-user-connections", "GetUserConnections", "ConnIDs"),
	emitRule("agent-started", "NotifyAgentStarted", "AgentStarted", "", "RunID", "Agent", "Data"),
	emitRule("agent-thinking", "NotifyAgentThinking", "AgentThinking", "Thought", "RunID", "Agent", "Data.Reasoning", "Data.Step"),
	emitRule("tool-executing", "NotifyToolExecuting", "ToolExecuting", "", "RunID", "Tool", "Agent", "Data"),
	emitRule("tool-completed", "NotifyToolCompleted", "ToolCompleted", "Outcome", "RunID", "Tool", "Agent", "Data.Result", "Data.Elapsed"),
	emitRule("agent-completed", "NotifyAgentCompleted", "AgentCompleted", "Outcome", "RunID", "Agent", "Data.Result", "Data.Elapsed"),
	emitRule("agent-error", "NotifyAgentError", "AgentError", "", "RunID", "Agent", "Data"),
	emitRule("progress-update", "NotifyProgressUpdate", "ProgressUpdate", "", "RunID", "Agent", "Data"),
	emitRule("custom", "NotifyCustom", "Custom", "", "RunID", "Agent", "Name", "Data"),
	{
		ID: RuleMessageType, Legacy: BridgePath + ".Message", Form: "map[string]any", Step: StepCallSite,
	},
	{
		ID: RuleRetype, Legacy: "declarations of " + BridgePath + ".WebSocketManager/AgentWebSocketBridge/UserExecutionContext",
		Form: "facade.Notifier, *facade.Emitter, *facade.Hub or facade.Scope, with bridge.NotifierOf(x) → x", Step: StepRetype,
	},
}

func notifyRule(id, method, target, payload, form string) *Rule {
	return &Rule{
		ID: id, Legacy: BridgePath + "." + string(ShapeManager) + "." + method, Form: form, Step: StepCallSite,
		shape: ShapeManager, method: method, target: target, payload: payload,
	}
}

func hubRule(id, method, hubMethod string) *Rule {
	return &Rule{
		ID: id, Legacy: BridgePath + "." + string(ShapeManager) + "." + method,
		Form: "hub." + hubMethod + "(u), where a *facade.Hub is reachable", Step: StepCallSite,
		shape: ShapeManager, method: method, hubMethod: hubMethod,
	}
}

func emitRule(id, method, event, dataType string, fields ...string) *Rule {
	return &Rule{
		ID: id, Legacy: BridgePath + "." + string(ShapeAgent) + "." + method,
		Form: "e.Emit(ctx, facade.Event{Type: facade." + event + ", ...})", Step: StepCallSite,
		shape: ShapeAgent, method: method, event: event, fields: fields, dataType: dataType,
	}
}

// RuleByID returns the built-in rule with the given ID, or nil.
func RuleByID(id string) *Rule {
	for _, r := range Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// RuleSet is a selection of rules; the zero value selects all of them.
type RuleSet map[string]bool

// ParseRuleSet parses a comma-separated list of rule IDs.
func ParseRuleSet(list string) (RuleSet, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	set := RuleSet{}
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if RuleByID(id) == nil {
			return nil, fmt.Errorf("codemod: unknown rule %q (rules: %s)", id, strings.Join(ruleIDs(), ", "))
		}
		set[id] = true
	}
	return set, nil
}

func ruleIDs() []string {
	ids := make([]string, len(Rules))
	for i, r := range Rules {
		ids[i] = r.ID
	}
	return ids
}

// Has reports whether the set selects the rule.
func (s RuleSet) Has(id string) bool { return len(s) == 0 || s[id] }

// ParseShape parses "WebSocketManager=example.com/app/ws.Manager": the
// user's type ws.Manager plays the part of bridge.WebSocketManager.
func ParseShape(s string) (Shape, string, error) {
	name, typ, ok := strings.Cut(s, "=")
	shape := Shape(strings.TrimSpace(name))
	if !ok || !slices.Contains([]Shape{ShapeManager, ShapeAgent}, shape) {
		return "", "", fmt.Errorf("codemod: -shape %q: want %s=pkg.Type or %s=pkg.Type", s, ShapeManager, ShapeAgent)
	}
	typ = strings.TrimSpace(typ)
	dot := strings.LastIndex(typ, ".")
	if dot <= 0 || dot == len(typ)-1 || strings.LastIndex(typ, "/") > dot {
		return "", "", fmt.Errorf("codemod: -shape %q: type must be qualified, as in example.com/app/ws.Manager", s)
	}
	return shape, typ, nil
}

func splitQualified(typ string) (path, name string) {
	dot := strings.LastIndex(typ, ".")
	return typ[:dot], typ[dot+1:]
}
