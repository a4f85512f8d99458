package facade_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

var update = flag.Bool("update", false, "rewrite golden files")

var goldenTime = time.Date(2025, 9, 1, 12, 30, 45, 123456000, time.UTC)

// goldenEvents is one event of every kind the facade encodes.
var goldenEvents = []struct {
	name string
	ev   facade.Event
}{
	{"agent_started", facade.Event{Type: facade.AgentStarted, RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: map[string]any{"thread_id": "t1", "query": "why is the sky blue?"}}},
	{"agent_started_nil_context", facade.Event{Type: facade.AgentStarted, RunID: "run-1", UserID: "u1", Agent: "triage"}},
	{"agent_thinking", facade.Event{Type: facade.AgentThinking, RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: facade.Thought{Reasoning: "Looking at the data", Step: 2}}},
	{"agent_thinking_progress", facade.Event{Type: facade.AgentThinking, RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: facade.Thought{Reasoning: "Halfway", Step: 3, Progress: 50}}},
	{"tool_executing", facade.Event{Type: facade.ToolExecuting, RunID: "run-1", UserID: "u1", Agent: "triage", Tool: "search",
		Data: map[string]any{"q": "rayleigh <scattering> & more"}}},
	{"tool_completed", facade.Event{Type: facade.ToolCompleted, RunID: "run-1", UserID: "u1", Agent: "triage", Tool: "search",
		Data: facade.Outcome{Result: []string{"a", "b"}, Elapsed: 1500 * time.Microsecond}}},
	{"agent_completed", facade.Event{Type: facade.AgentCompleted, RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: facade.Outcome{Result: map[string]any{"answer": 42}, Elapsed: 2 * time.Second}}},
	{"agent_error", facade.Event{Type: facade.AgentError, RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: errors.New("model timeout")}},
	{"agent_error_context", facade.Event{Type: facade.AgentError, RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: facade.Failure{Err: errors.New("quota"), Context: map[string]any{"retry_in": 30}}}},
	{"agent_death", facade.Event{Type: facade.AgentDeath, RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: map[string]any{"cause": "oom"}}},
	{"progress_update", facade.Event{Type: facade.ProgressUpdate, RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: map[string]any{"percent": 75, "message": "almost"}}},
	{"custom", facade.Event{Type: facade.Custom, Name: "report_ready", RunID: "run-1", UserID: "u1", Agent: "triage",
		Data: map[string]any{"url": "/r/1"}}},
	{"raw", facade.Raw(map[string]any{"type": "user_message", "content": "hi \"there\"", "n": 1})},
	{"critical", facade.Critical("agent_started", map[string]any{"run_id": "run-1", "type": "ignored"})},
	{"critical_non_map", facade.Critical("heartbeat", []int{1, 2})},
}

func TestEnvelopeGolden(t *testing.T) {
	t.Parallel()
	for _, tt := range goldenEvents {
		for _, enc := range []struct {
			suffix string
			enc    facade.Encoding
		}{{"", facade.EncodingLegacy}, {".numeric", facade.EncodingNumeric}} {
			got, err := facade.EncodeEvent(tt.ev, enc.enc, goldenTime)
			require.NoError(t, err, tt.name)
			require.True(t, json.Valid(got), "%s: %s", tt.name, got)
			path := filepath.Join("testdata", "golden", tt.name+enc.suffix+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
				continue
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create %s", path)
			assert.Equal(t, strings.TrimSuffix(string(want), "\n"), string(got), tt.name+enc.suffix)
		}
	}
}

func TestRawIsExactlyJSONMarshal(t *testing.T) {
	t.Parallel()
	msg := map[string]any{"z": 1, "a": []any{"<b>", 2.5, nil}, "m": map[string]any{"x": true}}
	want, err := json.Marshal(msg)
	require.NoError(t, err)
	for _, enc := range []facade.Encoding{facade.EncodingLegacy, facade.EncodingNumeric} {
		got, err := facade.EncodeEvent(facade.Raw(msg), enc, goldenTime)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
	}
}

// A message that contains itself is json.Marshal's error, returned by
// Notify; the direct encoder once followed such a map until the process
// died of a stack overflow, which no recover stops.
func TestRawCycleIsAnError(t *testing.T) {
	t.Parallel()
	m := map[string]any{"n": 1}
	m["self"] = m
	type holder struct {
		V any `json:"v"`
	}
	h := facade.NewHub(&facade.HubOptions{Logger: quiet})
	t.Cleanup(func() { _ = h.Close() })
	for _, msg := range []any{m, []any{m}, holder{V: m}} {
		_, want := json.Marshal(msg)
		var unsupported *json.UnsupportedValueError
		require.ErrorAs(t, want, &unsupported)
		err := h.Notify(context.Background(), facade.ToUser("u1"), facade.Raw(msg))
		require.ErrorAs(t, err, &unsupported, "%T", msg)
	}
	assert.Zero(t, h.Stats().Accepted, "nothing was queued or held")
}

func TestNumericEncodingUsesCodes(t *testing.T) {
	t.Parallel()
	for typ := facade.AgentStarted; typ < facade.Custom; typ++ {
		got, err := facade.EncodeEvent(facade.Event{Type: typ, RunID: "r"}, facade.EncodingNumeric, goldenTime)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(got, &m))
		assert.EqualValues(t, typ, m["type"], typ.String())
		name, ok := facade.ParseEventType(typ.String())
		assert.True(t, ok)
		assert.Equal(t, typ, name)
	}
}

