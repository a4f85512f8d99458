// Package agent runs chatapp's assistant: a plan of tool calls, each step
// reported to the user as it happens.
package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wsunify/wsunify/bridge"
)

// Tool is one capability an agent can call. It must return when ctx is done.
type Tool func(ctx context.Context, params bridge.Message) (any, error)

// Step is one planned tool call and the reasoning shown while it runs.
type Step struct {
	Reasoning string
	Tool      string
	Params    bridge.Message
}

// Runner runs an agent's plans and reports every step through the embedded
// bridge: agent_started, then per step agent_thinking, tool_executing,
// tool_completed and progress_update, then agent_completed; agent_error
// instead of the rest when a step fails. A Runner may run several plans at
// once.
type Runner struct {
	bridge.AgentWebSocketBridge

	Name  string
	Tools map[string]Tool
}

// New returns a Runner named name that reports through b.
func New(name string, b bridge.AgentWebSocketBridge, tools map[string]Tool) *Runner {
	return &Runner{AgentWebSocketBridge: b, Name: name, Tools: tools}
}

// Run executes plan as run runID and returns the results of its steps.
// Failing to report an event fails the run: a user who cannot see the run
// should not wait for it.
func (r *Runner) Run(ctx context.Context, runID string, input bridge.Message, plan []Step) (results []any, err error) {
	start := time.Now()
	if err := r.NotifyAgentStarted(ctx, runID, r.Name, input); err != nil {
		return nil, fmt.Errorf("agent: report start: %w", err)
	}
	defer func() {
		if err != nil {
			_ = r.NotifyAgentError(ctx, runID, r.Name, err)
		}
	}()

	progress := r.NotifyProgressUpdate
	for i, step := range plan {
		if err := r.NotifyAgentThinking(ctx, runID, r.Name, step.Reasoning, i+1); err != nil {
			return nil, fmt.Errorf("agent: report step %d: %w", i+1, err)
		}
		out, err := r.call(ctx, runID, step)
		if err != nil {
			return nil, fmt.Errorf("agent: step %d: %w", i+1, err)
		}
		results = append(results, out)
		if err := progress(ctx, runID, r.Name, bridge.Message{
			"completed_steps": i + 1,
			"total_steps":     len(plan),
		}); err != nil {
			return nil, fmt.Errorf("agent: report progress: %w", err)
		}
	}

	if err := r.NotifyAgentCompleted(ctx, runID, r.Name,
		results, // every step's output, in order
		time.Since(start),
	); err != nil {
		return nil, fmt.Errorf("agent: report completion: %w", err)
	}
	return results, nil
}

// call runs one step's tool between tool_executing and tool_completed.
func (r *Runner) call(ctx context.Context, runID string, step Step) (any, error) {
	tool, ok := r.Tools[step.Tool]
	if !ok {
		return nil, fmt.Errorf("unknown tool %q", step.Tool)
	}
	if err := r.NotifyToolExecuting(ctx, runID,
		step.Tool, /* the tool comes before the agent in this shape */
		r.Name,
		step.Params,
	); err != nil {
		return nil, err
	}
	start := time.Now()
	out, err := tool(ctx, step.Params)
	if err != nil {
		return nil, fmt.Errorf("tool %s: %w", step.Tool, err)
	}
	return out, r.NotifyToolCompleted(ctx, runID, step.Tool, r.Name, out, time.Since(start))
}

// Plan is the default planner: search the user's threads for the question,
// then answer from what was found.
func Plan(question string) []Step {
	return []Step{
		{Reasoning: "Looking for earlier conversations about this", Tool: "search_threads", Params: bridge.Message{"query": question}},
		{Reasoning: "Writing the answer", Tool: "answer", Params: bridge.Message{"question": question}},
	}
}

// Toolbox returns the default tools; each takes latency to run, as a model
// call would.
func Toolbox(latency time.Duration) map[string]Tool {
	wait := func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(latency):
			return nil
		}
	}
	return map[string]Tool{
		"search_threads": func(ctx context.Context, p bridge.Message) (any, error) {
			return []string{}, wait(ctx)
		},
		"answer": func(ctx context.Context, p bridge.Message) (any, error) {
			q, _ := p["question"].(string)
			return "You asked: " + strings.TrimSpace(q), wait(ctx)
		},
	}
}
