package bridge_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

// printer is a Notifier that prints the wire form of each event, stamped
// with a fixed time.
type printer struct{}

func (printer) Notify(_ context.Context, to facade.Target, ev facade.Event) error {
	b, err := facade.EncodeEvent(ev, facade.EncodingLegacy, time.Date(2025, 9, 14, 8, 30, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	fmt.Printf("%v %s\n", to, b)
	return nil
}

// A legacy service keeps its manager; only its construction changes, and
// its messages now wait for the client to be ready.
func ExampleNewWebSocketManager() {
	hub := facade.NewHub(nil)
	defer hub.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := hub.Accept(w, r, nil)
		if err != nil {
			return
		}
		_ = c.Authenticate("u-1")
		_ = c.ServicesReady()
		_ = c.Ready()
	}))
	defer srv.Close()

	var m bridge.WebSocketManager = bridge.NewWebSocketManager(hub)
	// Sent before the user connects: held, not lost.
	if err := m.SendToUser(context.Background(), "u-1", bridge.Message{"type": "welcome"}); err != nil {
		fmt.Println(err)
	}

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	_, msg, err := ws.ReadMessage()
	fmt.Println(string(msg), err)
	// Output: {"type":"welcome"} <nil>
}

func ExampleNewAgentWebSocketBridge() {
	uc, err := bridge.NewUserExecutionContext("u-1", "th-1", "run-7")
	if err != nil {
		fmt.Println(err)
		return
	}
	b := bridge.NewAgentWebSocketBridge(printer{}, uc)
	ctx := context.Background()
	_ = b.NotifyToolExecuting(ctx, "run-7", "search", "triage", bridge.Message{"q": "order 42"})
	_ = b.NotifyAgentCompleted(ctx, "run-7", "triage", "refunded", 1500*time.Millisecond)
	fmt.Println(b.NotifyCustom(ctx, "run-7", "triage", "agent_started", nil))
	// Output:
	// user:u-1 {"type":"tool_executing","run_id":"run-7","user_id":"u-1","agent_name":"triage","tool_name":"search","timestamp":"2025-09-14T08:30:00.000000+00:00","data":{"parameters":{"q":"order 42"},"status":"executing","message":"Executing search"}}
	// user:u-1 {"type":"agent_completed","run_id":"run-7","user_id":"u-1","agent_name":"triage","timestamp":"2025-09-14T08:30:00.000000+00:00","data":{"result":"refunded","execution_time_ms":1500,"status":"completed","message":"triage completed"}}
	// bridge: NotifyCustom: facade: invalid event: "agent_started" is a built-in event; send it with its own method
}

func ExampleNewUserExecutionContext() {
	_, err := bridge.NewUserExecutionContext("None", "th-1", "run-7")
	fmt.Println(err)
	uc, _ := bridge.NewUserExecutionContext("u-1", "th-1", "run-7", bridge.WithRequestID("req-9"))
	fmt.Println(uc.Scope(), uc.RequestID)
	// Output:
	// bridge: user execution context: facade: invalid scope: user ID "None" is a placeholder, not an ID
	// {u-1 th-1 run-7} req-9
}

// teamManager is a team's own implementation of the legacy manager; the
// embedded interface stands in for the methods this example does not call.
type teamManager struct{ bridge.WebSocketManager }

func (teamManager) SendToThread(_ context.Context, threadID string, msg bridge.Message) error {
	fmt.Println("team SendToThread", threadID, msg)
	return nil
}

// A call site migrated before its declaration is retyped goes through
// NotifierOf, which routes the event back to the team's own method.
func ExampleNotifierOf() {
	var m bridge.WebSocketManager = teamManager{}
	n := bridge.NotifierOf(m)
	_ = n.Notify(context.Background(), facade.ToThread("th-1"), facade.Raw(map[string]any{"type": "typing"}))
	// Output: team SendToThread th-1 map[type:typing]
}

// EmitterOf does the same for an agent bridge, whoever implemented it.
func ExampleEmitterOf() {
	b := bridge.NewAgentWebSocketBridge(printer{}, bridge.UserExecutionContext{UserID: "u-1", ThreadID: "th-1", RunID: "run-7"})
	e := bridge.EmitterOf(b)
	_ = e.Emit(context.Background(), facade.Event{Type: facade.AgentThinking, Agent: "triage", Data: facade.Thought{Reasoning: "Checking the order", Step: 1}})
	// Output:
	// user:u-1 {"type":"agent_thinking","run_id":"run-7","user_id":"u-1","agent_name":"triage","timestamp":"2025-09-14T08:30:00.000000+00:00","data":{"reasoning":"Checking the order","step_number":1,"status":"thinking"}}
}
