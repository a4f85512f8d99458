package bridge

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/facadetest"
)

// The tests in this file change the process's deprecation mode and logger,
// so none of them is parallel.

// nextLine returns "file:line" of the line after its caller's.
func nextLine() string {
	_, file, line, _ := runtime.Caller(1)
	return file + ":" + strconv.Itoa(line+1)
}

// sourceLine returns the text at site ("file:line").
func sourceLine(t *testing.T, site string) string {
	t.Helper()
	i := strings.LastIndexByte(site, ':')
	n, err := strconv.Atoi(site[i+1:])
	require.NoError(t, err)
	src, err := os.ReadFile(site[:i])
	require.NoError(t, err)
	lines := strings.Split(string(src), "\n")
	require.Less(t, n-1, len(lines))
	return lines[n-1]
}

// recordSite returns the file:line of a record's source PC.
func recordSite(r slog.Record) string {
	f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
	return f.File + ":" + strconv.Itoa(f.Line)
}

func TestDeprecationOnceLogsFirstCallOfEachSite(t *testing.T) {
	h := captureWarnings(t, DeprecationOnce)
	m := &manager{hub: &facadetest.Recorder{}}
	ctx := context.Background()
	var site string
	for range 3 {
		site = nextLine()
		require.NoError(t, m.SendToUser(ctx, user, chatMsg))
	}
	other := nextLine()
	require.NoError(t, m.SendToUser(ctx, user, chatMsg))

	recs := h.records()
	require.Len(t, recs, 2, "one warning per call site")
	assert.Equal(t, slog.LevelWarn, recs[0].Level)
	assert.Equal(t, "bridge: deprecated call", recs[0].Message)
	assert.Equal(t, map[string]string{
		"call":        "WebSocketManager.SendToUser",
		"site":        site,
		"replacement": "bridge.NotifierOf(m).Notify(ctx, facade.ToUser(userID), facade.Raw(msg))",
		"rule":        "send-to-user",
		"count":       "1",
	}, attrs(recs[0]))
	assert.Equal(t, site, recordSite(recs[0]), "the record's source is the caller")
	assert.Equal(t, other, attrs(recs[1])["site"])

	counts := DeprecationCounts()
	assert.Equal(t, 3, counts[site])
	assert.Equal(t, 1, counts[other])
}

func TestDeprecationEveryLogsEachCall(t *testing.T) {
	h := captureWarnings(t, DeprecationEvery)
	b := NewAgentWebSocketBridge(&facadetest.Recorder{}, UserExecutionContext{UserID: user})
	ctx := context.Background()
	var site string
	for range 3 {
		site = nextLine()
		require.NoError(t, b.NotifyAgentThinking(ctx, run, "triage", "hm", 1))
	}
	var got []string
	for _, r := range h.records() {
		if a := attrs(r); a["site"] == site {
			got = append(got, a["rule"]+"#"+a["count"])
		}
	}
	assert.Equal(t, []string{"agent-thinking#1", "agent-thinking#2", "agent-thinking#3"}, got)
	assert.Equal(t, 3, DeprecationCounts()[site])
}

func TestDeprecationOffNeitherLogsNorCounts(t *testing.T) {
	h := captureWarnings(t, DeprecationOff)
	rec := &facadetest.Recorder{}
	m := &manager{hub: rec}
	site := nextLine()
	require.NoError(t, m.Broadcast(context.Background(), chatMsg))
	assert.Empty(t, h.records())
	assert.NotContains(t, DeprecationCounts(), site)
	assert.Len(t, rec.Take(), 1, "the call itself still works")
}

func TestDeprecationPanicNamesSiteAndRule(t *testing.T) {
	captureWarnings(t, DeprecationPanic)
	rec := &facadetest.Recorder{}
	m := &manager{hub: rec}
	var site string
	err := func() (err error) {
		defer func() { err, _ = recover().(error) }()
		site = nextLine()
		_ = m.EmitCriticalEvent(context.Background(), user, "agent_started", nil)
		return nil
	}()
	require.Error(t, err, "panic mode must panic with an error")
	for _, want := range []string{site, "emit-critical-event", "facade.Critical(eventType, data)", "WSUNIFY_DEPRECATION=panic"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, rec.Take(), "nothing is sent after the panic")
	assert.Equal(t, 1, DeprecationCounts()[site])
}

