package main

import (
	"net/http"

	"example.com/chatapp/internal/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/wsunify/wsunify/metrics/prom"
)

// withMetrics serves GET /metrics in front of srv, in the Prometheus text
// format: the calls still made to deprecated entry points of package
// wsunify/bridge, per call site, the facade hub's numbers when there is
// one (-bridge), and the Go runtime's and the process's.
func withMetrics(srv *server.Server) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prom.NewCollector(srv.Hub()),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", srv)
	return mux
}
