package push

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// writeWait bounds one write to one socket.
const writeWait = 10 * time.Second

// Conns is the service's own Pusher: the WebSocket connections of every
// user, each payload written to them as one text frame on the caller's
// goroutine. The zero value is not usable; call NewConns. All methods may
// be called from any goroutine.
//
// # Delivery
//
// A connection receives every push from the moment Add registers it,
// whatever the client has been told so far: pushd registers a connection
// before it has loaded the user's state and greeted the client, so a push
// in between reaches a client that does not know its session exists yet.
// A push for a user with no connection is dropped, and Push reports
// success.
type Conns struct {
	mu    sync.Mutex
	users map[string]map[*Client]struct{}
}

var _ Pusher = (*Conns)(nil)

// NewConns returns a Conns with no connection.
func NewConns() *Conns {
	return &Conns{users: make(map[string]map[*Client]struct{})}
}

// Client is one registered connection.
type Client struct {
	c      *Conns
	userID string

	mu sync.Mutex // held while writing: one writer per socket
	ws *websocket.Conn

	closeOnce sync.Once
	closeErr  error
}

// Add registers ws as a connection of userID; pushes for the user are
// written to it from now on. The caller keeps reading ws and calls Close
// when it is done.
func (c *Conns) Add(userID string, ws *websocket.Conn) *Client {
	cl := &Client{c: c, userID: userID, ws: ws}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users[userID] == nil {
		c.users[userID] = make(map[*Client]struct{})
	}
	c.users[userID][cl] = struct{}{}
	return cl
}

// Send writes payload to the client as one text frame.
func (cl *Client) Send(payload []byte) error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if err := cl.ws.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return err
	}
	return cl.ws.WriteMessage(websocket.TextMessage, payload)
}

// Close unregisters the client and closes its socket. It may be called
// more than once.
func (cl *Client) Close() error {
	cl.c.mu.Lock()
	if set := cl.c.users[cl.userID]; set != nil {
		delete(set, cl)
		if len(set) == 0 {
			delete(cl.c.users, cl.userID)
		}
	}
	cl.c.mu.Unlock()
	cl.closeOnce.Do(func() { cl.closeErr = cl.ws.Close() })
	return cl.closeErr
}

// Connected reports whether the user has a registered connection.
func (c *Conns) Connected(userID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.users[userID]) > 0
}

// clients returns the connections of userID, or of everyone when all is
// true.
func (c *Conns) clients(userID string, all bool) []*Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	var cls []*Client
	for u, set := range c.users {
		if all || u == userID {
			for cl := range set {
				cls = append(cls, cl)
			}
		}
	}
	return cls
}

// send writes payload to every client; a client whose write fails is
// closed.
func send(cls []*Client, payload []byte) error {
	var errs []error
	for _, cl := range cls {
		if err := cl.Send(payload); err != nil {
			errs = append(errs, fmt.Errorf("push: user %s: %w", cl.userID, err))
			_ = cl.Close()
		}
	}
	return errors.Join(errs...)
}

// Push writes payload to every connection of the user. It returns the
// failed writes; those connections are closed.
func (c *Conns) Push(userID string, payload []byte) error {
	return send(c.clients(userID, false), payload)
}

// PushAll writes payload to every connection. Failed writes are logged and
// their connections closed.
func (c *Conns) PushAll(payload []byte) {
	if err := send(c.clients("", true), payload); err != nil {
		slog.Warn("push: PushAll", "err", err)
	}
}

// Close closes every connection.
func (c *Conns) Close() error {
	var errs []error
	for _, cl := range c.clients("", true) {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}
