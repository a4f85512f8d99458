package facade

import (
	"errors"
	"time"

	"github.com/gorilla/websocket"
)

// parkReader starts the reader of a connection being upgraded before the
// handshake response is written: it parks in the network poller until the
// client sends something (or goes away, or is silent past PongTimeout),
// then takes the registered connection from the returned channel and reads.
// So no goroutine is created or woken while the client reads the response;
// starting the reader after it cost ~8 µs of the client's connect latency
// on 2 cores (BenchmarkConnect). It returns nil, and starts nothing, when the
// conn has no file descriptor to wait on or the hub is closed; a nil
// Conn on the channel means the upgrade failed.
func (h *Hub) parkReader(w *wireConn) chan *Conn {
	if w.raw == nil {
		return nil
	}
	h.mu.Lock() // goOwned must not race Close's Wait
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	start := make(chan *Conn, 1)
	h.goOwned(func() {
		err := waitReadable(w.raw)
		c := <-start
		switch {
		case c == nil:
		case err != nil: // silent past the deadline, or closed
			c.terminate(closeCause{final: Failed, why: "no message or pong within PongTimeout: " + err.Error()})
		default:
			c.readLoop()
		}
	})
	return start
}

// readLoop is the connection's only reader. Any frame from the client —
// message, ping or pong — moves the read deadline PongTimeout ahead, before
// Ready as after it. It hands messages to OnMessage once the connection is
// ready. It writes nothing itself: a ping is answered and a close echoed by
// the writer, and the close gorilla writes on a protocol error (1002, 1009)
// reaches the writer through wireConn. It ends the connection when the
// client closes, goes away or breaks the protocol.
func (c *Conn) readLoop() {
	o := &c.hub.o
	c.ws.SetReadLimit(o.MaxMessageBytes)
	deadline := func() { _ = c.ws.SetReadDeadline(time.Now().Add(o.PongTimeout)) }
	deadline()
	c.ws.SetPongHandler(func(string) error { deadline(); return nil })
	c.ws.SetPingHandler(func(data string) error {
		deadline()
		c.mu.Lock()
		c.w.pongLocked([]byte(data))
		c.mu.Unlock()
		return nil
	})
	c.ws.SetCloseHandler(func(code int, _ string) error {
		var echo []byte // a close without a code is answered without one
		if code != websocket.CloseNoStatusReceived {
			echo = websocket.FormatCloseMessage(code, "")
		}
		c.mu.Lock()
		c.w.closeLocked(echo)
		c.mu.Unlock()
		return nil
	})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.terminate(readCause(err))
			return
		}
		deadline()
		if c.onMessage == nil {
			continue
		}
		select {
		case <-c.ready:
		case <-c.done:
			return
		}
		c.onMessage(c.ctx, c, typ, data)
	}
}

// readCause is how a read error ends the connection. The close frame, if
// one is owed (the echo of the client's, gorilla's on a protocol error),
// is already the writer's; the facade adds none.
func readCause(err error) closeCause {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch {
		case cleanClose(ce.Code):
			return closeCause{final: Closed}
		case ce.Code == websocket.CloseAbnormalClosure: // no close frame: the client went away
			return closeCause{final: Failed, why: "client went away without a close frame", quiet: true}
		}
		return closeCause{final: Failed, why: "client closed with an error: " + err.Error()}
	}
	return closeCause{final: Failed, why: "read: " + err.Error()}
}
