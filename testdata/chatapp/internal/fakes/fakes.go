// Package fakes holds test doubles of the two notification shapes. They
// record what they are asked to send and are safe for concurrent use.
package fakes

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wsunify/wsunify/bridge"
)

// Sent is one message a Manager was asked to send.
type Sent struct {
	Method string // "SendToUser", "SendToThread", "EmitCriticalEvent" or "Broadcast"
	To     string // user or thread ID; "" for Broadcast
	Msg    bridge.Message
}

// Manager is a bridge.WebSocketManager that records messages instead of
// sending them.
type Manager struct {
	mu     sync.Mutex
	online map[string]bool
	err    error
	sent   []Sent
}

var _ bridge.WebSocketManager = (*Manager)(nil)

// SetOnline sets whether userID has a connection.
func (m *Manager) SetOnline(userID string, online bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.online == nil {
		m.online = make(map[string]bool)
	}
	m.online[userID] = online
}

// FailWith makes every later send return err (nil restores success).
func (m *Manager) FailWith(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

// Sent returns the messages recorded so far, in order. Failed sends are
// not recorded.
func (m *Manager) Sent() []Sent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Sent(nil), m.sent...)
}

func (m *Manager) record(method, to string, msg bridge.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.sent = append(m.sent, Sent{method, to, msg})
	return nil
}

// SendToUser records msg for userID.
func (m *Manager) SendToUser(_ context.Context, userID string, msg bridge.Message) error {
	return m.record("SendToUser", userID, msg)
}

// SendToThread records msg for threadID.
func (m *Manager) SendToThread(_ context.Context, threadID string, msg bridge.Message) error {
	return m.record("SendToThread", threadID, msg)
}

// EmitCriticalEvent records data with "type" set to eventType.
func (m *Manager) EmitCriticalEvent(_ context.Context, userID, eventType string, data bridge.Message) error {
	msg := bridge.Message{"type": eventType}
	for k, v := range data {
		msg[k] = v
	}
	return m.record("EmitCriticalEvent", userID, msg)
}

// Broadcast records msg for everyone.
func (m *Manager) Broadcast(_ context.Context, msg bridge.Message) error {
	return m.record("Broadcast", "", msg)
}

// IsConnectionActive reports what SetOnline set.
func (m *Manager) IsConnectionActive(userID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.online[userID]
}

// GetUserConnections returns one made-up ID for an online user.
func (m *Manager) GetUserConnections(userID string) []string {
	if m.IsConnectionActive(userID) {
		return []string{"conn-" + userID}
	}
	return nil
}

// Event is one agent event an AgentBridge was asked to send.
type Event struct {
	Type, RunID, Agent, Tool string
}

// AgentBridge is a bridge.AgentWebSocketBridge that records events.
type AgentBridge struct {
	mu     sync.Mutex
	failOn string
	events []Event
}

var _ bridge.AgentWebSocketBridge = (*AgentBridge)(nil)

// FailOn makes events of type typ fail with an error, unrecorded.
func (b *AgentBridge) FailOn(typ string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failOn = typ
}

// Types returns the types of the recorded events, in order.
func (b *AgentBridge) Types() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ts []string
	for _, e := range b.events {
		ts = append(ts, e.Type)
	}
	return ts
}

// Events returns the recorded events, in order.
func (b *AgentBridge) Events() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.events...)
}

func (b *AgentBridge) record(typ, runID, agent, tool string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if typ == b.failOn {
		return fmt.Errorf("fakes: %s refused", typ)
	}
	b.events = append(b.events, Event{typ, runID, agent, tool})
	return nil
}

// NotifyAgentStarted records agent_started.
func (b *AgentBridge) NotifyAgentStarted(_ context.Context, runID, agentName string, _ bridge.Message) error {
	return b.record("agent_started", runID, agentName, "")
}

// NotifyAgentThinking records agent_thinking.
func (b *AgentBridge) NotifyAgentThinking(_ context.Context, runID, agentName, _ string, _ int) error {
	return b.record("agent_thinking", runID, agentName, "")
}

// NotifyToolExecuting records tool_executing.
func (b *AgentBridge) NotifyToolExecuting(_ context.Context, runID, toolName, agentName string, _ bridge.Message) error {
	return b.record("tool_executing", runID, agentName, toolName)
}

// NotifyToolCompleted records tool_completed.
func (b *AgentBridge) NotifyToolCompleted(_ context.Context, runID, toolName, agentName string, _ any, _ time.Duration) error {
	return b.record("tool_completed", runID, agentName, toolName)
}

// NotifyAgentCompleted records agent_completed.
func (b *AgentBridge) NotifyAgentCompleted(_ context.Context, runID, agentName string, _ any, _ time.Duration) error {
	return b.record("agent_completed", runID, agentName, "")
}

// NotifyAgentError records agent_error.
func (b *AgentBridge) NotifyAgentError(_ context.Context, runID, agentName string, _ error) error {
	return b.record("agent_error", runID, agentName, "")
}

// NotifyProgressUpdate records progress_update.
func (b *AgentBridge) NotifyProgressUpdate(_ context.Context, runID, agentName string, _ bridge.Message) error {
	return b.record("progress_update", runID, agentName, "")
}

// NotifyCustom records an event of type notificationType.
func (b *AgentBridge) NotifyCustom(_ context.Context, runID, agentName, notificationType string, _ bridge.Message) error {
	return b.record(notificationType, runID, agentName, "")
}