func TestInvalidEventsAreRefused(t *testing.T) {
	t.Parallel()
	for _, ev := range []facade.Event{
		{},
		{Type: 99},
		{Type: facade.Custom},
		{Type: facade.Custom, Name: "agent_started"},
		facade.Critical("", nil),
	} {
		_, err := facade.EncodeEvent(ev, facade.EncodingLegacy, goldenTime)
		require.ErrorIs(t, err, facade.ErrInvalidEvent, "%+v", ev)
	}
	_, err := facade.EncodeEvent(facade.Event{Type: facade.ProgressUpdate, Data: make(chan int)}, facade.EncodingLegacy, goldenTime)
	require.Error(t, err)
}

// countingPayload counts how often it is marshaled.
type countingPayload struct{ n *atomic.Int32 }

func (c countingPayload) MarshalJSON() ([]byte, error) {
	c.n.Add(1)
	return []byte(`{"counted":true}`), nil
}

func TestEncodedOncePerNotify(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, nil)
	var clients []*wsClient
	for i, enc := range []string{"", facade.SubprotocolNumeric, facade.SubprotocolLegacy} {
		var protos []string
		if enc != "" {
			protos = []string{enc}
		}
		ws, c := s.dial(t, string(rune('a'+i)), protos...)
		ready(t, c, "u1")
		clients = append(clients, &wsClient{ws, enc})
	}
	var n atomic.Int32
	notify(t, s.hub, facade.ToUser("u1"), facade.Event{Type: facade.ProgressUpdate, RunID: "r", Data: countingPayload{&n}})
	for _, c := range clients {
		msg := readN(t, c.ws, 1)[0]
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(msg), &m))
		if c.proto == facade.SubprotocolNumeric {
			assert.EqualValues(t, facade.ProgressUpdate, m["type"])
		} else {
			assert.Equal(t, "progress_update", m["type"])
		}
		assert.Equal(t, map[string]any{"counted": true}, m["data"])
	}
	assert.EqualValues(t, 1, n.Load(), "one encoding for three receivers and two encodings")
}

func FuzzEncodeEvent(f *testing.F) {
	f.Add(uint16(1), "run", "user", "agent", "tool", "name", "k", "v")
	f.Add(uint16(9), "r\u2028", "<u>", "a&b", "\x00", "custom\"", "\xff", "\n")
	f.Fuzz(func(t *testing.T, typ uint16, run, user, agent, tool, name, key, val string) {
		ev := facade.Event{Type: facade.EventType(typ), Name: name, RunID: run, UserID: user, Agent: agent, Tool: tool,
			Data: map[string]any{key: val}}
		for _, enc := range []facade.Encoding{facade.EncodingLegacy, facade.EncodingNumeric} {
			b, err := facade.EncodeEvent(ev, enc, goldenTime)
			if err != nil {
				require.ErrorIs(t, err, facade.ErrInvalidEvent)
				return
			}
			require.True(t, json.Valid(b), "%q", b)
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			for field, want := range map[string]string{"run_id": run, "user_id": user, "agent_name": agent} {
				if utf8.ValidString(want) {
					assert.Equal(t, want, m[field], field)
				}
			}
			if enc == facade.EncodingLegacy && ev.Type != facade.Custom {
				assert.Equal(t, ev.Type.String(), m["type"])
			}
			// the hand-written encoder and encoding/json agree on every string
			for _, s := range []string{run, user, agent} {
				want, _ := json.Marshal(s)
				assert.Contains(t, string(b), string(want))
			}
		}
	})
}
