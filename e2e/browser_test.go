package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowser opens the bundled service's chat page in headless Chromium
// while an agent run is under way and reads what the page shows: over the
// bridge (the service after step 2a of MIGRATION.md) the page shows every
// message of the run once, in the order the service sent it. The same
// scenario over the legacy manager is logged as a contrast: it loses the
// messages sent before the socket was set up.
//
// It needs Debian's chromium (apt-get install chromium); it fails, not
// skips, without it.
func TestBrowser(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	chromium := findChromium(t)
	bin := buildChatd(t, ctx)
	b := newBrowser(t, ctx, chromium)

	// Each tool of the run takes 2 s: the page connects while the first runs.
	svc := startService(t, ctx, bin, os.Environ(), "-bridge", "-tool-latency", "2s")
	want := referenceRun(t, ctx, svc.addr)

	got := b.connectDuringRun(t, ctx, svc.addr, "bridge", true)
	assert.Equal(t, want, got.run, "the page did not show every message of the run once, in order")
	assert.Equal(t, 1, got.established, "connection_established shown %d times", got.established)
	t.Logf("over the bridge: the page showed %d of the %d messages of the run; %d agent events were sent before its socket opened",
		countShown(want, got.run), len(want), got.sentBefore)
	svc.stop(t)

	// The contrast: the same scenario over the legacy manager loses the
	// messages sent before the socket was set up (how many depends on
	// timing, so it is logged, not asserted).
	legacy := startService(t, ctx, bin, os.Environ(), "-bridge=false", "-tool-latency", "2s")
	lost := b.connectDuringRun(t, ctx, legacy.addr, "legacy", false)
	t.Logf("legacy manager: the page showed %d of the %d messages of the run", countShown(want, lost.run), len(want))
	legacy.stop(t)
}

// findChromium returns the path of Debian's chromium, failing the test
// when it is not installed.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("TestBrowser needs Chromium on the PATH and did not find chromium or chromium-browser; " +
		"install Debian's package: apt-get install -y chromium (.ci/run does)")
	return ""
}

// buildChatd builds the bundled service's binary from testdata/chatapp,
// as it is, into a temporary directory.
func buildChatd(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "chatapp"))
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "chatd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/chatd")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/chatd in testdata/chatapp:\n%s", out)
	return bin
}

// referenceRun is bob's run in thread-2 as a client connected all along
// receives it: the messages that carry the run's ID, normalised, with the
// run's ID as RUN. The client leaves before it returns.
func referenceRun(t *testing.T, ctx context.Context, addr string) []string {
	t.Helper()
	conn := dial(t, ctx, addr, "token=tok-bob&thread_id=thread-2")
	_, hello := readFrame(t, conn)
	require.Equal(t, "connection_established", hello.Type)
	runID := postMessage(t, ctx, addr)
	var run []string
	for {
		b, f := readFrame(t, conn)
		if f.RunID == runID {
			run = append(run, normalizeRun(b, runID))
		}
		if f.Type == "run_finished" && f.RunID == runID {
			break
		}
	}
	require.NoError(t, conn.Close())
	// Bob's connection must be gone before the next run, or the service
	// would write that run to it.
	waitNoConnections(t, ctx, addr, "bob")
	return run
}

// waitNoConnections waits until the service lists no connection of user.
func waitNoConnections(t *testing.T, ctx context.Context, addr, user string) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var list struct {
			Connections []string `json:"connections"`
		}
		body := httpDo(t, ctx, http.MethodGet, "http://"+addr+"/users/"+user+"/connections", "", "", http.StatusOK)
		require.NoError(t, json.Unmarshal(body, &list), "%s", body)
		if len(list.Connections) == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s still has connections %v", user, list.Connections)
		}
	}
}

// normalizeRun is normalize with the run's ID replaced by RUN.
func normalizeRun(b []byte, runID string) string {
	return strings.ReplaceAll(normalize(b, ""), `"`+runID+`"`, `"RUN"`)
}

// countShown counts the messages of want that got shows.
func countShown(want, got []string) int {
	left := make(map[string]int)
	for _, m := range got {
		left[m]++
	}
	n := 0
	for _, m := range want {
		if left[m] > 0 {
			left[m]--
			n++
		}
	}
	return n
}

// browser is one headless Chromium for the test.
type browser struct {
	ctx context.Context // the browser's; each page is a tab of it

	mu         sync.Mutex
	exceptions []string // JavaScript exceptions the pages threw
	closed     bool     // the test is over: log nothing more
}

