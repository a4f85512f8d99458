// Package bridge keeps the two legacy notification shapes compiling, on top
// of the one readiness-gated [facade.Notifier].
//
// Step one of a migration swaps the implementation under the old shapes
// without touching a call site: [NewWebSocketManager] and
// [NewAgentWebSocketBridge] send every message and event through
// facade.Notifier.Notify, and what reaches the wire is the legacy envelope,
// byte for byte. Step two rewrites the call sites (`wsunify apply`); until a
// declaration is retyped, [NotifierOf] and [EmitterOf] reach the Notifier
// behind any value of a legacy shape, a team's own implementation included.
//
// # Deprecation warnings
//
// Each deprecated constructor and method logs through log/slog, once per
// call site by default: the caller's file:line, the replacement and the
// codemod rule that writes it. [EnvDeprecation] (WSUNIFY_DEPRECATION)
// selects once, every, off or panic; [SetDeprecationMode] and
// [SetDeprecationLogger] change the mode and the logger in-process, and
// [DeprecatedCalls] reports the calls per entry point and call site
// (package metrics exports them).
//
// # Concurrency
//
// The manager and the agent bridge are safe for concurrent use when their
// Notifier is (a *facade.Hub is). The adapters made by [NotifierOf] are as
// safe as the legacy implementation they call.
//
// Deprecated: use package facade. Every name here is a step on the way
// there; `wsunify apply` rewrites the call sites.
package bridge

import (
	"context"
	"time"
)

// Message is a legacy JSON message.
//
// Deprecated: use map[string]any.
//
//go:fix inline
type Message = map[string]any

// WebSocketManager is the legacy connection manager shape.
//
// Deprecated: use facade.Notifier, or facade.Presence (a *facade.Hub is
// one) where Connected and ConnIDs are needed too.
type WebSocketManager interface {
	// SendToUser sends msg, encoded as json.Marshal(msg), to every
	// connection of the user.
	//
	// Deprecated: use n.Notify(ctx, facade.ToUser(userID), facade.Raw(msg)).
	SendToUser(ctx context.Context, userID string, msg Message) error

	// SendToThread sends msg to every connection that joined the thread.
	//
	// Deprecated: use n.Notify(ctx, facade.ToThread(threadID), facade.Raw(msg)).
	SendToThread(ctx context.Context, threadID string, msg Message) error

	// EmitCriticalEvent sends the legacy critical envelope
	// {"type": eventType, "critical": true, "timestamp", ...data} to the
	// user.
	//
	// Deprecated: use n.Notify(ctx, facade.ToUser(userID), facade.Critical(eventType, data)).
	EmitCriticalEvent(ctx context.Context, userID, eventType string, data Message) error

	// Broadcast sends msg to every live connection.
	//
	// Deprecated: use n.Notify(ctx, facade.ToAll(), facade.Raw(msg)).
	Broadcast(ctx context.Context, msg Message) error

	// IsConnectionActive reports whether the user has a live authenticated
	// connection.
	//
	// Deprecated: use bridge.PresenceOf(m).Connected(userID), or p.Connected(userID) on a facade.Presence such as a *facade.Hub.
	IsConnectionActive(userID string) bool

	// GetUserConnections returns the IDs of the user's live authenticated
	// connections.
	//
	// Deprecated: use bridge.PresenceOf(m).ConnIDs(userID), or p.ConnIDs(userID) on a facade.Presence such as a *facade.Hub.
	GetUserConnections(userID string) []string
}

// AgentWebSocketBridge is the legacy agent event shape, one per user
// execution context. Every event goes to the context's user.
//
// Deprecated: use *facade.Emitter.
type AgentWebSocketBridge interface {
	// NotifyAgentStarted reports that the agent started the run.
	//
	// Deprecated: use e.Emit(ctx, facade.Event{Type: facade.AgentStarted,
	// RunID: runID, Agent: agentName, Data: context}).
	NotifyAgentStarted(ctx context.Context, runID, agentName string, context Message) error

	// NotifyAgentThinking reports a reasoning step.
	//
	// Deprecated: use e.Emit(ctx, facade.Event{Type: facade.AgentThinking,
	// RunID: runID, Agent: agentName, Data: facade.Thought{Reasoning:
	// reasoning, Step: step}}).
	NotifyAgentThinking(ctx context.Context, runID, agentName, reasoning string, step int) error

	// NotifyToolExecuting reports that the agent called a tool.
	//
	// Deprecated: use e.Emit(ctx, facade.Event{Type: facade.ToolExecuting,
	// RunID: runID, Tool: toolName, Agent: agentName, Data: params}).
	NotifyToolExecuting(ctx context.Context, runID, toolName, agentName string, params Message) error

	// NotifyToolCompleted reports a tool's result.
	//
	// Deprecated: use e.Emit(ctx, facade.Event{Type: facade.ToolCompleted,
	// RunID: runID, Tool: toolName, Agent: agentName, Data:
	// facade.Outcome{Result: result, Elapsed: elapsed}}).
	NotifyToolCompleted(ctx context.Context, runID, toolName, agentName string, result any, elapsed time.Duration) error

	// NotifyAgentCompleted reports the run's result.
	//
	// Deprecated: use e.Emit(ctx, facade.Event{Type: facade.AgentCompleted,
	// RunID: runID, Agent: agentName, Data: facade.Outcome{Result: result,
	// Elapsed: elapsed}}).
	NotifyAgentCompleted(ctx context.Context, runID, agentName string, result any, elapsed time.Duration) error

	// NotifyAgentError reports that the run failed.
	//
	// Deprecated: use e.Emit(ctx, facade.Event{Type: facade.AgentError,
	// RunID: runID, Agent: agentName, Data: err}).
	NotifyAgentError(ctx context.Context, runID, agentName string, err error) error

	// NotifyProgressUpdate reports progress, sent as it is.
	//
	// Deprecated: use e.Emit(ctx, facade.Event{Type: facade.ProgressUpdate,
	// RunID: runID, Agent: agentName, Data: progress}).
	NotifyProgressUpdate(ctx context.Context, runID, agentName string, progress Message) error

	// NotifyCustom sends an event of the team's own type, data as it is.
	// A notification type that is empty or the name of a built-in event
	// ("agent_started", ...) is refused with an error wrapping
	// facade.ErrInvalidEvent: a client would take it for the built-in
	// event and misread its data.
	//
	// Deprecated: use e.Emit(ctx, facade.Event{Type: facade.Custom, Name:
	// notificationType, RunID: runID, Agent: agentName, Data: data}).
	NotifyCustom(ctx context.Context, runID, agentName, notificationType string, data Message) error
}
