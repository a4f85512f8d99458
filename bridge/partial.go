package bridge

import (
	"context"
	"fmt"
	"time"
)

// The legacy methods one by one, so that a type with only some of a shape's
// methods (a team's own type mapped with `wsunify -shape`) can be adapted.
type (
	userSender interface {
		SendToUser(ctx context.Context, userID string, msg Message) error
	}
	threadSender interface {
		SendToThread(ctx context.Context, threadID string, msg Message) error
	}
	criticalEmitter interface {
		EmitCriticalEvent(ctx context.Context, userID, eventType string, data Message) error
	}
	broadcaster interface {
		Broadcast(ctx context.Context, msg Message) error
	}
	activeChecker   interface{ IsConnectionActive(userID string) bool }
	connLister      interface{ GetUserConnections(userID string) []string }
	startedNotifier interface {
		NotifyAgentStarted(ctx context.Context, runID, agentName string, context Message) error
	}
	thinkingNotifier interface {
		NotifyAgentThinking(ctx context.Context, runID, agentName, reasoning string, step int) error
	}
	toolExecutingNotifier interface {
		NotifyToolExecuting(ctx context.Context, runID, toolName, agentName string, params Message) error
	}
	toolCompletedNotifier interface {
		NotifyToolCompleted(ctx context.Context, runID, toolName, agentName string, result any, elapsed time.Duration) error
	}
	completedNotifier interface {
		NotifyAgentCompleted(ctx context.Context, runID, agentName string, result any, elapsed time.Duration) error
	}
	errorNotifier interface {
		NotifyAgentError(ctx context.Context, runID, agentName string, err error) error
	}
	progressNotifier interface {
		NotifyProgressUpdate(ctx context.Context, runID, agentName string, progress Message) error
	}
	customNotifier interface {
		NotifyCustom(ctx context.Context, runID, agentName, notificationType string, data Message) error
	}
)

// missing is the error of a legacy method a partial shape lacks.
func missing(x any, method string) error {
	return fmt.Errorf("%w: %T has no method %s", ErrUnsupported, x, method)
}

// hasAny reports whether x has one of the legacy methods of a shape.
func hasAny(x any, manager bool) bool {
	if manager {
		switch x.(type) {
		case userSender, threadSender, criticalEmitter, broadcaster:
			return true
		}
		return false
	}
	switch x.(type) {
	case startedNotifier, thinkingNotifier, toolExecutingNotifier, toolCompletedNotifier,
		completedNotifier, errorNotifier, progressNotifier, customNotifier:
		return true
	}
	return false
}

// partialManager is a WebSocketManager over a value with some of its
// methods; the others return ErrUnsupported, or report no connection.
type partialManager struct{ x any }

// partialBridge is an AgentWebSocketBridge over a value with some of its
// methods; the others return ErrUnsupported.
type partialBridge struct{ x any }

func (p partialManager) SendToUser(ctx context.Context, userID string, msg Message) error {
	if f, ok := p.x.(userSender); ok {
		return f.SendToUser(ctx, userID, msg)
	}
	return missing(p.x, "SendToUser")
}

func (p partialManager) SendToThread(ctx context.Context, threadID string, msg Message) error {
	if f, ok := p.x.(threadSender); ok {
		return f.SendToThread(ctx, threadID, msg)
	}
	return missing(p.x, "SendToThread")
}

func (p partialManager) EmitCriticalEvent(ctx context.Context, userID, eventType string, data Message) error {
	if f, ok := p.x.(criticalEmitter); ok {
		return f.EmitCriticalEvent(ctx, userID, eventType, data)
	}
	return missing(p.x, "EmitCriticalEvent")
}

func (p partialManager) Broadcast(ctx context.Context, msg Message) error {
	if f, ok := p.x.(broadcaster); ok {
		return f.Broadcast(ctx, msg)
	}
	return missing(p.x, "Broadcast")
}

func (p partialManager) IsConnectionActive(userID string) bool {
	if f, ok := p.x.(activeChecker); ok {
		return f.IsConnectionActive(userID)
	}
	return false
}

func (p partialManager) GetUserConnections(userID string) []string {
	if f, ok := p.x.(connLister); ok {
		return f.GetUserConnections(userID)
	}
	return nil
}

func (p partialBridge) NotifyAgentStarted(ctx context.Context, runID, agentName string, context Message) error {
	if f, ok := p.x.(startedNotifier); ok {
		return f.NotifyAgentStarted(ctx, runID, agentName, context)
	}
	return missing(p.x, "NotifyAgentStarted")
}

func (p partialBridge) NotifyAgentThinking(ctx context.Context, runID, agentName, reasoning string, step int) error {
	if f, ok := p.x.(thinkingNotifier); ok {
		return f.NotifyAgentThinking(ctx, runID, agentName, reasoning, step)
	}
	return missing(p.x, "NotifyAgentThinking")
}

func (p partialBridge) NotifyToolExecuting(ctx context.Context, runID, toolName, agentName string, params Message) error {
	if f, ok := p.x.(toolExecutingNotifier); ok {
		return f.NotifyToolExecuting(ctx, runID, toolName, agentName, params)
	}
	return missing(p.x, "NotifyToolExecuting")
}

func (p partialBridge) NotifyToolCompleted(ctx context.Context, runID, toolName, agentName string, result any, elapsed time.Duration) error {
	if f, ok := p.x.(toolCompletedNotifier); ok {
		return f.NotifyToolCompleted(ctx, runID, toolName, agentName, result, elapsed)
	}
	return missing(p.x, "NotifyToolCompleted")
}

func (p partialBridge) NotifyAgentCompleted(ctx context.Context, runID, agentName string, result any, elapsed time.Duration) error {
	if f, ok := p.x.(completedNotifier); ok {
		return f.NotifyAgentCompleted(ctx, runID, agentName, result, elapsed)
	}
	return missing(p.x, "NotifyAgentCompleted")
}

func (p partialBridge) NotifyAgentError(ctx context.Context, runID, agentName string, err error) error {
	if f, ok := p.x.(errorNotifier); ok {
		return f.NotifyAgentError(ctx, runID, agentName, err)
	}
	return missing(p.x, "NotifyAgentError")
}

func (p partialBridge) NotifyProgressUpdate(ctx context.Context, runID, agentName string, progress Message) error {
	if f, ok := p.x.(progressNotifier); ok {
		return f.NotifyProgressUpdate(ctx, runID, agentName, progress)
	}
	return missing(p.x, "NotifyProgressUpdate")
}

func (p partialBridge) NotifyCustom(ctx context.Context, runID, agentName, notificationType string, data Message) error {
	if f, ok := p.x.(customNotifier); ok {
		return f.NotifyCustom(ctx, runID, agentName, notificationType, data)
	}
	return missing(p.x, "NotifyCustom")
}
