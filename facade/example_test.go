package facade_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsunify/wsunify/facade"
)

// A handler accepts a connection and walks it to ready; an event sent
// before that is held and arrives first.
func ExampleHub_Accept() {
	hub := facade.NewHub(nil)
	defer hub.Close()
	ready := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := hub.Accept(w, r, nil)
		if err != nil {
			return
		}
		_ = c.Authenticate("u1") // events for u1 now queue on c
		_ = c.ServicesReady()
		_ = c.Ready() // and are written now, in order
		close(ready)
	}))
	defer srv.Close()

	ctx := context.Background()
	// Sent before the user has any connection: held, not lost.
	_ = hub.Notify(ctx, facade.ToUser("u1"), facade.Raw(map[string]any{"type": "welcome"}))

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	<-ready
	_ = hub.Notify(ctx, facade.ToUser("u1"), facade.Raw(map[string]any{"type": "after_ready"}))
	for range 2 {
		_, msg, _ := ws.ReadMessage()
		fmt.Println(string(msg))
	}
	// Output:
	// {"type":"welcome"}
	// {"type":"after_ready"}
}

// The legacy envelope of a typed event, as the default encoding writes it.
func ExampleEncodeEvent() {
	ev := facade.Event{Type: facade.AgentThinking, RunID: "r1", UserID: "u1", Agent: "triage",
		Data: facade.Thought{Reasoning: "reading the logs", Step: 1}}
	at := time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)
	legacy, _ := facade.EncodeEvent(ev, facade.EncodingLegacy, at)
	numeric, _ := facade.EncodeEvent(ev, facade.EncodingNumeric, at)
	fmt.Println(string(legacy))
	fmt.Println(string(numeric[:10]))
	// Output:
	// {"type":"agent_thinking","run_id":"r1","user_id":"u1","agent_name":"triage","timestamp":"2025-09-01T12:00:00.000000+00:00","data":{"reasoning":"reading the logs","step_number":1,"status":"thinking"}}
	// {"type":2,
}

// An Emitter fills in the run's IDs and sends to the run's user.
func ExampleNewEmitter() {
	scope, err := facade.NewScope("u1", "t1", "r1")
	if err != nil {
		fmt.Println(err)
		return
	}
	e := facade.NewEmitter(printer{}, scope)
	_ = e.Emit(context.Background(), facade.Event{Type: facade.ToolExecuting, Agent: "triage", Tool: "search"})

	_, err = facade.NewScope("u1", "t1", "None")
	fmt.Println(err)
	// Output:
	// user:u1 tool_executing run=r1 user=u1 thread=t1
	// facade: invalid scope: run ID "None" is a placeholder, not an ID
}

type printer struct{}

func (printer) Notify(_ context.Context, to facade.Target, ev facade.Event) error {
	fmt.Printf("%v %v run=%s user=%s thread=%s\n", to, ev.Type, ev.RunID, ev.UserID, ev.ThreadID)
	return nil
}

// Raw sends a legacy message exactly as json.Marshal writes it.
func ExampleRaw() {
	b, _ := facade.EncodeEvent(facade.Raw(map[string]any{"type": "user_message", "content": "hi"}), facade.EncodingLegacy, time.Time{})
	fmt.Println(string(b))
	// Output: {"content":"hi","type":"user_message"}
}
