package prom_test

//lint:file-ignore SA1019 the tests call deprecated entry points of package bridge, to count them
import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
	"github.com/wsunify/wsunify/metrics"
	"github.com/wsunify/wsunify/metrics/prom"
)

// The tests here change the bridge's deprecation mode, a process-wide
// setting, so none of them is parallel.

// quietDeprecations counts deprecated calls without logging them, for the
// test's duration.
func quietDeprecations(t *testing.T) {
	prevMode := bridge.SetDeprecationMode(bridge.DeprecationOnce)
	prevLog := bridge.SetDeprecationLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() {
		bridge.SetDeprecationMode(prevMode)
		bridge.SetDeprecationLogger(prevLog)
	})
}

// nextLine returns "file:line" of the line after its caller's.
func nextLine() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", file, line+1)
}

// TestCollectorScrape runs a real hub with a ready and a not yet ready
// connection, a written event, a held one and deprecated calls, and reads
// them back from a real registry in the text format a scrape gets.
func TestCollectorScrape(t *testing.T) {
	quietDeprecations(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := wstest.NewServer(t, facade.NewHub(nil), nil)
	hub := srv.Hub
	alice, _ := srv.Gorilla(t, wstest.Query{User: "alice"})
	srv.Gorilla(t, wstest.Query{}) // accepted, never made ready

	// Counts are the process's, and -count runs this test again: the test
	// looks at what its own calls add.
	before := callCounts()
	mgrSite := nextLine()
	m := bridge.NewWebSocketManager(hub)
	sendSite := nextLine()
	require.NoError(t, m.SendToUser(ctx, "alice", map[string]any{"type": "hi"}))
	_, msg, err := alice.ReadMessage()
	require.NoError(t, err)
	require.Contains(t, string(msg), `"hi"`)
	heldSite := nextLine()
	require.NoError(t, m.SendToUser(ctx, "bob", map[string]any{"type": "later"}))
	require.Eventually(t, func() bool { return hub.Stats().Written == 1 }, 10*time.Second, time.Millisecond,
		"the hub did not count its write")

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(prom.NewCollector(hub)))

	s := hub.Stats()
	require.Equal(t, facade.Stats{Conns: 2, Ready: 1, Users: 1, Held: 1, HeldBytes: s.HeldBytes, Notified: 2, Accepted: 2, Written: 1}, s)
	want := fmt.Sprintf(`
# HELP wsunify_hub_connections Live connections, by readiness: ready (ProcessingReady) or not_ready (still on the way to it).
# TYPE wsunify_hub_connections gauge
wsunify_hub_connections{state="not_ready"} 1
wsunify_hub_connections{state="ready"} 1
# HELP wsunify_hub_held_bytes Bytes of the held events.
# TYPE wsunify_hub_held_bytes gauge
wsunify_hub_held_bytes %d
# HELP wsunify_hub_held_events Events held for users and threads with no connection.
# TYPE wsunify_hub_held_events gauge
wsunify_hub_held_events 1
# HELP wsunify_hub_notified_total Notify calls that reached every receiver or a hold.
# TYPE wsunify_hub_notified_total counter
wsunify_hub_notified_total 2
# HELP wsunify_hub_accepted_total Copies of events put on a connection's queue or in a hold: each ends written, expired, undelivered, held or queued.
# TYPE wsunify_hub_accepted_total counter
wsunify_hub_accepted_total 2
# HELP wsunify_hub_written_total Messages written to clients.
# TYPE wsunify_hub_written_total counter
wsunify_hub_written_total 1
# HELP wsunify_hub_broker_errors_total Notify calls the Broker failed (e.g. Redis unavailable).
# TYPE wsunify_hub_broker_errors_total counter
wsunify_hub_broker_errors_total 0
`, s.HeldBytes)
	names := []string{"wsunify_hub_connections", "wsunify_hub_held_bytes", "wsunify_hub_held_events",
		"wsunify_hub_notified_total", "wsunify_hub_accepted_total", "wsunify_hub_written_total", "wsunify_hub_broker_errors_total"}
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), names...))

	// The deprecated calls of this test, read from the scrape.
	assert.Equal(t, map[callKey]uint64{
		{"bridge.NewWebSocketManager", "retype", mgrSite}:         1,
		{"WebSocketManager.SendToUser", "send-to-user", sendSite}: 1,
		{"WebSocketManager.SendToUser", "send-to-user", heldSite}: 1,
	}, added(t, before, scrape(t, reg)))
	assert.Contains(t, scrape(t, reg), "# HELP "+metrics.DeprecatedCallsName+" "+metrics.DeprecatedCallsHelp+"\n")

	// Every number of metrics.Hub is there, once.
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	assert.Equal(t, len(metrics.Hub)+len(bridge.DeprecatedCalls()), n)

	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems, "metric names and help as Prometheus wants them")
}

