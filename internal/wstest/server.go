package wstest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsunify/wsunify/facade"
)

// Server is a facade hub behind a real HTTP server on loopback. Its
// handler accepts every request on any path as a WebSocket connection of
// the hub and hands the connection to the test through [Server.NextConn].
// Its methods may be called concurrently.
type Server struct {
	Hub  *facade.Hub
	HTTP *httptest.Server

	accept facade.AcceptOptions
	conns  chan *facade.Conn
	quit   chan struct{}
	once   sync.Once
}

// Query is what a client's URL asks of the server's handler.
type Query struct {
	// ID is the connection's ID (AcceptOptions.ID); empty for a random one.
	ID string
	// EventIDs opts the connection in to event IDs (AcceptOptions.EventIDs).
	EventIDs bool
	// LastEventID is sent as the last_event_id query parameter, which the
	// hub reads when AcceptOptions.LastEventID is empty.
	LastEventID string
	// User, if set, makes the handler authenticate the connection as User,
	// join Threads and make it ProcessingReady before handing it over; a
	// step that fails closes the connection with 1008 and hands nothing
	// over. Without a user the test walks the connection itself.
	User    string
	Threads []string
}

// values encodes q as query parameters.
func (q Query) values() url.Values {
	v := url.Values{}
	if q.ID != "" {
		v.Set("id", q.ID)
	}
	if q.EventIDs {
		v.Set("ids", "1")
	}
	if q.LastEventID != "" {
		v.Set("last_event_id", q.LastEventID)
	}
	if q.User != "" {
		v.Set("user", q.User)
	}
	for _, th := range q.Threads {
		v.Add("thread", th)
	}
	return v
}

// connsBuffer is how many accepted connections wait for NextConn before
// the handler blocks.
const connsBuffer = 256

// NewServer serves hub on a loopback port. accept (nil for the zero value)
// is the base of every connection's AcceptOptions; the request's [Query]
// sets ID and, when asked, EventIDs. The test's cleanup closes the server
// and fails the test if Hub.Close fails; call [Server.Close] to close it
// earlier or to see that error yourself.
func NewServer(tb testing.TB, hub *facade.Hub, accept *facade.AcceptOptions) *Server {
	tb.Helper()
	s := &Server{Hub: hub, conns: make(chan *facade.Conn, connsBuffer), quit: make(chan struct{})}
	if accept != nil {
		s.accept = *accept
	}
	s.HTTP = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("wstest: closing the hub: %v", err)
		}
	})
	return s
}

// serve is the handler: accept, walk the connection as the query asks,
// hand it over.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := s.accept
	o.ID = q.Get("id")
	if q.Get("ids") == "1" {
		o.EventIDs = true
	}
	c, err := s.Hub.Accept(w, r, &o)
	if err != nil {
		return
	}
	if user := q.Get("user"); user != "" {
		if err := walk(c, user, q["thread"]); err != nil {
			_ = c.Close(websocket.ClosePolicyViolation, err.Error())
			return
		}
	}
	select {
	case s.conns <- c:
	case <-s.quit:
	}
}

// walk authenticates c as user, joins threads and makes c ready.
func walk(c *facade.Conn, user string, threads []string) error {
	if err := c.Authenticate(user); err != nil {
		return err
	}
	for _, th := range threads {
		if err := c.JoinThread(th); err != nil {
			return err
		}
	}
	if err := c.ServicesReady(); err != nil {
		return err
	}
	return c.Ready()
}

// URL is the ws:// URL of the server with q's parameters.
func (s *Server) URL(q Query) string {
	u := "ws" + strings.TrimPrefix(s.HTTP.URL, "http") + "/ws"
	if v := q.values(); len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// NextConn returns the server side of the next connection the handler
// accepted (and walked, if its query named a user), in accept order.
func (s *Server) NextConn(ctx context.Context) (*facade.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wstest: the server accepted no connection: %w", context.Cause(ctx))
	}
}

// dialTimeout bounds a dial and the handover of its server side in the
// helpers that take a testing.TB.
const dialTimeout = 10 * time.Second

// Gorilla dials a gorilla/websocket client with q, offering subprotocols,
// and returns it with its server side. The client is closed when the test
// ends.
func (s *Server) Gorilla(tb testing.TB, q Query, subprotocols ...string) (*websocket.Conn, *facade.Conn) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), dialTimeout)
	defer cancel()
	d := websocket.Dialer{Subprotocols: subprotocols}
	ws, res, err := d.DialContext(ctx, s.URL(q), nil)
	if res != nil && res.Body != nil {
		_ = res.Body.Close()
	}
	if err != nil {
		tb.Fatalf("wstest: dial %s: %v", s.URL(q), err)
	}
	tb.Cleanup(func() { _ = ws.Close() })
	c, err := s.NextConn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return ws, c
}

// Strict dials the strict client with q and o and returns it with its
// server side. When the test ends the client is closed, and the test fails
// if the server's stream broke the protocol.
func (s *Server) Strict(tb testing.TB, q Query, o *Options) (*Client, *facade.Conn) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), dialTimeout)
	defer cancel()
	cl, err := Dial(ctx, s.URL(q), o)
	if err != nil {
		tb.Fatalf("wstest: dial %s: %v", s.URL(q), err)
	}
	tb.Cleanup(func() {
		if err := cl.Close(); err != nil {
			tb.Error(err)
		}
	})
	c, err := s.NextConn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return cl, c
}

// Close closes the client connections, the hub and the HTTP server, and
// returns Hub.Close's error. Later calls do nothing and return nil.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.quit)
		err = s.Hub.Close()
		s.HTTP.CloseClientConnections()
		s.HTTP.Close()
	})
	return err
}