// newBrowser starts Chromium with a fresh profile; it ends with the test.
func newBrowser(t *testing.T, ctx context.Context, path string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 900),
	}
	b := &browser{}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if !b.closed { // chromedp's goroutines may outlive the test
			t.Logf("chromedp: "+format, args...)
		}
	}))
	b.ctx = bctx
	t.Cleanup(func() {
		// Close the browser and wait for it, before its profile directory
		// is removed.
		_ = chromedp.Cancel(bctx)
		cancelBrowser()
		cancelAlloc()
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
	})
	// Start it now, so that starting it is not part of what is measured.
	require.NoError(t, chromedp.Do(bctx), "start %s", path)
	return b
}

// shown is what the page showed of one run.
type shown struct {
	run         []string // the messages of the run, normalised as referenceRun does
	established int      // connection_established messages
	sentBefore  int      // events of the agent sent before the page's socket opened
}

// connectDuringRun starts bob's run in thread-2, opens the chat page in a
// new tab at once, while the run is under way, and returns what the page
// shows once the run has finished. With mustFinish, the page must show
// the run's end; without (the legacy manager, which may lose it), a page
// that never does is logged and read as it is. A screenshot of the page
// is saved under the test's temporary directory.
func (b *browser) connectDuringRun(t *testing.T, ctx context.Context, addr, name string, mustFinish bool) shown {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(b.ctx)
	defer cancelTab()
	// Opening the tab before the run starts keeps it out of the race.
	require.NoError(t, chromedp.Listen(tab, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			b.mu.Lock()
			d := e.ExceptionDetails
			msg := fmt.Sprintf("%s at %s:%d:%d", d.Text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
			if d.Exception != nil {
				msg += ": " + d.Exception.Description
			}
			b.exceptions = append(b.exceptions, msg)
			b.mu.Unlock()
		}
	}), "%s: open a tab", name)

	runID := postMessage(t, ctx, addr)
	page := "http://" + addr + "/?token=tok-bob&thread_id=thread-2"
	end := fmt.Sprintf(`#events li[data-type="run_finished"][data-run=%q]`, runID)
	wait, cancelWait := context.WithTimeout(tab, 60*time.Second)
	defer cancelWait()
	err := chromedp.Do(wait,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.CSS(end)),
	)
	switch {
	case err == nil:
	case !mustFinish && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		t.Logf("%s: the page never showed the end of the run", name)
	default:
		require.NoError(t, err, "%s: the page did not show the end of the run %s", name, runID)
	}

	raw, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#events li code")].map(c => c.textContent)`))
	require.NoError(t, err, "%s: read the page", name)
	openedAt, err := chromedp.Run(tab, chromedp.Evaluate[float64](`Number(document.getElementById("status").dataset.openedAt || 0)`))
	require.NoError(t, err, "%s: read the page", name)
	// Chromium fails a connection on any protocol error: a socket still
	// open is one whose every byte Chromium accepted.
	state, err := chromedp.Run(tab, chromedp.TextContent(chromedp.CSS("#status")))
	require.NoError(t, err, "%s: read the page", name)
	assert.Equal(t, "connected", state, "%s: the page's socket", name)
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	require.NoError(t, err, "%s: screenshot", name)
	shot := filepath.Join(t.TempDir(), "chat-"+name+".png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("%s: screenshot of the page: %s", name, shot)
	require.NotZero(t, openedAt, "%s: the page's socket never opened", name)
	opened := time.UnixMicro(int64(openedAt * 1000))

	var s shown
	var finished time.Time
	for _, m := range raw {
		var f struct {
			frame
			Timestamp string `json:"timestamp"`
		}
		require.NoError(t, json.Unmarshal([]byte(m), &f), "%s: the page shows %q", name, m)
		if f.Type == "connection_established" {
			s.established++
			continue
		}
		require.Equal(t, runID, f.RunID, "%s: the page shows a message of another run: %s", name, m)
		s.run = append(s.run, normalizeRun([]byte(m), runID))
		if f.Timestamp == "" { // the acknowledgement and run_started, sent before the run began
			continue
		}
		at, err := time.Parse("2006-01-02T15:04:05.999999-07:00", f.Timestamp)
		require.NoError(t, err, "%s: timestamp of %s", name, m)
		if at.Before(opened) {
			s.sentBefore++
		}
		if f.Type == "run_finished" {
			finished = at
		}
	}
	if mustFinish {
		// The scenario is the one the test means: the page connected after
		// the agent had started and before the run ended.
		assert.Positive(t, s.sentBefore, "%s: no event of the agent was sent before the page's socket opened", name)
		assert.True(t, opened.Before(finished), "%s: the page's socket opened at %v, after the run finished at %v",
			name, opened.Format(time.StampMicro), finished.Format(time.StampMicro))
	}
	b.mu.Lock()
	assert.Empty(t, b.exceptions, "%s: the page threw", name)
	b.mu.Unlock()
	return s
}
