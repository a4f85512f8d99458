package ws

import (
	"context"
	"time"

	legacyws "github.com/wsunify/wsunify/bridge"
)

// AgentBridge reports the events of agent runs in one user's thread. It
// implements legacyws.AgentWebSocketBridge over a Manager and may be used
// from any goroutine.
type AgentBridge struct {
	manager          *Manager
	userID, threadID string
}

var _ legacyws.AgentWebSocketBridge = (*AgentBridge)(nil)

// NewAgentBridge returns the bridge for userID's runs in threadID.
func NewAgentBridge(m *Manager, userID, threadID string) *AgentBridge {
	return &AgentBridge{manager: m, userID: userID, threadID: threadID}
}

// envelope is the agent notification on the wire, fields in the order the
// Python service wrote them.
type envelope struct {
	Type      string `json:"type"`
	RunID     string `json:"run_id"`
	UserID    string `json:"user_id"`
	AgentName string `json:"agent_name"`
	ToolName  string `json:"tool_name,omitempty"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// The "data" objects, fields in wire order.
type (
	startedData struct {
		Status  string `json:"status"`
		Context any    `json:"context"`
		Message string `json:"message"`
	}
	thinkingData struct {
		Reasoning string `json:"reasoning"`
		Step      int    `json:"step_number"`
		Status    string `json:"status"`
	}
	toolData struct {
		Parameters any    `json:"parameters"`
		Status     string `json:"status"`
		Message    string `json:"message"`
	}
	completedData struct {
		Result  any     `json:"result"`
		Elapsed float64 `json:"execution_time_ms"`
		Status  string  `json:"status"`
		Message string  `json:"message"`
	}
	errorData struct {
		Status  string `json:"status"`
		Error   string `json:"error_message"`
		Context any    `json:"error_context"`
		Message string `json:"message"`
	}
)

func (b *AgentBridge) send(ctx context.Context, typ, runID, agent, tool string, data any) error {
	return b.manager.SendJSON(ctx, b.userID, envelope{
		Type: typ, RunID: runID, UserID: b.userID, AgentName: agent, ToolName: tool,
		Timestamp: timestamp(time.Now()),
		Data:      data,
	})
}

// NotifyAgentStarted sends agent_started.
func (b *AgentBridge) NotifyAgentStarted(ctx context.Context, runID, agentName string, details legacyws.Message) error {
	return b.send(ctx, "agent_started", runID, agentName, "", startedData{"started", orEmpty(details), agentName + " started"})
}

// NotifyAgentThinking sends agent_thinking.
func (b *AgentBridge) NotifyAgentThinking(ctx context.Context, runID, agentName, reasoning string, step int) error {
	return b.send(ctx, "agent_thinking", runID, agentName, "", thinkingData{reasoning, step, "thinking"})
}

// NotifyToolExecuting sends tool_executing.
func (b *AgentBridge) NotifyToolExecuting(ctx context.Context, runID, toolName, agentName string, params legacyws.Message) error {
	return b.send(ctx, "tool_executing", runID, agentName, toolName, toolData{orEmpty(params), "executing", "Executing " + toolName})
}

// NotifyToolCompleted sends tool_completed.
func (b *AgentBridge) NotifyToolCompleted(ctx context.Context, runID, toolName, agentName string, result any, elapsed time.Duration) error {
	return b.send(ctx, "tool_completed", runID, agentName, toolName, completedData{result, ms(elapsed), "completed", "Completed " + toolName})
}

// NotifyAgentCompleted sends agent_completed.
func (b *AgentBridge) NotifyAgentCompleted(ctx context.Context, runID, agentName string, result any, elapsed time.Duration) error {
	return b.send(ctx, "agent_completed", runID, agentName, "", completedData{result, ms(elapsed), "completed", agentName + " completed"})
}

// NotifyAgentError sends agent_error.
func (b *AgentBridge) NotifyAgentError(ctx context.Context, runID, agentName string, err error) error {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	return b.send(ctx, "agent_error", runID, agentName, "", errorData{"error", msg, orEmpty(nil), agentName + " failed: " + msg})
}

// NotifyProgressUpdate sends progress_update with progress as its data.
func (b *AgentBridge) NotifyProgressUpdate(ctx context.Context, runID, agentName string, progress legacyws.Message) error {
	return b.send(ctx, "progress_update", runID, agentName, "", orEmpty(progress))
}

// NotifyCustom sends an event named notificationType with data.
func (b *AgentBridge) NotifyCustom(ctx context.Context, runID, agentName, notificationType string, data legacyws.Message) error {
	return b.send(ctx, notificationType, runID, agentName, "", orEmpty(data))
}

func orEmpty(m legacyws.Message) legacyws.Message {
	if m == nil {
		return legacyws.Message{}
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
