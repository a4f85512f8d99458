// The built-in recipe: the migration from bridge's two legacy shapes to
// facade. Each rule is a pair of functions, <x>Before and <x>After, with
// the same parameters; Before's doc comment gives the rule's ID and one
// line for humans. The codemod rewrites every call that Before's body
// describes into After's body, each parameter replaced by the call's
// argument; bridge's deprecation warnings are generated from these pairs.
//
// Step 1 (call sites) reaches the facade through bridge.NotifierOf,
// bridge.PresenceOf and bridge.EmitterOf; step 2 (//wsunify:retype) gives declarations of the
// legacy types a facade type, which makes those wrappers go away.

//lint:file-ignore U1000 the pairs are read by the codemod, not called
//lint:file-ignore SA1019 the recipe names the deprecated API it migrates from

package builtin

import (
	"context"
	"time"

	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

// send-to-user: a message to every connection of a user.
func sendToUserBefore(m bridge.WebSocketManager, ctx context.Context, userID string, msg bridge.Message) error {
	return m.SendToUser(ctx, userID, msg)
}

func sendToUserAfter(m bridge.WebSocketManager, ctx context.Context, userID string, msg bridge.Message) error {
	return bridge.NotifierOf(m).Notify(ctx, facade.ToUser(userID), facade.Raw(msg))
}

// send-to-thread: a message to every connection that joined a thread.
func sendToThreadBefore(m bridge.WebSocketManager, ctx context.Context, threadID string, msg bridge.Message) error {
	return m.SendToThread(ctx, threadID, msg)
}

func sendToThreadAfter(m bridge.WebSocketManager, ctx context.Context, threadID string, msg bridge.Message) error {
	return bridge.NotifierOf(m).Notify(ctx, facade.ToThread(threadID), facade.Raw(msg))
}

// broadcast: a message to every live connection.
func broadcastBefore(m bridge.WebSocketManager, ctx context.Context, msg bridge.Message) error {
	return m.Broadcast(ctx, msg)
}

func broadcastAfter(m bridge.WebSocketManager, ctx context.Context, msg bridge.Message) error {
	return bridge.NotifierOf(m).Notify(ctx, facade.ToAll(), facade.Raw(msg))
}

// emit-critical-event: the legacy critical envelope, kept by facade.Critical.
func emitCriticalEventBefore(m bridge.WebSocketManager, ctx context.Context, userID, eventType string, data bridge.Message) error {
	return m.EmitCriticalEvent(ctx, userID, eventType, data)
}

func emitCriticalEventAfter(m bridge.WebSocketManager, ctx context.Context, userID, eventType string, data bridge.Message) error {
	return bridge.NotifierOf(m).Notify(ctx, facade.ToUser(userID), facade.Critical(eventType, data))
}

// is-connection-active: whether a user is connected, asked of the facade.Presence behind a manager.
func isConnectionActiveBefore(m bridge.WebSocketManager, userID string) bool {
	return m.IsConnectionActive(userID)
}

func isConnectionActiveAfter(m bridge.WebSocketManager, userID string) bool {
	return bridge.PresenceOf(m).Connected(userID)
}

// get-user-connections: a user's connection IDs, asked of the facade.Presence behind a manager.
func getUserConnectionsBefore(m bridge.WebSocketManager, userID string) []string {
	return m.GetUserConnections(userID)
}

func getUserConnectionsAfter(m bridge.WebSocketManager, userID string) []string {
	return bridge.PresenceOf(m).ConnIDs(userID)
}

// agent-started: the start of a run, as a typed event.
func agentStartedBefore(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, data bridge.Message) error {
	return b.NotifyAgentStarted(ctx, runID, agent, data)
}

func agentStartedAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, data bridge.Message) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.AgentStarted, RunID: runID, Agent: agent, Data: data})
}

// agent-thinking: a reasoning step, its data a facade.Thought.
func agentThinkingBefore(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent, reasoning string, step int) error {
	return b.NotifyAgentThinking(ctx, runID, agent, reasoning, step)
}

func agentThinkingAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent, reasoning string, step int) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.AgentThinking, RunID: runID, Agent: agent, Data: facade.Thought{Reasoning: reasoning, Step: step}})
}

// tool-executing: a tool call, its parameters as the event's data.
func toolExecutingBefore(b bridge.AgentWebSocketBridge, ctx context.Context, runID, tool, agent string, data bridge.Message) error {
	return b.NotifyToolExecuting(ctx, runID, tool, agent, data)
}

func toolExecutingAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, tool, agent string, data bridge.Message) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.ToolExecuting, RunID: runID, Tool: tool, Agent: agent, Data: data})
}

// tool-completed: a tool's result, its data a facade.Outcome.
func toolCompletedBefore(b bridge.AgentWebSocketBridge, ctx context.Context, runID, tool, agent string, result any, elapsed time.Duration) error {
	return b.NotifyToolCompleted(ctx, runID, tool, agent, result, elapsed)
}

func toolCompletedAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, tool, agent string, result any, elapsed time.Duration) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.ToolCompleted, RunID: runID, Tool: tool, Agent: agent, Data: facade.Outcome{Result: result, Elapsed: elapsed}})
}

