package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// fanoutPage opens sockets WebSockets to the page's server and records,
// for each, the seq of every message, any message that is not an event's
// JSON, and how the socket closed. Chromium fails a socket on any
// protocol error (a torn frame, a control frame inside a message, bad
// UTF-8), so a socket still open read every byte as valid.
const fanoutPage = `<!doctype html><meta charset="utf-8"><title>fan-out</title><script>
const sockets = %d;
window.results = [];
window.opened = 0;
for (let i = 0; i < sockets; i++) {
  const r = {seqs: [], bad: [], closed: 0};
  results.push(r);
  const ws = new WebSocket("ws://" + location.host + "/ws?user=u" + i);
  ws.onopen = () => { opened++; };
  ws.onmessage = (e) => {
    try { r.seqs.push(JSON.parse(e.data).seq); } catch (x) { r.bad.push(String(e.data).slice(0, 80)); }
  };
  ws.onclose = (e) => { r.closed = e.code || 1005; };
}
</script>`

// TestBrowserFanOut: headless Chromium opens enough WebSockets to one hub
// that the hub's writers send to them in batches (through io_uring where
// the kernel has it, which this test logs), and a fan-out of events of
// varied sizes, not all ASCII, goes to every socket at once: each socket
// gets every event once, in order, and stays open.
//
// It needs Debian's chromium, as TestBrowser does.
func TestBrowserFanOut(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b := newBrowser(t, ctx, findChromium(t))

	const sockets, events = 48, 200
	hub := facade.NewHub(nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, fanoutPage, sockets)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := hub.Accept(w, r, nil)
		if err != nil {
			return
		}
		if c.Authenticate(r.URL.Query().Get("user")) != nil || c.ServicesReady() != nil || c.Ready() != nil {
			_ = c.Close(websocket.ClosePolicyViolation, "not ready")
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer func() { assert.NoError(t, hub.Close()) }()

	tab, cancelTab := chromedp.NewContext(b.ctx)
	defer cancelTab()
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(srv.URL+"/")))
	waitPage(t, ctx, tab, fmt.Sprintf("opened == %d", sockets), "every socket opened")
	require.Eventually(t, func() bool { return hub.Stats().Ready == sockets }, 30*time.Second, time.Millisecond)

	for i := range events {
		pad := strings.Repeat("é✓🙂", 1+(i*37)%400)
		require.NoError(t, hub.Notify(ctx, facade.ToAll(), facade.Raw(map[string]any{"seq": i, "pad": pad})))
		if i%20 == 19 {
			time.Sleep(time.Millisecond) // the writers go idle and start again from short turns
		}
	}
	waitPage(t, ctx, tab, fmt.Sprintf("results.every(r => r.seqs.length + r.bad.length >= %d || r.closed)", events), "every socket read the fan-out")

	type result struct {
		Seqs   []int    `json:"seqs"`
		Bad    []string `json:"bad"`
		Closed int      `json:"closed"`
	}
	got, err := chromedp.Run(tab, chromedp.Evaluate[[]result](`results`))
	require.NoError(t, err)
	want := make([]int, events)
	for i := range want {
		want[i] = i
	}
	for i, r := range got {
		assert.Empty(t, r.Bad, "socket %d: messages that are not whole events", i)
		assert.Zero(t, r.Closed, "socket %d: Chromium closed it (a protocol error?)", i)
		assert.Equal(t, want, r.Seqs, "socket %d: every event once, in order", i)
	}
	assert.Zero(t, hub.Stats().Failed)
	t.Logf("%d sockets, %d events each; io_uring descriptors in this process: %d", sockets, events, ringDescriptors())
}

// waitPage waits until the page's JavaScript expression cond is true.
func waitPage(t *testing.T, ctx context.Context, tab context.Context, cond, what string) {
	t.Helper()
	for {
		ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](cond))
		require.NoError(t, err, what)
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not by the deadline", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ringDescriptors counts this process's io_uring descriptors (Linux; 0
// elsewhere, or where io_uring is refused and every send is a write).
func ringDescriptors() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if link, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.Contains(link, "io_uring") {
			n++
		}
	}
	return n
}