// TestDeprecationEveryEntryPoint calls each deprecated entry point once and
// checks that its warning names the line of the call, the right rule and a
// replacement.
func TestDeprecationEveryEntryPoint(t *testing.T) {
	h := captureWarnings(t, DeprecationEvery)
	ctx := context.Background()
	rec := &facadetest.Recorder{}
	m := &manager{hub: rec}
	b := NewAgentWebSocketBridge(rec, UserExecutionContext{UserID: user})
	calls := []struct {
		rule, method string
		call         func()
	}{
		{"retype", "NewWebSocketManager", func() { NewWebSocketManager(nil) }},
		{"retype", "NewAgentWebSocketBridge", func() { NewAgentWebSocketBridge(rec, UserExecutionContext{}) }},
		{"retype", "NewUserExecutionContext", func() { _, _ = NewUserExecutionContext(user, thread, run) }},
		{"send-to-user", "SendToUser", func() { _ = m.SendToUser(ctx, user, nil) }},
		{"send-to-thread", "SendToThread", func() { _ = m.SendToThread(ctx, thread, nil) }},
		{"broadcast", "Broadcast", func() { _ = m.Broadcast(ctx, nil) }},
		{"emit-critical-event", "EmitCriticalEvent", func() { _ = m.EmitCriticalEvent(ctx, user, "x", nil) }},
		{"is-connection-active", "IsConnectionActive", func() { m.IsConnectionActive(user) }},
		{"get-user-connections", "GetUserConnections", func() { m.GetUserConnections(user) }},
		{"agent-started", "NotifyAgentStarted", func() { _ = b.NotifyAgentStarted(ctx, run, "a", nil) }},
		{"agent-thinking", "NotifyAgentThinking", func() { _ = b.NotifyAgentThinking(ctx, run, "a", "r", 1) }},
		{"tool-executing", "NotifyToolExecuting", func() { _ = b.NotifyToolExecuting(ctx, run, "t", "a", nil) }},
		{"tool-completed", "NotifyToolCompleted", func() { _ = b.NotifyToolCompleted(ctx, run, "t", "a", nil, 0) }},
		{"agent-completed", "NotifyAgentCompleted", func() { _ = b.NotifyAgentCompleted(ctx, run, "a", nil, 0) }},
		{"agent-error", "NotifyAgentError", func() { _ = b.NotifyAgentError(ctx, run, "a", nil) }},
		{"progress-update", "NotifyProgressUpdate", func() { _ = b.NotifyProgressUpdate(ctx, run, "a", nil) }},
		{"custom", "NotifyCustom", func() { _ = b.NotifyCustom(ctx, run, "a", "mine", nil) }},
	}
	require.Len(t, calls, len(entries), "every entry point is covered")
	for _, c := range calls {
		before := len(h.records())
		c.call()
		recs := h.records()[before:]
		require.Len(t, recs, 1, c.rule)
		a := attrs(recs[0])
		assert.Equal(t, c.rule, a["rule"])
		assert.True(t, strings.HasSuffix(a["call"], c.method), a["call"])
		assert.Contains(t, sourceLine(t, a["site"]), c.method+"(", "the site is the line of the call")
		assert.Equal(t, a["site"], recordSite(recs[0]))
		// bridge.PresenceOf returns the facade.Presence whose method the
		// presence replacements call.
		assert.Regexp(t, `facade\.|^bridge\.PresenceOf\(m\)\.`, a["replacement"], "a replacement names the facade API")
	}
	assert.Len(t, rec.Take(), 12, "the calls still reached the notifier")
}

func TestDeprecationModeFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want DeprecationMode
		warn bool
	}{
		{"", DeprecationOnce, false},
		{"once", DeprecationOnce, false},
		{"every", DeprecationEvery, false},
		{"off", DeprecationOff, false},
		{"panic", DeprecationPanic, false},
		{"loud", DeprecationOnce, true},
	} {
		t.Run(tc.env, func(t *testing.T) {
			h := captureWarnings(t, DeprecationOnce)
			t.Setenv(EnvDeprecation, tc.env)
			mode.Store(0) // as at start-up: not chosen yet
			modeOnce = sync.Once{}
			assert.Equal(t, tc.want, currentMode())
			t.Setenv(EnvDeprecation, "every")
			assert.Equal(t, tc.want, currentMode(), "read once, at first use")
			if tc.warn {
				require.Len(t, h.records(), 1)
				assert.Contains(t, h.records()[0].Message, `"loud"`)
			} else {
				assert.Empty(t, h.records())
			}
		})
	}
}

