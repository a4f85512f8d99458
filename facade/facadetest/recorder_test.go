package facadetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/facadetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRefusesWhatAHubRefuses sends the same bad input to a real hub and to
// a Recorder: both refuse it with the same error, and the Recorder records
// nothing.
func TestRefusesWhatAHubRefuses(t *testing.T) {
	t.Parallel()
	hub := facade.NewHub(nil)
	t.Cleanup(func() { _ = hub.Close() })
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		to   facade.Target
		ev   facade.Event
	}{
		{"done context", done, facade.ToUser("u1"), facade.Raw(map[string]any{"a": 1})},
		{"zero target", context.Background(), facade.Target{}, facade.Raw(map[string]any{"a": 1})},
		{"empty user", context.Background(), facade.ToUser(""), facade.Raw(map[string]any{"a": 1})},
		{"unencodable", context.Background(), facade.ToUser("u1"), facade.Raw(map[string]any{"c": make(chan int)})},
		{"invalid event", context.Background(), facade.ToUser("u1"), facade.Event{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec facadetest.Recorder
			want := hub.Notify(tc.ctx, tc.to, tc.ev)
			require.Error(t, want, "the hub refuses it")
			got := rec.Notify(tc.ctx, tc.to, tc.ev)
			require.Error(t, got)
			assert.Equal(t, want.Error(), got.Error())
			for _, sentinel := range []error{context.Canceled, facade.ErrInvalidTarget, facade.ErrInvalidEvent} {
				assert.Equal(t, errors.Is(want, sentinel), errors.Is(got, sentinel), "errors.Is %v", sentinel)
			}
			assert.Empty(t, rec.Sent())
		})
	}
}

func TestRecordsInOrder(t *testing.T) {
	t.Parallel()
	var rec facadetest.Recorder
	ctx := context.Background()
	msg := map[string]any{"type": "chat", "text": "hi"}
	require.NoError(t, rec.Notify(ctx, facade.ToUser("u1"), facade.Raw(msg)))
	require.NoError(t, rec.Notify(ctx, facade.ToThread("t1"), facade.Critical("alert", nil)))
	require.NoError(t, rec.Notify(ctx, facade.ToUser("u1"), facade.Event{Type: facade.AgentStarted, RunID: "r1", Agent: "a"}))

	assert.Equal(t, []any{msg}, rec.Messages(facade.ToUser("u1")), "only the Raw events")
	assert.Len(t, rec.To(facade.ToUser("u1")), 2)
	assert.Len(t, rec.To(facade.ToThread("t1")), 1)
	assert.Empty(t, rec.To(facade.ToAll()))
	taken := rec.Take()
	require.Len(t, taken, 3)
	assert.Equal(t, facade.ToThread("t1"), taken[1].To)
	assert.Equal(t, facade.AgentStarted, taken[2].Event.Type)
	assert.Empty(t, rec.Sent(), "Take forgets")
}

func TestFailWith(t *testing.T) {
	t.Parallel()
	var rec facadetest.Recorder
	boom := errors.New("boom")
	rec.FailWith(boom)
	assert.ErrorIs(t, rec.Notify(context.Background(), facade.ToAll(), facade.Raw(nil)), boom)
	assert.Empty(t, rec.Sent(), "a failed Notify records nothing")
	rec.FailWith(nil)
	require.NoError(t, rec.Notify(context.Background(), facade.ToAll(), facade.Raw(nil)))
	assert.Len(t, rec.Sent(), 1)
}

func TestPresence(t *testing.T) {
	t.Parallel()
	var rec facadetest.Recorder
	assert.False(t, rec.Connected("u1"))
	assert.Empty(t, rec.ConnIDs("u1"))
	rec.SetConns("u1", "c2", "c1")
	assert.True(t, rec.Connected("u1"))
	ids := rec.ConnIDs("u1")
	assert.Equal(t, []string{"c1", "c2"}, ids, "sorted, as the hub's")
	ids[0] = "changed"
	assert.Equal(t, []string{"c1", "c2"}, rec.ConnIDs("u1"), "a copy")
	rec.SetConns("u1")
	assert.False(t, rec.Connected("u1"))
}

