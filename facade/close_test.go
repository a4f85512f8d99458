package facade_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// A client's close ends the connection Closed when it is a clean one —
// 1000, 1001, no code (what browsers send), an application's 3000–4999 —
// and Failed when its code reports an error. The hub echoes the code.
func TestClientCloseCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		payload []byte
		want    facade.State
		echo    int
	}{
		{"normal", websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), facade.Closed, websocket.CloseNormalClosure},
		{"going away", websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), facade.Closed, websocket.CloseGoingAway},
		{"no code", nil, facade.Closed, websocket.CloseNoStatusReceived},
		{"application 3000", websocket.FormatCloseMessage(3000, "app"), facade.Closed, 3000},
		{"application 4999", websocket.FormatCloseMessage(4999, ""), facade.Closed, 4999},
		{"internal error", websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "boom"), facade.Failed, websocket.CloseInternalServerErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, &facade.HubOptions{Logger: quiet}, nil)
			ws, c := s.dial(t, "c1")
			ready(t, c, "u1")
			require.NoError(t, ws.WriteControl(websocket.CloseMessage, tc.payload, time.Now().Add(time.Second)))
			_, _, err := ws.ReadMessage()
			assert.True(t, websocket.IsCloseError(err, tc.echo), "the hub echoes the close: %v", err)
			<-c.Done()
			assert.Equal(t, tc.want, c.State())
		})
	}
}

// A client that offers only subprotocols the hub does not speak is refused
// with HTTP 400 naming the ones it does; the events held for its user stay
// held for a connection that can take them.
func TestUnsupportedSubprotocolIsRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t, &facade.HubOptions{Logger: quiet}, nil)
	notify(t, s.hub, facade.ToUser("u1"), seqEvent("u1", 0))
	d := websocket.Dialer{Subprotocols: []string{"graphql-ws", "mqtt"}}
	_, resp, err := d.Dial(s.url("c1"), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(body), facade.SubprotocolNumeric)
	assert.Contains(t, string(body), facade.SubprotocolLegacy)
	assert.Equal(t, 1, s.hub.Stats().Held, "the held event is untouched")

	ws, c := s.dial(t, "c2", "mqtt", facade.SubprotocolLegacy)
	assert.Equal(t, facade.SubprotocolLegacy, ws.Subprotocol())
	ready(t, c, "u1")
	_, seq := seqOf(t, readN(t, ws, 1)[0])
	assert.Equal(t, 0, seq)
}

// records keeps the messages of the logs it receives.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

func (r *records) has(msg string) bool {
	for _, m := range r.all() {
		if strings.Contains(m, msg) {
			return true
		}
	}
	return false
}

// HubOptions.Logger receives the slow-consumer and failure logs.
func TestLoggerReceivesSlowConsumerAndFailures(t *testing.T) {
	t.Parallel()
	rec := &records{}
	s := newServer(t, &facade.HubOptions{Logger: slog.New(rec), MaxQueueBytes: 16 << 10, HardQueueBytes: 64 << 10,
		SlowConsumerAfter: 50 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, ReadyTimeout: 2 * time.Second}, nil)
	_, slow := s.dial(t, "slow")
	ready(t, slow, "u1")
	for slow.State() == facade.ProcessingReady {
		_ = s.hub.Notify(context.Background(), facade.ToUser("u1"), facade.Raw(map[string]string{"pad": strings.Repeat("x", 8<<10)}))
		time.Sleep(time.Millisecond)
	}
	<-slow.Done()
	_, never := s.dial(t, "never") // not ready in time
	<-never.Done()
	assert.True(t, rec.has("WARN facade: slow consumer disconnected"), "%q", rec.all())
	assert.True(t, rec.has("WARN facade: connection failed"), "%q", rec.all())
}
