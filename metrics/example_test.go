package metrics_test

import (
	"fmt"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/metrics"
)

// A service publishes its hub's numbers and the deprecated calls it still
// makes through expvar: GET /debug/vars on http.DefaultServeMux shows them
// under "wsunify".
func ExamplePublish() {
	hub := facade.NewHub(nil)
	defer hub.Close()
	metrics.Publish("wsunify_example", hub)
}

// Each number of a hub has one name, the same in Prometheus and expvar.
func ExampleHub() {
	for _, m := range metrics.Hub[:3] {
		fmt.Println(metrics.HubPrefix+m.Name, m.LabelValue)
	}
	// Output:
	// wsunify_hub_connections ready
	// wsunify_hub_connections not_ready
	// wsunify_hub_users
}
