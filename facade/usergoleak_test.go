package facade_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsunify/wsunify/facade"
)

// A user's own test, shaped as users write them: a hub behind
// httptest.NewServer, gorilla clients, a fan-out big enough for the
// flusher's io_uring batches (where they work), clients that close, and
// goleak.VerifyNone with no option. It runs alone in a child process of
// this test binary, so that goleak sees only what the facade left: with
// the hub closed, nothing may be left at all; with the hub left open but
// every connection gone (many tests never close a hub they are done
// with), nothing either — no flusher goroutine waiting for work that can
// only come through a connection.
func TestAUserGoleakTestPasses(t *testing.T) {
	if mode := os.Getenv(userGoleakEnv); mode != "" {
		userGoleakChild(t, mode == "hub closed")
		return
	}
	t.Parallel()
	for _, mode := range []string{"hub closed", "hub left open"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			out := runChild(t, "TestAUserGoleakTestPasses", userGoleakEnv, mode)
			require.Contains(t, out, "the fan-out was read", "the child ran the user's test:\n%s", out)
		})
	}
}

const userGoleakEnv = "WSUNIFY_USER_GOLEAK_CHILD"

func userGoleakChild(t *testing.T, closeHub bool) {
	defer goleak.VerifyNone(t)
	hub := facade.NewHub(&facade.HubOptions{Logger: quiet})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := hub.Accept(w, r, nil)
		if err != nil {
			return
		}
		user := r.URL.Query().Get("user")
		if c.Authenticate(user) != nil || c.ServicesReady() != nil || c.Ready() != nil {
			_ = c.Close(websocket.ClosePolicyViolation, "not ready")
		}
	}))
	defer srv.Close()
	if closeHub {
		defer func() { require.NoError(t, hub.Close()) }()
	}
	const clients, events = 40, 20
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ws := make([]*websocket.Conn, clients)
	for i := range ws {
		c, res, err := websocket.DefaultDialer.Dial(fmt.Sprintf("%s/?user=u%d", url, i), nil)
		require.NoError(t, err)
		_ = res.Body.Close()
		ws[i] = c
	}
	require.Eventually(t, func() bool {
		for i := range clients {
			if !hub.Connected(fmt.Sprint("u", i)) {
				return false
			}
		}
		return true
	}, 10*time.Second, time.Millisecond)
	for i := range events {
		require.NoError(t, hub.Notify(context.Background(), facade.ToAll(), seqEvent("all", i)))
	}
	var wg sync.WaitGroup
	for _, c := range ws {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			for range events {
				if _, _, err := c.ReadMessage(); err != nil {
					t.Error(err)
					return
				}
			}
			// Close as the gorilla docs show: a close frame, then wait for
			// the server's.
			_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					break
				}
			}
			_ = c.Close()
		})
	}
	wg.Wait()
	t.Log("the fan-out was read")
	require.Eventually(t, func() bool { return hub.Stats().Conns == 0 }, 10*time.Second, time.Millisecond)
}
