package facade_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

func TestNewScopeRefusesEmptyAndPlaceholderIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		user, thread, run string
		ok                bool
	}{
		{"real", "u-42", "t-7", "r-1", true},
		{"empty user", "", "t", "r", false},
		{"blank thread", "u", "  ", "r", false},
		{"None", "None", "t", "r", false},
		{"undefined run", "u", "t", "undefined", false},
		{"registry", "registry", "t", "r", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := facade.NewScope(tt.user, tt.thread, tt.run)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, facade.Scope{UserID: tt.user, ThreadID: tt.thread, RunID: tt.run}, s)
				return
			}
			require.ErrorIs(t, err, facade.ErrInvalidScope)
		})
	}
}

// recorder is a Notifier that keeps what it is given.
type recorder struct {
	to []facade.Target
	ev []facade.Event
}

func (r *recorder) Notify(_ context.Context, to facade.Target, ev facade.Event) error {
	r.to = append(r.to, to)
	r.ev = append(r.ev, ev)
	return nil
}

func TestEmitterFillsTheScope(t *testing.T) {
	t.Parallel()
	var r recorder
	e := facade.NewEmitter(&r, facade.Scope{UserID: "u1", ThreadID: "t1", RunID: "r1"})
	ctx := context.Background()
	require.NoError(t, e.Emit(ctx, facade.Event{Type: facade.AgentStarted, Agent: "a"}))
	require.NoError(t, e.Emit(ctx, facade.Event{Type: facade.AgentStarted, RunID: "other"}))
	require.NoError(t, e.Notify(ctx, facade.ToThread("t1"), facade.Raw(map[string]any{"x": 1})))

	assert.Equal(t, []facade.Target{facade.ToUser("u1"), facade.ToUser("u1"), facade.ToThread("t1")}, r.to)
	assert.Equal(t, "r1", r.ev[0].RunID)
	assert.Equal(t, "u1", r.ev[0].UserID)
	assert.Equal(t, "t1", r.ev[0].ThreadID)
	assert.Equal(t, "other", r.ev[1].RunID, "an explicit field wins")
	msg, ok := r.ev[2].RawPayload()
	require.True(t, ok, "a Raw event stays raw")
	assert.Equal(t, map[string]any{"x": 1}, msg)

	var nilEmitter *facade.Emitter
	require.ErrorIs(t, nilEmitter.Emit(ctx, facade.Event{}), facade.ErrNilNotifier)
	require.ErrorIs(t, facade.NewEmitter(nil, facade.Scope{}).Emit(ctx, facade.Event{}), facade.ErrNilNotifier)
}

func TestEmitterOverAHubReachesTheUser(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	ws, c := s.dial(t, "c1")
	ready(t, c, "u1")
	scope, err := facade.NewScope("u1", "t1", "r1")
	require.NoError(t, err)
	e := facade.NewEmitter(s.hub, scope)
	require.NoError(t, e.Emit(context.Background(), facade.Event{Type: facade.ToolExecuting, Agent: "a", Tool: "search"}))
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(readN(t, ws, 1)[0]), &m))
	assert.Equal(t, "tool_executing", m["type"])
	assert.Equal(t, "r1", m["run_id"])
	assert.Equal(t, "u1", m["user_id"])
	assert.Equal(t, "search", m["tool_name"])
}
