// Package chat answers the messages users post in a thread: it acknowledges
// each one and runs the agent on it in the background.
package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"example.com/chatapp/internal/agent"
	"example.com/chatapp/internal/push"
	"github.com/wsunify/wsunify/bridge"
)

// BridgeFunc returns the agent bridge for one run of a user in a thread.
type BridgeFunc func(userID, threadID, runID string) (bridge.AgentWebSocketBridge, error)

// Options configures the agent runs of a Handler.
type Options struct {
	AgentName string                             // default "assistant"
	Tools     map[string]agent.Tool              // default agent.Toolbox(0)
	Plan      func(question string) []agent.Step // default agent.Plan
}

// Handler handles user messages. Its methods may be called concurrently;
// the agent runs it starts belong to it and end with Shutdown or Close.
type Handler struct {
	manager   bridge.WebSocketManager
	bridgeFor BridgeFunc
	push      *push.Service
	opts      Options

	ctx    context.Context // parent of every run; canceled on Close
	cancel context.CancelFunc
	runs   atomic.Uint64

	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup
}

// NewHandler returns a Handler that replies through manager, reports runs
// through the bridges bridgeFor returns, and pushes to offline users.
func NewHandler(manager bridge.WebSocketManager, bridgeFor BridgeFunc, pusher *push.Service, opts Options) *Handler {
	if opts.AgentName == "" {
		opts.AgentName = "assistant"
	}
	if opts.Tools == nil {
		opts.Tools = agent.Toolbox(0)
	}
	if opts.Plan == nil {
		opts.Plan = agent.Plan
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Handler{manager: manager, bridgeFor: bridgeFor, push: pusher, opts: opts, ctx: ctx, cancel: cancel}
}

// HandleUserMessage acknowledges text to userID, tells the thread the agent
// is on it, and starts a run. It returns the run's ID.
func (h *Handler) HandleUserMessage(ctx context.Context, userID, threadID, text string) (string, error) {
	if text == "" {
		return "", errors.New("chat: empty message")
	}
	if h.isClosed() {
		return "", errClosed
	}
	runID := "run-" + strconv.FormatUint(h.runs.Add(1), 10)
	b, err := h.bridgeFor(userID, threadID, runID)
	if err != nil {
		return "", fmt.Errorf("chat: agent bridge: %w", err)
	}

	reply := h.manager.SendToUser
	if err := reply(ctx, userID, bridge.Message{
		"type":      "user_message_received", // the frontend clears its input on this
		"thread_id": threadID,
		"run_id":    runID,
	}); err != nil {
		return "", fmt.Errorf("chat: acknowledge: %w", err)
	}
	if err := announce(ctx, h.manager, threadID, runID); err != nil {
		slog.WarnContext(ctx, "chat: announce run", "thread", threadID, "err", err)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return "", errClosed
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer h.manager.EmitCriticalEvent(h.ctx, userID, "run_finished", bridge.Message{"run_id": runID, "thread_id": threadID})
		h.run(b, userID, threadID, runID, text)
	}()
	return runID, nil
}

var errClosed = errors.New("chat: handler closed")

func (h *Handler) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// announce tells everyone watching threadID that a run started.
func announce(ctx context.Context, m bridge.WebSocketManager, threadID, runID string) error {
	if threadID == "" {
		return nil
	}
	return m.SendToThread(ctx, threadID, bridge.Message{"type": "run_started", "thread_id": threadID, "run_id": runID})
}

// run executes one agent run and, if the user has left by its end, pushes
// the news to their phone.
func (h *Handler) run(b bridge.AgentWebSocketBridge, userID, threadID, runID, text string) {
	ctx := h.ctx

	r := agent.New(h.opts.AgentName, b, h.opts.Tools)
	input := bridge.Message{"thread_id": threadID, "message": text}
	if _, err := r.Run(ctx, runID, input, h.opts.Plan(text)); err != nil {
		slog.WarnContext(ctx, "chat: run failed", "run", runID, "err", err)
		return
	}
	if !h.manager.IsConnectionActive(userID) && h.push != nil {
		err := h.push.SendToUser(ctx, userID, map[string]any{"title": "Your answer is ready", "thread_id": threadID})
		if err != nil {
			slog.WarnContext(ctx, "chat: push", "user", userID, "err", err)
		}
	}
}

// Shutdown refuses new messages and waits for the runs in flight to end.
// When ctx is done first, it cancels them and still waits for them to
// return.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	defer h.cancel()

	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.cancel()
		<-done
		return fmt.Errorf("chat: shutdown: %w", ctx.Err())
	}
}

// Close cancels the runs in flight and waits for them to return.
func (h *Handler) Close() {
	h.cancel()
	_ = h.Shutdown(context.Background())
}
