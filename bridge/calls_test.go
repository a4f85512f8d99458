package bridge

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/facadetest"
)

// The tests in this file change the process's deprecation mode, so none of
// them is parallel.

// findCall returns the element of calls for call at site.
func findCall(calls []DeprecatedCall, call, site string) (DeprecatedCall, bool) {
	i := slices.IndexFunc(calls, func(c DeprecatedCall) bool { return c.Call == call && c.Site == site })
	if i < 0 {
		return DeprecatedCall{}, false
	}
	return calls[i], true
}

func TestDeprecatedCallsPerSiteAndEntryPoint(t *testing.T) {
	captureWarnings(t, DeprecationOnce)
	ctx := context.Background()
	m := &manager{hub: &facadetest.Recorder{}}
	var sendSite, critSite string
	for range 3 {
		sendSite = nextLine()
		require.NoError(t, m.SendToUser(ctx, user, chatMsg))
	}
	critSite = nextLine()
	require.NoError(t, m.EmitCriticalEvent(ctx, user, "run_finished", chatMsg))
	// Two entry points on one line are two elements.
	both := nextLine()
	_, _ = m.IsConnectionActive(user), m.GetUserConnections(user)

	calls := DeprecatedCalls()
	c, ok := findCall(calls, "WebSocketManager.SendToUser", sendSite)
	require.True(t, ok, "no SendToUser at %s in %+v", sendSite, calls)
	assert.Equal(t, DeprecatedCall{Call: "WebSocketManager.SendToUser", Rule: "send-to-user", Site: sendSite, Count: 3}, c)
	c, ok = findCall(calls, "WebSocketManager.EmitCriticalEvent", critSite)
	require.True(t, ok)
	assert.Equal(t, "emit-critical-event", c.Rule)
	assert.Equal(t, uint64(1), c.Count)
	for _, call := range []string{"WebSocketManager.IsConnectionActive", "WebSocketManager.GetUserConnections"} {
		c, ok := findCall(calls, call, both)
		require.True(t, ok, "%s at %s", call, both)
		assert.Equal(t, uint64(1), c.Count)
	}
	assert.True(t, slices.IsSortedFunc(calls, func(a, b DeprecatedCall) int {
		return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(a.Call, b.Call))
	}), "sorted by site, then call")

	// A snapshot: later calls do not change it.
	require.NoError(t, m.SendToUser(ctx, user, chatMsg)) // another site
	c, _ = findCall(calls, "WebSocketManager.SendToUser", sendSite)
	assert.Equal(t, uint64(3), c.Count)
}

func TestDeprecatedCallsAgreeWithDeprecationCounts(t *testing.T) {
	captureWarnings(t, DeprecationEvery)
	m := &manager{hub: &facadetest.Recorder{}}
	site := nextLine()
	_ = m.Broadcast(context.Background(), chatMsg)
	perSite := make(map[string]int)
	for _, c := range DeprecatedCalls() {
		perSite[c.Site] += int(c.Count)
	}
	assert.Equal(t, DeprecationCounts(), perSite)
	assert.Equal(t, 1, perSite[site])
}

func TestDeprecatedCallsOffCountsNothing(t *testing.T) {
	captureWarnings(t, DeprecationOff)
	m := &manager{hub: &facadetest.Recorder{}}
	site := nextLine()
	_ = m.Broadcast(context.Background(), chatMsg)
	_, ok := findCall(DeprecatedCalls(), "WebSocketManager.Broadcast", site)
	assert.False(t, ok)
}

// TestDeprecatedCallsWhileCalling takes snapshots while goroutines call;
// every snapshot's count is at most the final one, which is exact.
func TestDeprecatedCallsWhileCalling(t *testing.T) {
	captureWarnings(t, DeprecationOnce)
	const goroutines, calls = 8, 500
	m := &manager{hub: &facadetest.Recorder{}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	sites := make(chan string, goroutines)
	for range goroutines {
		wg.Go(func() {
			<-start
			for i := range calls {
				at := nextLine()
				_ = m.SendToThread(context.Background(), "t", chatMsg)
				if i == 0 {
					sites <- at
				}
			}
		})
	}
	close(start)
	var last uint64
	for range 50 {
		for _, c := range DeprecatedCalls() {
			if c.Call == "WebSocketManager.SendToThread" {
				assert.GreaterOrEqual(t, c.Count, last, "a count went down")
				last = c.Count
			}
		}
	}
	wg.Wait()
	site := <-sites
	c, ok := findCall(DeprecatedCalls(), "WebSocketManager.SendToThread", site)
	require.True(t, ok)
	assert.Equal(t, uint64(goroutines*calls), c.Count)
}

// TestDeprecatedCallCountsWithoutAllocating: once a site has been seen,
// counting its calls allocates nothing, and the count is right.
func TestDeprecatedCallCountsWithoutAllocating(t *testing.T) {
	captureWarnings(t, DeprecationOnce)
	ctx := context.Background()
	m := &manager{hub: nopHub{}}
	var site string
	call := func() {
		site = nextLine()
		_ = m.SendToUser(ctx, user, chatMsg)
	}
	call()
	allocs := testing.AllocsPerRun(100, func() { _ = m.SendToUser(ctx, user, chatMsg) })
	assert.Zero(t, allocs)
	call()
	c, ok := findCall(DeprecatedCalls(), "WebSocketManager.SendToUser", site)
	require.True(t, ok)
	assert.Equal(t, uint64(2), c.Count)
}

// BenchmarkDeprecatedCallCounted is the price of counting a deprecated
// call: the same call with counting (DeprecationOnce, the site already
// warned) and, as the baseline, without (DeprecationOff), timed in the same
// process over as many calls. It reports the baseline as
// "uncounted-ns/op" and the ratio as "x-uncounted"; for the whole legacy
// SendToUser it also reports the ratio to its migrated form, "x-migrated".
// Neither mode allocates.
func BenchmarkDeprecatedCallCounted(b *testing.B) {
	ctx := context.Background()
	n := nopHub{}
	m := &manager{hub: n}
	calls := []struct {
		name     string
		call     func()
		migrated func()
	}{
		{name: "check", call: func() { benchEntry(ctx) }},
		{name: "SendToUser", call: func() { _ = m.SendToUser(ctx, user, chatMsg) },
			migrated: func() { _ = n.Notify(ctx, facade.ToUser(user), facade.Raw(chatMsg)) }},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			defer SetDeprecationMode(SetDeprecationMode(DeprecationOnce))
			c.call() // the site's first call: resolves and logs it
			b.ReportAllocs()
			for b.Loop() {
				c.call()
			}
			b.StopTimer()
			counted := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			SetDeprecationMode(DeprecationOff)
			base := perCall(b.N, c.call)
			b.ReportMetric(base, "uncounted-ns/op")
			b.ReportMetric(counted/base, "x-uncounted")
			if c.migrated != nil {
				b.ReportMetric(counted/perCall(b.N, c.migrated), "x-migrated")
			}
		})
	}
}

// perCall times n calls of f and returns the nanoseconds per call.
func perCall(n int, f func()) float64 {
	start := time.Now()
	for range n {
		f()
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}
