package facade

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Accept upgrades the request to a WebSocket and registers the connection in
// state Accepted. No event is written to it until [Conn.Ready]; events for
// it are queued meanwhile. It is kept alive from now on (pings every
// PingInterval; a client silent for PongTimeout fails). If it is not ready
// within ReadyTimeout it fails and is closed with CloseReadyTimeout.
//
// A client that offers subprotocols, none of which the hub speaks, is
// refused with HTTP 400 naming the ones it does ([ErrSubprotocol]): it
// would have to abort a handshake without one (RFC 6455 4.1).
//
// On error the client has been answered with an HTTP error (by the
// upgrader) or the connection closed.
func (h *Hub) Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return nil, ErrHubClosed
	}
	if err := checkSubprotocols(w, r); err != nil {
		return nil, err
	}
	id := opts.ID
	if id == "" {
		id = h.newID()
	}
	var wire *wireConn
	var start chan *Conn // hands the connection to a parked reader
	hw := hijacker{ResponseWriter: w, wrap: func(nc net.Conn) net.Conn {
		wire = newWireConn(nc, h.o.WriteTimeout)
		start = h.parkReader(wire)
		return wire
	}}
	ws, err := h.upgrader.Upgrade(hw, r, opts.ResponseHeader)
	if err != nil {
		if start != nil {
			close(start)
		}
		return nil, fmt.Errorf("facade: accept: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		hub:       h,
		id:        id,
		ws:        ws,
		wire:      wire,
		skip:      opts.SkipSteps,
		onMessage: opts.OnMessage,
		lastEvent: lastEventID(r, opts),
		eventIDs:  opts.EventIDs,
		ctx:       ctx,
		cancel:    cancel,
		ready:     make(chan struct{}),
		done:      make(chan struct{}),
		state:     Connecting,
		history:   make([]Transition, 0, 6), // the usual life: no regrowth
	}
	c.w = newWriter(c)
	if ws.Subprotocol() == SubprotocolNumeric {
		c.enc = EncodingNumeric
	}

	h.mu.Lock()
	if h.closed || h.conns[id] != nil {
		dup := !h.closed
		h.mu.Unlock()
		cancel()
		if start != nil {
			close(start)
		}
		_ = ws.Close()
		if dup {
			return nil, fmt.Errorf("facade: accept: connection ID %q already in use", id)
		}
		return nil, ErrHubClosed
	}
	wire.owner.Store(&c.w) // from now on gorilla's writes go to the writer
	c.mu.Lock()
	_ = c.transitionLocked(Accepted)
	c.readyTimer = newReadyTimer(c)
	c.pingTimer = time.AfterFunc(h.o.PingInterval, c.ping)
	c.mu.Unlock()
	h.conns[id] = c
	h.flush.conns.Store(int32(len(h.conns)))
	h.joinLocked(c, ToConn(id), "")
	if start != nil {
		_ = wire.Conn.SetReadDeadline(time.Now().Add(h.o.PongTimeout))
		start <- c
	} else {
		h.goOwned(c.readLoop)
	}
	h.mu.Unlock()
	return c, nil
}

// supportedSubprotocols are the subprotocols the hub speaks, preferred
// first.
var supportedSubprotocols = []string{SubprotocolNumeric, SubprotocolLegacy}

// checkSubprotocols answers HTTP 400 to a request that offers
// subprotocols, none of them supported.
func checkSubprotocols(w http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("Sec-WebSocket-Protocol") == "" {
		return nil
	}
	offered := websocket.Subprotocols(r)
	for _, p := range offered {
		if slices.Contains(supportedSubprotocols, p) {
			return nil
		}
	}
	msg := "facade: unsupported subprotocol; supported: " + strings.Join(supportedSubprotocols, ", ")
	http.Error(w, msg, http.StatusBadRequest)
	return fmt.Errorf("%w: offered %q, supported %q", ErrSubprotocol, offered, supportedSubprotocols)
}

// lastEventID returns the client's resume offset: the option, else the
// Last-Event-ID header, else the last_event_id query parameter.
func lastEventID(r *http.Request, opts *AcceptOptions) string {
	if opts.LastEventID != "" {
		return opts.LastEventID
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		return id
	}
	if !strings.Contains(r.URL.RawQuery, "last_event_id") {
		return "" // most requests: skip parsing the query
	}
	return r.URL.Query().Get("last_event_id")
}

// newReadyTimer fails c if it is not ready within ReadyTimeout.
func newReadyTimer(c *Conn) *time.Timer {
	return time.AfterFunc(c.hub.o.ReadyTimeout, func() {
		if st := c.State(); st.Live() && st != ProcessingReady {
			c.hub.readyTimeouts.Add(1)
			c.terminate(causeReadyTimeout)
		}
	})
}

// newID returns a connection ID unique across hubs and restarts: the hub's
// random prefix and a counter.
func (h *Hub) newID() string {
	return h.idPrefix + strconv.FormatUint(h.nextID.Add(1), 36)
}

// randomPrefix returns 8 random bytes in hex and a dash.
func randomPrefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:]) + "-"
}

// hijacker hands gorilla a wrapped net.Conn, so the facade controls every
// byte written to the client. It reaches the real Hijacker through
// http.ResponseController, so middleware that wraps the ResponseWriter and
// implements Unwrap works.
type hijacker struct {
	http.ResponseWriter
	wrap func(net.Conn) net.Conn
}

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return h.wrap(nc), brw, nil
}
