package bridge

import (
	"context"
	"flag"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestMain pins the deprecation mode and silences warnings, so that the
// package's tests do not depend on WSUNIFY_DEPRECATION (the tests of the
// warnings set their own logger), and fails if a goroutine outlives them.
func TestMain(m *testing.M) {
	flag.Parse()
	SetDeprecationMode(DeprecationOnce)
	SetDeprecationLogger(slog.New(slog.DiscardHandler))
	goleak.VerifyTestMain(m)
}

// wireTime is the clock of golden tests.
var wireTime = time.Date(2025, 9, 14, 8, 30, 0, 123456000, time.UTC)

// logs is a slog.Handler that keeps every record.
type logs struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logs) Enabled(context.Context, slog.Level) bool { return true }
func (h *logs) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logs) WithGroup(string) slog.Handler            { return h }

func (h *logs) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

func (h *logs) records() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.recs...)
}

// attrs returns the attributes of r as strings.
func attrs(r slog.Record) map[string]string {
	m := make(map[string]string)
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

// captureWarnings forgets the call sites seen so far and sets mode and a
// capturing logger until the test ends. Tests that call it must not be
// parallel: sites, mode and logger are the process's.
func captureWarnings(t *testing.T, mode DeprecationMode) *logs {
	t.Helper()
	byPC.Clear()
	bySite.Clear()
	h := &logs{}
	prevMode := SetDeprecationMode(mode)
	prevLog := SetDeprecationLogger(slog.New(h))
	t.Cleanup(func() {
		SetDeprecationMode(prevMode)
		SetDeprecationLogger(prevLog)
	})
	return h
}

// newServer is a real facade hub, on the golden tests' clock, behind an
// HTTP server on loopback.
func newServer(t *testing.T) *wstest.Server {
	t.Helper()
	return wstest.NewServer(t, facade.NewHub(&facade.HubOptions{Now: func() time.Time { return wireTime }}), nil)
}

// client dials a gorilla client as conn id, which the server walks to
// ProcessingReady as user, after joining threads.
func client(t *testing.T, s *wstest.Server, id, user string, threads ...string) *websocket.Conn {
	t.Helper()
	ws, _ := s.Gorilla(t, wstest.Query{ID: id, User: user, Threads: threads})
	return ws
}

// read reads one text message, failing after a generous deadline.
func read(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	typ, b, err := ws.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, websocket.TextMessage, typ)
	return string(b)
}
