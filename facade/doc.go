// Package facade is the one readiness-gated [Notifier] of wsunify.
//
// A [Hub] accepts WebSocket connections (on gorilla/websocket) and walks each
// through an explicit state machine. Callers send typed [Event]s to a
// [Target] — a user, a thread, a connection or everyone — with
// [Hub.Notify]; the hub delivers them when, and only when, the receiving
// connection is ready.
//
//	hub := facade.NewHub(nil)
//	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
//		c, err := hub.Accept(w, r, nil)
//		if err != nil {
//			return
//		}
//		user, err := authenticate(r)
//		if err != nil {
//			c.Close(websocket.ClosePolicyViolation, "unauthenticated")
//			return
//		}
//		c.Authenticate(user) // events for user now queue here
//		loadServices(user)
//		c.ServicesReady()
//		c.Ready() // queued events flush, in order
//	})
//	hub.Notify(ctx, facade.ToUser("u1"), facade.Event{Type: facade.AgentStarted, RunID: "r1", Agent: "triage"})
//
// # Readiness
//
// A connection is Connecting, then Accepted once the WebSocket handshake is
// done, Authenticated once [Conn.Authenticate] binds it to a user,
// ServicesReady once the application has set it up, and ProcessingReady
// after [Conn.Ready]. Closing, Closed and Failed end it. The transitions are
// one table ([CanTransition]); an illegal one returns a [*TransitionError]
// and changes nothing. Every connection keeps its [Conn.History].
//
// Accepted is not ready. No event is written to a connection before Ready
// (only the keepalive's control frames, below): events for it are queued,
// in [Hub.Notify] order, and written first when it becomes ready. Events for a user or thread with no live connection are
// held by the hub — bounded in bytes ([HubOptions].HoldBytes) and in age
// (HoldTTL) — and move to the first connection that authenticates for it
// (or joins the thread). Past a bound Notify returns a [*HoldError] and
// [Hub.Stats] counts it; an event that ages out is counted too. A connection
// that does not become ready within ReadyTimeout fails and gives its queued
// events back to the hold. Nothing is dropped silently (see Failure).
//
// A connection is kept alive from Accept on, ready or not: it is pinged
// every PingInterval, and any frame from the client moves its deadline
// PongTimeout ahead. Ready does not restart either clock, and ReadyTimeout
// may be longer than PongTimeout. [HubOptions.Validate] reports settings
// that contradict each other; [NewHub] logs them and corrects them.
//
// Readiness is event-driven: [Conn.WaitReady] wakes the moment Ready is
// called; nothing polls.
//
// # Wire
//
// By default the wire is the legacy JSON envelope, one message per frame,
// and the facade adds nothing of its own:
//
//	{"type":"agent_started","run_id":"r1","user_id":"u1","agent_name":"triage","timestamp":"2026-01-02T03:04:05.000000+00:00","data":{...}}
//
// [Raw] sends json.Marshal of a legacy message as it is; [Critical] sends the
// legacy critical envelope. A client that asks for [SubprotocolNumeric]
// receives "type":1 codes instead of names for typed events. Each event is
// encoded once per Notify, whatever the number of receivers.
//
// # Many instances
//
// A Hub alone reaches the connections of its own process. Set
// [HubOptions].Broker to reach every instance: Notify then publishes the
// encoded event through the broker and each hub delivers it to its own
// connections, in Notify order per publisher and target. Package
// facade/redisbroker is that Broker over Redis: streams hold events for users
// with no ready connection anywhere, a client that reconnects elsewhere
// resumes after its last event ID ([AcceptOptions].LastEventID, opt-in IDs on
// the wire with EventIDs), and Connected and ConnIDs see every instance.
//
// # Concurrency
//
// Every exported method of Hub, Conn and [Emitter] may be called from any
// goroutine. Notify never blocks on a client: it encodes, appends to
// byte-bounded queues under a short lock, and returns.
//
// Each connection has one writer, the only code that writes to its socket
// once the handshake is done: events, pings, the pong that answers a
// client's ping, the echo of a client's close, the close frame of a
// protocol error (gorilla's reader hands these over instead of writing
// them). A frame the socket took only in part is finished before any other
// starts, so frames never interleave: control frames go between data
// frames, never inside one. The writer is driven by one goroutine at a
// time, and by none while idle: a few goroutines per hub (GOMAXPROCS-1 at
// most, at least one, gone a second after the last work, or at once
// when the hub has no connection left) write what
// sockets take at once and never wait, and a connection whose socket is
// full gets its own goroutine until it drains, which waits at most
// WriteTimeout. No lock is held across a write, so a client that stops
// reading — pinging or not — delays no one else. A writer writes a burst
// of queued frames with one send, each message still its own frame, and
// no timer unless the socket's send buffer is full. On Linux the hub's
// goroutines hand their sends to the kernel through io_uring, up to 32
// connections of a fan-out in one io_uring_enter (the first ones in
// shorter enters of 1, 2, 4, ... sends); where io_uring is missing or
// refused (old kernels, seccomp), and on other platforms, every send is a
// write call. Each connection has one
// reader goroutine, which hands client messages to
// [AcceptOptions].OnMessage only once ready; it parks in the network
// poller until the client first sends.
//
// # Failure
//
// Overflow is never silent. A connection not ready yet refuses an event
// past MaxQueueBytes with a [*HoldError]. A ready connection takes events
// up to HardQueueBytes and refuses the next with a *HoldError; a connection
// whose queue is past MaxQueueBytes while its socket takes nothing for
// SlowConsumerAfter is a slow consumer: it is closed with
// [CloseSlowConsumer], nothing but the close frame is written to it from
// then on, and what it did not receive is held for its user's or thread's
// next connection. A client that reads, however far a burst outruns it, is
// not slow. Every copy of an event is counted in [Stats]: accepted copies
// end written, expired or undelivered (or are still held or queued), and
// refused ones are Rejected — the invariant is stated on Stats.
//
// A client's close is echoed; it ends the connection Closed when clean
// (1000, 1001, no code, 3000–4999) and Failed otherwise. A client that
// vanishes, a write that fails or passes WriteTimeout, a protocol error,
// silence past PongTimeout, a ReadyTimeout or a slow consumer end it
// Failed; HubOptions.Logger receives a line for each (Debug for a client
// that vanished, Warn otherwise).
//
// [Hub.Close] closes every connection and waits for every goroutine the hub
// started. Internally the hub's lock is taken before a connection's;
// Notify's route to live connections holds it shared, so publishers to
// distinct targets do not wait for one another.
package facade
