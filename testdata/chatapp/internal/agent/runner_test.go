package agent_test

import (
	"context"
	"errors"
	"testing"

	"example.com/chatapp/internal/agent"
	"example.com/chatapp/internal/fakes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsunify/wsunify/bridge"
)

var errBroken = errors.New("index unavailable")

func TestRunnerReportsEveryStep(t *testing.T) {
	t.Parallel()
	ok := func(out string) agent.Tool {
		return func(context.Context, bridge.Message) (any, error) { return out, nil }
	}
	broken := func(context.Context, bridge.Message) (any, error) { return nil, errBroken }
	plan := []agent.Step{{Tool: "search_threads"}, {Tool: "answer"}}

	tests := []struct {
		name    string
		tools   map[string]agent.Tool
		failOn  string // the event the bridge refuses
		want    []string
		wantErr string // "": the run succeeds
	}{{
		name:  "success",
		tools: map[string]agent.Tool{"search_threads": ok("found"), "answer": ok("42")},
		want: []string{"agent_started",
			"agent_thinking", "tool_executing", "tool_completed", "progress_update",
			"agent_thinking", "tool_executing", "tool_completed", "progress_update",
			"agent_completed"},
	}, {
		name:    "tool fails",
		tools:   map[string]agent.Tool{"search_threads": ok("found"), "answer": broken},
		want:    []string{"agent_started", "agent_thinking", "tool_executing", "tool_completed", "progress_update", "agent_thinking", "tool_executing", "agent_error"},
		wantErr: "agent: step 2: tool answer: index unavailable",
	}, {
		name:    "unknown tool",
		tools:   map[string]agent.Tool{"answer": ok("42")},
		want:    []string{"agent_started", "agent_thinking", "agent_error"},
		wantErr: `agent: step 1: unknown tool "search_threads"`,
	}, {
		name:    "report fails",
		tools:   map[string]agent.Tool{"search_threads": ok("found"), "answer": ok("42")},
		failOn:  "tool_completed",
		want:    []string{"agent_started", "agent_thinking", "tool_executing", "agent_error"},
		wantErr: "agent: step 1: fakes: tool_completed refused",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &fakes.AgentBridge{}
			b.FailOn(tt.failOn)
			results, err := agent.New("assistant", b, tt.tools).Run(t.Context(), "run-1", nil, plan)

			assert.Equal(t, tt.want, b.Types())
			for _, e := range b.Events() {
				assert.Equal(t, fakes.Event{Type: e.Type, RunID: "run-1", Agent: "assistant", Tool: e.Tool}, e)
			}
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []any{"found", "42"}, results)
		})
	}
}

func TestRunnerNamesToolsInToolEvents(t *testing.T) {
	t.Parallel()
	b := &fakes.AgentBridge{}
	tools := agent.Toolbox(0)
	_, err := agent.New("assistant", b, tools).Run(t.Context(), "run-1", nil, agent.Plan("what did we decide?"))
	require.NoError(t, err)
	var named []string
	for _, e := range b.Events() {
		if e.Tool != "" {
			named = append(named, e.Type+":"+e.Tool)
		}
	}
	assert.Equal(t, []string{
		"tool_executing:search_threads", "tool_completed:search_threads",
		"tool_executing:answer", "tool_completed:answer",
	}, named)
}