// callKey is one series of the deprecated calls.
type callKey struct{ call, rule, site string }

// callCounts is bridge.DeprecatedCalls by series.
func callCounts() map[callKey]uint64 {
	counts := make(map[callKey]uint64)
	for _, c := range bridge.DeprecatedCalls() {
		counts[callKey{c.Call, c.Rule, c.Site}] = c.Count
	}
	return counts
}

var seriesRE = regexp.MustCompile(`(?m)^` + metrics.DeprecatedCallsName + `\{call="([^"]*)",rule="([^"]*)",site="([^"]*)"\} (\d+)$`)

// added returns the series of the deprecated calls in the scraped text
// body that grew since the counts before, and by how much.
func added(t *testing.T, before map[callKey]uint64, body string) map[callKey]uint64 {
	t.Helper()
	out := make(map[callKey]uint64)
	for _, m := range seriesRE.FindAllStringSubmatch(body, -1) {
		n, err := strconv.ParseUint(m[4], 10, 64)
		require.NoError(t, err)
		k := callKey{m[1], m[2], m[3]}
		if n != before[k] {
			out[k] = n - before[k]
		}
	}
	return out
}

// scrape is the body of GET /metrics served from reg by promhttp.
func scrape(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return rec.Body.String()
}

// TestCollectorCountersFollowTheHub scrapes twice around more traffic: the
// counters grow by what happened in between.
func TestCollectorCountersFollowTheHub(t *testing.T) {
	quietDeprecations(t)
	ctx := context.Background()
	hub := facade.NewHub(nil)
	t.Cleanup(func() { assert.NoError(t, hub.Close()) })
	c := prom.NewHubCollector(hub)
	assert.Equal(t, float64(0), testutil.ToFloat64(onlyNamed(c, "wsunify_hub_notified_total")))
	for range 3 {
		require.NoError(t, hub.Notify(ctx, facade.ToUser("carol"), facade.Raw(map[string]any{"type": "x"})))
	}
	assert.Equal(t, float64(3), testutil.ToFloat64(onlyNamed(c, "wsunify_hub_notified_total")))
	assert.Equal(t, float64(3), testutil.ToFloat64(onlyNamed(c, "wsunify_hub_held_events")))
}

// onlyNamed is the part of c that collects the metric called name.
func onlyNamed(c prometheus.Collector, name string) prometheus.Collector {
	return filtered{c, name}
}

type filtered struct {
	prometheus.Collector
	name string
}

func (f filtered) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { f.Collector.Collect(all); close(all) }()
	for m := range all {
		if strings.Contains(m.Desc().String(), `fqName: "`+f.name+`"`) {
			ch <- m
		}
	}
}

// TestDeprecationCollectorWithoutHub is the collector of a service with
// no hub (still on its own manager): the deprecated calls only.
func TestDeprecationCollectorWithoutHub(t *testing.T) {
	quietDeprecations(t)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(prom.NewCollector(nil)))
	before := callCounts()
	site := nextLine()
	_, err := bridge.NewUserExecutionContext("u", "t", "r")
	require.NoError(t, err)
	got := scrape(t, reg)
	assert.Equal(t, map[callKey]uint64{{"bridge.NewUserExecutionContext", "retype", site}: 1}, added(t, before, got))
	assert.NotContains(t, got, "wsunify_hub_")
}

// TestTwoHubsInOneRegistry registers two hubs' collectors, told apart by a
// label, and one deprecation collector, as the package doc says.
func TestTwoHubsInOneRegistry(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	for _, name := range []string{"a", "b"} {
		hub := facade.NewHub(nil)
		t.Cleanup(func() { assert.NoError(t, hub.Close()) })
		require.NoError(t, prometheus.WrapRegistererWith(prometheus.Labels{"hub": name}, reg).Register(prom.NewHubCollector(hub)))
	}
	require.NoError(t, reg.Register(prom.NewDeprecationCollector()))
	assert.Error(t, reg.Register(prom.NewDeprecationCollector()), "a second deprecation collector must be refused")
	got := scrape(t, reg)
	assert.Contains(t, got, `wsunify_hub_users{hub="a"} 0`)
	assert.Contains(t, got, `wsunify_hub_users{hub="b"} 0`)
}
