// Package bridge keeps the two legacy notification shapes compiling, on top
// of the one readiness-gated [facade.Notifier].
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
type Message = map[string]any

// WebSocketManager is the legacy connection manager shape.
//
// Deprecated: use facade.Notifier (and *facade.Hub for Connected/ConnIDs).
type WebSocketManager interface {
	SendToUser(ctx context.Context, userID string, msg Message) error
	SendToThread(ctx context.Context, threadID string, msg Message) error
	EmitCriticalEvent(ctx context.Context, userID, eventType string, data Message) error
	Broadcast(ctx context.Context, msg Message) error
	IsConnectionActive(userID string) bool
	GetUserConnections(userID string) []string
}

// AgentWebSocketBridge is the legacy agent event shape, one per user
// execution context.
//
// Deprecated: use *facade.Emitter.
type AgentWebSocketBridge interface {
	NotifyAgentStarted(ctx context.Context, runID, agentName string, context Message) error
	NotifyAgentThinking(ctx context.Context, runID, agentName, reasoning string, step int) error
	NotifyToolExecuting(ctx context.Context, runID, toolName, agentName string, params Message) error
	NotifyToolCompleted(ctx context.Context, runID, toolName, agentName string, result any, elapsed time.Duration) error
	NotifyAgentCompleted(ctx context.Context, runID, agentName string, result any, elapsed time.Duration) error
	NotifyAgentError(ctx context.Context, runID, agentName string, err error) error
	NotifyProgressUpdate(ctx context.Context, runID, agentName string, progress Message) error
	NotifyCustom(ctx context.Context, runID, agentName, notificationType string, data Message) error
}
