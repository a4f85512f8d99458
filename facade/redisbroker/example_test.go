package redisbroker_test

import (
	"context"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/redisbroker"
)

// Each instance runs the same code; an event notified on any of them
// reaches the user's socket on whichever instance holds it. Clients that
// reconnect send the "event_id" of the last event they saw as the
// last_event_id query parameter and miss nothing.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", MaxRetries: -1})
	defer rdb.Close()
	hub := facade.NewHub(&facade.HubOptions{Broker: redisbroker.New(rdb, nil)})
	defer hub.Close()

	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := hub.Accept(w, r, &facade.AcceptOptions{EventIDs: true})
		if err != nil {
			return
		}
		_ = c.Authenticate(r.URL.Query().Get("user")) // authenticate properly in real code
		_ = c.ServicesReady()
		_ = c.Ready()
	})

	// On another instance, or this one:
	_ = hub.Notify(context.Background(), facade.ToUser("u1"),
		facade.Event{Type: facade.AgentStarted, RunID: "r1", Agent: "triage"})
}
