// Package prom exports a hub's [facade.Stats] and the calls to the
// bridge's deprecated entry points as Prometheus metrics, under the names
// of package [metrics]:
//
//	reg.MustRegister(prom.NewCollector(hub))
//	http.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// It is the only package of wsunify that imports
// github.com/prometheus/client_golang.
//
// A process with several hubs registers one [NewHubCollector] per hub, each
// through [prometheus.WrapRegistererWith] with a label that tells them
// apart, and one [NewDeprecationCollector]: the deprecated calls are the
// process's, not a hub's.
package prom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/deprecated"
	"github.com/wsunify/wsunify/metrics"
)

// NewCollector returns a collector of h's Stats and of the calls to
// deprecated entry points; with a nil h, of the calls only.
func NewCollector(h *facade.Hub) prometheus.Collector {
	if h == nil {
		return NewDeprecationCollector()
	}
	return collectors{NewHubCollector(h), NewDeprecationCollector()}
}

type collectors []prometheus.Collector

func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}

// hubCollector reads a hub's Stats once per scrape.
type hubCollector struct {
	h     *facade.Hub
	descs []*prometheus.Desc // one per element of metrics.Hub
}

// NewHubCollector returns a collector of h's Stats: one metric per element
// of [metrics.Hub], named [metrics.HubPrefix] + its Name. h must not be nil.
// Each scrape takes one snapshot (h.Stats), so the numbers of a scrape are
// consistent with each other.
func NewHubCollector(h *facade.Hub) prometheus.Collector {
	if h == nil {
		panic("prom: NewHubCollector of a nil hub")
	}
	c := &hubCollector{h: h, descs: make([]*prometheus.Desc, len(metrics.Hub))}
	byName := make(map[string]*prometheus.Desc)
	for i, m := range metrics.Hub {
		d := byName[m.Name]
		if d == nil {
			var labels []string
			if m.Label != "" {
				labels = []string{m.Label}
			}
			d = prometheus.NewDesc(metrics.HubPrefix+m.Name, m.Help, labels, nil)
			byName[m.Name] = d
		}
		c.descs[i] = d
	}
	return c
}

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for i, d := range c.descs {
		if i == 0 || d != c.descs[i-1] {
			ch <- d
		}
	}
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.Stats()
	for i, m := range metrics.Hub {
		t := prometheus.GaugeValue
		if m.Kind == metrics.Counter {
			t = prometheus.CounterValue
		}
		var labels []string
		if m.Label != "" {
			labels = []string{m.LabelValue}
		}
		ch <- prometheus.MustNewConstMetric(c.descs[i], t, m.Value(s), labels...)
	}
}

// deprecationCollector reads the bridge's DeprecatedCalls once per scrape.
type deprecationCollector struct{ desc *prometheus.Desc }

var deprecatedCallsDesc = prometheus.NewDesc(metrics.DeprecatedCallsName, metrics.DeprecatedCallsHelp,
	[]string{"call", "rule", "site"}, nil)

// NewDeprecationCollector returns a collector of the calls to deprecated
// entry points of package bridge
// ([github.com/wsunify/wsunify/bridge.DeprecatedCalls]): the counter
// [metrics.DeprecatedCallsName], one series per entry point and call site.
// A process registers at most one.
func NewDeprecationCollector() prometheus.Collector {
	return deprecationCollector{deprecatedCallsDesc}
}

func (c deprecationCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c deprecationCollector) Collect(ch chan<- prometheus.Metric) {
	for _, call := range deprecated.Calls() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(call.Count),
			call.Call, call.Rule, call.Site)
	}
}
