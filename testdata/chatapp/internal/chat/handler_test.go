package chat_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"example.com/chatapp/internal/chat"
	"example.com/chatapp/internal/fakes"
	"example.com/chatapp/internal/push"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsunify/wsunify/bridge"
)

// harness is a Handler over test doubles.
type harness struct {
	h       *chat.Handler
	manager *fakes.Manager
	agent   *fakes.AgentBridge
	runs    []string // "user/thread/run" of every bridge asked for

	mu     sync.Mutex
	pushed []string // users who got a push
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	hs := &harness{manager: &fakes.Manager{}, agent: &fakes.AgentBridge{}}
	bridgeFor := func(userID, threadID, runID string) (bridge.AgentWebSocketBridge, error) {
		hs.runs = append(hs.runs, userID+"/"+threadID+"/"+runID)
		return hs.agent, nil
	}
	pusher := &push.Service{Deliver: func(_ context.Context, userID string, _ []byte) error {
		hs.mu.Lock()
		defer hs.mu.Unlock()
		hs.pushed = append(hs.pushed, userID)
		return nil
	}}
	hs.h = chat.NewHandler(hs.manager, bridgeFor, pusher, chat.Options{})
	t.Cleanup(hs.h.Close)
	return hs
}

// finish waits for the runs started so far to end.
func (hs *harness) finish(t *testing.T) {
	t.Helper()
	require.NoError(t, hs.h.Shutdown(t.Context()))
}

func TestHandleUserMessageAcknowledgesThenRuns(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	hs.manager.SetOnline("alice", true)

	runID, err := hs.h.HandleUserMessage(t.Context(), "alice", "thread-1", "hello")
	require.NoError(t, err)
	hs.finish(t)

	assert.Equal(t, []fakes.Sent{
		{Method: "SendToUser", To: "alice", Msg: bridge.Message{"type": "user_message_received", "thread_id": "thread-1", "run_id": runID}},
		{Method: "SendToThread", To: "thread-1", Msg: bridge.Message{"type": "run_started", "thread_id": "thread-1", "run_id": runID}},
		{Method: "EmitCriticalEvent", To: "alice", Msg: bridge.Message{"type": "run_finished", "thread_id": "thread-1", "run_id": runID}},
	}, hs.manager.Sent())
	assert.Equal(t, []string{"alice/thread-1/" + runID}, hs.runs)
	types := hs.agent.Types()
	require.NotEmpty(t, types)
	assert.Equal(t, "agent_started", types[0])
	assert.Equal(t, "agent_completed", types[len(types)-1])
	assert.Empty(t, hs.pushed, "alice is online: no push")
}

func TestHandleUserMessagePushesToOfflineUser(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	_, err := hs.h.HandleUserMessage(t.Context(), "bob", "", "hello")
	require.NoError(t, err)
	hs.finish(t)

	assert.Equal(t, []string{"bob"}, hs.pushed)
	for _, s := range hs.manager.Sent() {
		assert.NotEqual(t, "SendToThread", s.Method, "no thread, no announcement")
	}
}

func TestHandleUserMessageRefuses(t *testing.T) {
	t.Parallel()
	errDown := errors.New("socket down")
	tests := []struct {
		name    string
		text    string
		prepare func(hs *harness)
		wantErr string
	}{
		{name: "empty", text: "", wantErr: "chat: empty message"},
		{name: "ack fails", text: "hi", prepare: func(hs *harness) { hs.manager.FailWith(errDown) }, wantErr: "chat: acknowledge: socket down"},
		{name: "closed", text: "hi", prepare: func(hs *harness) { hs.h.Close() }, wantErr: "chat: handler closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hs := newHarness(t)
			if tt.prepare != nil {
				tt.prepare(hs)
			}
			_, err := hs.h.HandleUserMessage(t.Context(), "alice", "thread-1", tt.text)
			require.EqualError(t, err, tt.wantErr)
			hs.finish(t)
			assert.Empty(t, hs.manager.Sent())
			assert.Empty(t, hs.agent.Types(), "no run started")
			assert.Empty(t, hs.pushed)
		})
	}
}