// agent-completed: a run's result, its data a facade.Outcome.
func agentCompletedBefore(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, result any, elapsed time.Duration) error {
	return b.NotifyAgentCompleted(ctx, runID, agent, result, elapsed)
}

func agentCompletedAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, result any, elapsed time.Duration) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.AgentCompleted, RunID: runID, Agent: agent, Data: facade.Outcome{Result: result, Elapsed: elapsed}})
}

// agent-error: a failed run, the error as the event's data.
func agentErrorBefore(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, data error) error {
	return b.NotifyAgentError(ctx, runID, agent, data)
}

func agentErrorAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, data error) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.AgentError, RunID: runID, Agent: agent, Data: data})
}

// progress-update: progress, sent as it is.
func progressUpdateBefore(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, data bridge.Message) error {
	return b.NotifyProgressUpdate(ctx, runID, agent, data)
}

func progressUpdateAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent string, data bridge.Message) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.ProgressUpdate, RunID: runID, Agent: agent, Data: data})
}

// custom: an event of the team's own type, named by the event's Name.
func customBefore(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent, name string, data bridge.Message) error {
	return b.NotifyCustom(ctx, runID, agent, name, data)
}

func customAfter(b bridge.AgentWebSocketBridge, ctx context.Context, runID, agent, name string, data bridge.Message) error {
	return bridge.EmitterOf(b).Emit(ctx, facade.Event{Type: facade.Custom, RunID: runID, Agent: agent, Name: name, Data: data})
}

// message-type: bridge.Message is the map[string]any it aliases.
type messageTypeBefore = bridge.Message

type messageTypeAfter = map[string]any

// retype: a manager used only through the facade becomes the facade.Notifier behind it.
//
//wsunify:retype
func managerBefore(m bridge.WebSocketManager) bridge.WebSocketManager {
	return m
}

func managerAfter(m bridge.WebSocketManager) facade.Notifier {
	return bridge.NotifierOf(m)
}

// retype: a manager also asked who is connected becomes the facade.Presence behind it.
//
//wsunify:retype
func presenceManagerBefore(m bridge.WebSocketManager) bridge.WebSocketManager {
	return m
}

func presenceManagerAfter(m bridge.WebSocketManager) facade.Presence {
	return bridge.PresenceOf(m)
}

// retype: a manager built from a hub becomes the *facade.Hub itself.
//
//wsunify:retype
func hubManagerBefore(h *facade.Hub) bridge.WebSocketManager {
	return bridge.NewWebSocketManager(h)
}

func hubManagerAfter(h *facade.Hub) *facade.Hub {
	return h
}

// retype: an agent bridge becomes the *facade.Emitter behind it.
//
//wsunify:retype
func agentBridgeBefore(b bridge.AgentWebSocketBridge) bridge.AgentWebSocketBridge {
	return b
}

func agentBridgeAfter(b bridge.AgentWebSocketBridge) *facade.Emitter {
	return bridge.EmitterOf(b)
}

// retype: an agent bridge built from a notifier and a context becomes an Emitter of the context's scope.
//
//wsunify:retype
//wsunify:pure uc
func newAgentBridgeBefore(n facade.Notifier, uc bridge.UserExecutionContext) bridge.AgentWebSocketBridge {
	return bridge.NewAgentWebSocketBridge(n, uc)
}

func newAgentBridgeAfter(n facade.Notifier, uc bridge.UserExecutionContext) *facade.Emitter {
	return facade.NewEmitter(n, facade.Scope{UserID: uc.UserID, ThreadID: uc.ThreadID, RunID: uc.RunID})
}

// retype: a user execution context read only for its IDs becomes a facade.Scope.
//
//wsunify:retype
//wsunify:pure uc
func userContextBefore(uc bridge.UserExecutionContext) bridge.UserExecutionContext {
	return uc
}

func userContextAfter(uc bridge.UserExecutionContext) facade.Scope {
	return facade.Scope{UserID: uc.UserID, ThreadID: uc.ThreadID, RunID: uc.RunID}
}

// retype: a context built from three IDs becomes facade.NewScope, which validates them the same way.
//
//wsunify:retype
func newUserContextBefore(userID, threadID, runID string) (bridge.UserExecutionContext, error) {
	return bridge.NewUserExecutionContext(userID, threadID, runID)
}

func newUserContextAfter(userID, threadID, runID string) (facade.Scope, error) {
	return facade.NewScope(userID, threadID, runID)
}

// retype: bridge.NotifierOf of a value that is a facade.Notifier already is the value itself.
//
//wsunify:retype
func notifierOfBefore(n facade.Notifier) facade.Notifier {
	return bridge.NotifierOf(n)
}

func notifierOfAfter(n facade.Notifier) facade.Notifier {
	return n
}

// retype: bridge.PresenceOf of a value that is a facade.Presence already is the value itself.
//
//wsunify:retype
func presenceOfBefore(p facade.Presence) facade.Presence {
	return bridge.PresenceOf(p)
}

func presenceOfAfter(p facade.Presence) facade.Presence {
	return p
}

// retype: bridge.EmitterOf of a *facade.Emitter is the Emitter itself.
//
//wsunify:retype
func emitterOfBefore(e *facade.Emitter) *facade.Emitter {
	return bridge.EmitterOf(e)
}

func emitterOfAfter(e *facade.Emitter) *facade.Emitter {
	return e
}