func TestDeprecationModeNames(t *testing.T) {
	for _, m := range []DeprecationMode{DeprecationOnce, DeprecationEvery, DeprecationOff, DeprecationPanic} {
		got, err := ParseDeprecationMode(m.String())
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	_, err := ParseDeprecationMode("Once")
	assert.ErrorContains(t, err, "bridge: unknown WSUNIFY_DEPRECATION")
	assert.Equal(t, "DeprecationMode(9)", DeprecationMode(9).String())
	assert.Panics(t, func() { SetDeprecationMode(0) })
}

func TestDeprecationDefaultLoggerIsSlogDefault(t *testing.T) {
	h := captureWarnings(t, DeprecationOnce)
	SetDeprecationLogger(nil)
	prev := slog.Default()
	slog.SetDefault(slog.New(h))
	t.Cleanup(func() { slog.SetDefault(prev) })
	site := nextLine()
	NewWebSocketManager(nil)
	require.Len(t, h.records(), 1)
	assert.Equal(t, site, attrs(h.records()[0])["site"])
}

// failing is a handler whose Handle fails; a warning must not fail a call.
type failing struct{ logs }

func (*failing) Handle(context.Context, slog.Record) error { return errors.New("disk full") }

func TestDeprecationLogFailureDoesNotFailCall(t *testing.T) {
	captureWarnings(t, DeprecationEvery)
	SetDeprecationLogger(slog.New(&failing{}))
	rec := &facadetest.Recorder{}
	require.NoError(t, (&manager{hub: rec}).SendToUser(context.Background(), user, chatMsg))
	assert.Len(t, rec.Take(), 1)
}

// TestDeprecationCountsConcurrent counts calls from many goroutines while
// the counts are read and the mode changes, under -race.
func TestDeprecationCountsConcurrent(t *testing.T) {
	h := captureWarnings(t, DeprecationOnce)
	m := &manager{hub: &facadetest.Recorder{}}
	const goroutines, calls = 16, 200
	site := nextLine()
	call := func() { m.IsConnectionActive(user) }
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range calls {
				call()
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			_ = DeprecationCounts()
		}
	})
	wg.Wait()
	assert.Equal(t, goroutines*calls, DeprecationCounts()[site])
	n := 0
	for _, r := range h.records() {
		if attrs(r)["site"] == site {
			n++
		}
	}
	assert.Equal(t, 1, n, "once per call site, whatever the number of goroutines")
}

// benchEntry stands for a deprecated entry point.
//
//go:noinline
func benchEntry(ctx context.Context) { warn(ctx, sendToUser) }

// BenchmarkDeprecationWarned is the cost of the check at a call site that
// has already warned: the price every legacy call pays.
func BenchmarkDeprecationWarned(b *testing.B) {
	defer SetDeprecationMode(SetDeprecationMode(DeprecationOnce))
	ctx := context.Background()
	benchEntry(ctx)
	b.ReportAllocs()
	for b.Loop() {
		benchEntry(ctx)
	}
}

// BenchmarkDeprecationWarnedParallel is the same check from every P.
func BenchmarkDeprecationWarnedParallel(b *testing.B) {
	defer SetDeprecationMode(SetDeprecationMode(DeprecationOnce))
	ctx := context.Background()
	benchEntry(ctx)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchEntry(ctx)
		}
	})
}

// BenchmarkDeprecationOff is the check with warnings off.
func BenchmarkDeprecationOff(b *testing.B) {
	defer SetDeprecationMode(SetDeprecationMode(DeprecationOff))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		benchEntry(ctx)
	}
}

// BenchmarkSendToUserShim is a whole legacy call against its migrated form,
// over a Notifier that does nothing.
func BenchmarkSendToUserShim(b *testing.B) {
	defer SetDeprecationMode(SetDeprecationMode(DeprecationOnce))
	ctx := context.Background()
	n := nopHub{}
	m := &manager{hub: n}
	b.Run("legacy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = m.SendToUser(ctx, user, chatMsg)
		}
	})
	b.Run("migrated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = n.Notify(ctx, facade.ToUser(user), facade.Raw(chatMsg))
		}
	})
}

type nopHub struct{}

func (nopHub) Notify(context.Context, facade.Target, facade.Event) error { return nil }
func (nopHub) Connected(string) bool                                     { return false }
func (nopHub) ConnIDs(string) []string                                   { return nil }
