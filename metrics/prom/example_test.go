package prom_test

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/metrics/prom"
)

// A service serves its hub's numbers and the deprecated calls it still
// makes at /metrics.
func Example() {
	hub := facade.NewHub(nil)
	defer hub.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(hub))

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		if _, err := hub.Accept(w, r, nil); err != nil {
			log.Print(err)
		}
	})
	log.Fatal(http.ListenAndServe(":8080", mux))
}
