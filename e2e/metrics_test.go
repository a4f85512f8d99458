package e2e

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A callSite is one deprecated entry point called from one place, as the
// service's /metrics and its deprecation warnings name it.
type callSite struct{ call, rule, site string }

func (c callSite) String() string { return fmt.Sprintf("%s at %s (%s)", c.call, c.site, c.rule) }

// deprecatedSeries is a series of the counter of deprecated calls in
// chatd's /metrics (metrics/prom).
var deprecatedSeries = regexp.MustCompile(`(?m)^wsunify_bridge_deprecated_calls_total\{call="([^"]*)",rule="([^"]*)",site="([^"]*)"\} (\S+)$`)

// warnedSite reads the call, site and rule of a deprecation warning.
var warnedSite = regexp.MustCompile(`call=(\S+) site=(\S+) replacement=.* rule=(\S+) count=\d+$`)

// scrapeDeprecated reads the deprecated calls from the /metrics of the
// service at addr once its log has warned about every call site the
// scrape counts and the other way round: a warning is logged by the call
// it counts, so the two agree as soon as the service's log has been read.
// It returns the count of each call site.
func scrapeDeprecated(t *testing.T, svc *service, w *walk) map[callSite]float64 {
	t.Helper()
	var scraped map[callSite]float64
	var warned []callSite
	deadline := time.Now().Add(30 * time.Second)
	for {
		body := string(httpDo(t, w.ctx, "GET", "http://"+svc.addr+"/metrics", "", "", 200))
		scraped = make(map[callSite]float64)
		for _, m := range deprecatedSeries.FindAllStringSubmatch(body, -1) {
			n, err := strconv.ParseFloat(m[4], 64)
			require.NoError(t, err)
			scraped[callSite{m[1], m[2], m[3]}] = n
		}
		warned = nil
		for _, line := range deprecationLine.FindAllString(svc.log(), -1) {
			m := warnedSite.FindStringSubmatch(line)
			require.NotNil(t, m, "a warning without call, site and rule: %s", line)
			warned = append(warned, callSite{m[1], m[3], m[2]})
		}
		if sameSites(scraped, warned) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.ElementsMatch(t, slices.Collect(maps.Keys(scraped)), warned,
		"the call sites /metrics counts and those the service warned about")
	for c, n := range scraped {
		assert.GreaterOrEqual(t, n, 1.0, "%v", c)
	}
	return scraped
}

func sameSites(scraped map[callSite]float64, warned []callSite) bool {
	if len(scraped) != len(warned) {
		return false
	}
	for _, c := range warned {
		if _, ok := scraped[c]; !ok {
			return false
		}
	}
	return true
}

// formatSites lists counted call sites, one a line, sorted.
func formatSites(counts map[callSite]float64) string {
	var lines []string
	for c, n := range counts {
		lines = append(lines, fmt.Sprintf("%v: %g", c, n))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