// TestWait waits for events notified from other goroutines.
func TestWait(t *testing.T) {
	t.Parallel()
	var rec facadetest.Recorder
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			assert.NoError(t, rec.Notify(ctx, facade.ToUser("u1"), facade.Raw(map[string]any{"i": i})))
		})
	}
	got, err := rec.Wait(ctx, 20)
	require.NoError(t, err)
	assert.Len(t, got, 20)
	wg.Wait()

	short, cancelShort := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelShort()
	got, err = rec.Wait(short, 21)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Len(t, got, 20, "what arrived so far")
}

// The wire form a hub would write for a recorded Raw event is what the
// legacy fake's message marshals to.
func TestRecordedEventEncodesLikeTheLegacyMessage(t *testing.T) {
	t.Parallel()
	var rec facadetest.Recorder
	msg := map[string]any{"type": "chat", "n": 1}
	require.NoError(t, rec.Notify(context.Background(), facade.ToUser("u1"), facade.Raw(msg)))
	b, err := facade.EncodeEvent(rec.Sent()[0].Event, facade.EncodingLegacy, time.Now())
	require.NoError(t, err)
	want, _ := json.Marshal(msg)
	assert.JSONEq(t, string(want), string(b))
}

// TestTypesAndFailOn: Types names each accepted event by its wire type, and
// FailOn refuses one type only, recording nothing of it, until it is reset.
func TestTypesAndFailOn(t *testing.T) {
	t.Parallel()
	var rec facadetest.Recorder
	ctx := context.Background()
	to := facade.ToUser("u1")
	errNo := errors.New("refused")
	rec.FailOn("tool_completed", errNo)
	evs := []facade.Event{
		{Type: facade.AgentStarted, RunID: "r1"},
		{Type: facade.ToolCompleted, RunID: "r1", Tool: "search"},
		{Type: facade.Custom, Name: "my_event", RunID: "r1"},
		facade.Critical("run_finished", map[string]any{"run_id": "r1"}),
		facade.Raw(map[string]any{"type": "user_message_received"}),
		facade.Raw([]int{1}),
	}
	var errs []error
	for _, ev := range evs {
		errs = append(errs, rec.Notify(ctx, to, ev))
	}
	assert.Equal(t, []error{nil, errNo, nil, nil, nil, nil}, errs)
	assert.Equal(t, []string{"agent_started", "my_event", "run_finished", "user_message_received", ""}, rec.Types())

	rec.FailOn("tool_completed", nil)
	require.NoError(t, rec.Notify(ctx, to, evs[1]))
	assert.Equal(t, "tool_completed", rec.Types()[5])
}

// TestEmitter: the Recorder's Emitter emits for User, and Events returns
// what it accepted, in order, whatever the target.
func TestEmitter(t *testing.T) {
	t.Parallel()
	var rec facadetest.Recorder
	ctx := context.Background()
	e := rec.Emitter()
	require.NoError(t, e.Emit(ctx, facade.Event{Type: facade.AgentStarted, RunID: "r1", Agent: "a"}))
	require.NoError(t, rec.Notify(ctx, facade.ToThread("t1"), facade.Raw(map[string]any{"type": "chat"})))
	require.NoError(t, e.Emit(ctx, facade.Event{Type: facade.ToolExecuting, RunID: "r1", Agent: "a", Tool: "search"}))

	evs := rec.Events()
	require.Len(t, evs, 3)
	assert.Equal(t, facade.AgentStarted, evs[0].Type)
	assert.Equal(t, facadetest.User, evs[0].UserID, "the scope's user is filled in")
	assert.Equal(t, "search", evs[2].Tool)
	assert.Len(t, rec.To(facade.ToUser(facadetest.User)), 2, "Emit sends to the scope's user")
	assert.Equal(t, []string{"agent_started", "chat", "tool_executing"}, rec.Types())
}
