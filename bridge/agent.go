package bridge

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/wsunify/wsunify/facade"
)

// agentBridge is the AgentWebSocketBridge over a *facade.Emitter. Each
// method is one Emit of its migrated form. It is safe for concurrent use
// when its Notifier is.
type agentBridge struct {
	e *facade.Emitter
}

// NewAgentWebSocketBridge returns the legacy agent bridge of uc, sending
// through n to uc's user. A nil n (or a nil pointer in n) makes a bridge
// whose methods return facade.ErrNilNotifier; an empty or placeholder
// uc.UserID makes one whose methods return an error wrapping
// facade.ErrInvalidScope, where the legacy bridge sent to nobody. Neither
// panics, and [EmitterOf] returns an Emitter that fails the same way.
//
// Deprecated: use facade.NewEmitter(n, facade.Scope{UserID: uc.UserID,
// ThreadID: uc.ThreadID, RunID: uc.RunID}).
func NewAgentWebSocketBridge(n facade.Notifier, uc UserExecutionContext) AgentWebSocketBridge {
	warn(context.Background(), newAgentWebSocketBridge)
	if isNil(n) {
		n = errNotifier{facade.ErrNilNotifier}
	} else if err := facade.ValidateID("user ID", uc.UserID); err != nil {
		n = errNotifier{fmt.Errorf("bridge: agent bridge: %w", err)}
	}
	return &agentBridge{e: facade.NewEmitter(n, uc.Scope())}
}

// isNil reports whether v is nil or holds a nil pointer, map, func, chan
// or slice.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice:
		return rv.IsNil()
	}
	return false
}

// NotifyAgentStarted implements [AgentWebSocketBridge].
func (b *agentBridge) NotifyAgentStarted(ctx context.Context, runID, agentName string, runContext Message) error {
	warn(ctx, notifyAgentStarted)
	return b.e.Emit(ctx, facade.Event{Type: facade.AgentStarted, RunID: runID, Agent: agentName, Data: runContext})
}

// NotifyAgentThinking implements [AgentWebSocketBridge].
func (b *agentBridge) NotifyAgentThinking(ctx context.Context, runID, agentName, reasoning string, step int) error {
	warn(ctx, notifyAgentThinking)
	return b.e.Emit(ctx, facade.Event{Type: facade.AgentThinking, RunID: runID, Agent: agentName, Data: facade.Thought{Reasoning: reasoning, Step: step}})
}

// NotifyToolExecuting implements [AgentWebSocketBridge].
func (b *agentBridge) NotifyToolExecuting(ctx context.Context, runID, toolName, agentName string, params Message) error {
	warn(ctx, notifyToolExecuting)
	return b.e.Emit(ctx, facade.Event{Type: facade.ToolExecuting, RunID: runID, Tool: toolName, Agent: agentName, Data: params})
}

// NotifyToolCompleted implements [AgentWebSocketBridge].
func (b *agentBridge) NotifyToolCompleted(ctx context.Context, runID, toolName, agentName string, result any, elapsed time.Duration) error {
	warn(ctx, notifyToolCompleted)
	return b.e.Emit(ctx, facade.Event{Type: facade.ToolCompleted, RunID: runID, Tool: toolName, Agent: agentName, Data: facade.Outcome{Result: result, Elapsed: elapsed}})
}

// NotifyAgentCompleted implements [AgentWebSocketBridge].
func (b *agentBridge) NotifyAgentCompleted(ctx context.Context, runID, agentName string, result any, elapsed time.Duration) error {
	warn(ctx, notifyAgentCompleted)
	return b.e.Emit(ctx, facade.Event{Type: facade.AgentCompleted, RunID: runID, Agent: agentName, Data: facade.Outcome{Result: result, Elapsed: elapsed}})
}

// NotifyAgentError implements [AgentWebSocketBridge].
func (b *agentBridge) NotifyAgentError(ctx context.Context, runID, agentName string, err error) error {
	warn(ctx, notifyAgentError)
	return b.e.Emit(ctx, facade.Event{Type: facade.AgentError, RunID: runID, Agent: agentName, Data: err})
}

// NotifyProgressUpdate implements [AgentWebSocketBridge].
func (b *agentBridge) NotifyProgressUpdate(ctx context.Context, runID, agentName string, progress Message) error {
	warn(ctx, notifyProgressUpdate)
	return b.e.Emit(ctx, facade.Event{Type: facade.ProgressUpdate, RunID: runID, Agent: agentName, Data: progress})
}

// NotifyCustom implements [AgentWebSocketBridge]. It refuses an empty
// notification type and the wire name of a built-in event.
func (b *agentBridge) NotifyCustom(ctx context.Context, runID, agentName, notificationType string, data Message) error {
	warn(ctx, notifyCustom)
	if err := checkCustomName(notificationType); err != nil {
		return err
	}
	return b.e.Emit(ctx, facade.Event{Type: facade.Custom, Name: notificationType, RunID: runID, Agent: agentName, Data: data})
}

// checkCustomName refuses a custom notification type a client would take for
// something else: nothing, or a built-in event whose data it would misread.
// "custom", the name of the Custom type itself, is no event on the wire and
// is allowed.
func checkCustomName(name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("bridge: NotifyCustom: %w: empty notification type", facade.ErrInvalidEvent)
	}
	if t, ok := facade.ParseEventType(name); ok && t != facade.Custom {
		return fmt.Errorf("bridge: NotifyCustom: %w: %q is a built-in event; send it with its own method", facade.ErrInvalidEvent, name)
	}
	return nil
}
