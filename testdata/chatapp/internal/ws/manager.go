// Package ws is chatapp's connection layer: a connection manager and an
// agent event bridge written directly on gorilla/websocket.
//
// # Concurrency
//
// All Manager methods may be called from any goroutine. Writes to sockets
// happen on the caller's goroutine while the manager's lock is held, so a
// send to one user waits for sends to every other user.
//
// # Delivery
//
// A connection receives messages from the moment ConnectUser registers it,
// whatever the client has been told so far. A message for a user with no
// registered connection is kept in a per-user backlog (see Undelivered) and
// reported as sent: nothing replays the backlog.
package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	legacyws "github.com/wsunify/wsunify/bridge"
)

// MaxConnectionsPerUser is how many sockets one user may hold at once.
const MaxConnectionsPerUser = 10

// writeWait bounds a single socket write.
const writeWait = 10 * time.Second

// backlogCap bounds the undelivered messages kept per user.
const backlogCap = 100

// ErrTooManyConnections is returned by ConnectUser when the user already
// holds MaxConnectionsPerUser connections.
var ErrTooManyConnections = errors.New("ws: too many connections for user")

// client is one registered socket.
type client struct {
	id, userID, threadID string
	conn                 *websocket.Conn
}

// Manager tracks the sockets of every user and writes messages to them. It
// implements legacyws.WebSocketManager. The zero value is not usable; call
// NewManager.
type Manager struct {
	// CriticalRetries and CriticalRetryDelay control how long
	// EmitCriticalEvent waits for a user with no connection.
	CriticalRetries    int
	CriticalRetryDelay time.Duration

	mu      sync.Mutex
	nextID  int
	clients map[string]*client  // by connection ID
	backlog map[string][][]byte // encoded messages, per user
}

var _ legacyws.WebSocketManager = (*Manager)(nil)

// NewManager returns an empty manager with the production retry policy
// (3 attempts, one second apart).
func NewManager() *Manager {
	return &Manager{
		CriticalRetries:    3,
		CriticalRetryDelay: time.Second,
		clients:            make(map[string]*client),
		backlog:            make(map[string][][]byte),
	}
}

// ConnectUser registers conn for userID (and threadID, which may be empty)
// and returns its connection ID. From now on every send to the user is
// written to conn.
func (m *Manager) ConnectUser(userID, threadID string, conn *websocket.Conn) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.userClients(userID)) >= MaxConnectionsPerUser {
		return "", fmt.Errorf("%w: %s", ErrTooManyConnections, userID)
	}
	m.nextID++
	id := "conn-" + strconv.Itoa(m.nextID)
	m.clients[id] = &client{id: id, userID: userID, threadID: threadID, conn: conn}
	return id, nil
}

// DisconnectUser unregisters a connection and closes its socket with code
// and reason. Unknown IDs are ignored.
func (m *Manager) DisconnectUser(connID string, code int, reason string) {
	m.mu.Lock()
	c, ok := m.clients[connID]
	delete(m.clients, connID)
	m.mu.Unlock()
	if !ok {
		return
	}
	msg := websocket.FormatCloseMessage(code, reason)
	_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = c.conn.Close()
}

// SendToUser writes msg to every connection of userID. With none, msg goes
// to the backlog and SendToUser returns nil.
func (m *Manager) SendToUser(ctx context.Context, userID string, msg legacyws.Message) error {
	return m.SendJSON(ctx, userID, msg)
}

// SendJSON is SendToUser for any JSON value; the agent bridge uses it to
// keep its envelope's field order.
func (m *Manager) SendJSON(ctx context.Context, userID string, v any) error {
	n, b, err := m.write(ctx, func(c *client) bool { return c.userID == userID }, v)
	if n == 0 && err == nil {
		m.store(userID, b)
	}
	return err
}

// SendToConnection writes msg to one connection.
func (m *Manager) SendToConnection(ctx context.Context, connID string, msg legacyws.Message) error {
	n, _, err := m.write(ctx, func(c *client) bool { return c.id == connID }, msg)
	if err == nil && n == 0 {
		return fmt.Errorf("ws: no connection %s", connID)
	}
	return err
}

// SendToThread writes msg to every connection opened on threadID.
func (m *Manager) SendToThread(ctx context.Context, threadID string, msg legacyws.Message) error {
	_, _, err := m.write(ctx, func(c *client) bool { return c.threadID == threadID }, msg)
	return err
}

// Broadcast writes msg to every connection.
func (m *Manager) Broadcast(ctx context.Context, msg legacyws.Message) error {
	_, _, err := m.write(ctx, func(*client) bool { return true }, msg)
	return err
}

// EmitCriticalEvent sends {"type": eventType, "critical": true,
// "timestamp": …} merged with data to userID, retrying while the user has
// no connection; after the last attempt the event goes to the backlog.
func (m *Manager) EmitCriticalEvent(ctx context.Context, userID, eventType string, data legacyws.Message) error {
	msg := make(legacyws.Message, len(data)+3)
	for k, v := range data {
		msg[k] = v
	}
	msg["type"] = eventType
	msg["critical"] = true
	msg["timestamp"] = timestamp(time.Now())

	for attempt := 1; ; attempt++ {
		n, b, err := m.write(ctx, func(c *client) bool { return c.userID == userID }, msg)
		if err != nil || n > 0 {
			return err
		}
		if attempt >= m.CriticalRetries {
			m.store(userID, b)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ws: critical event %s: %w", eventType, ctx.Err())
		case <-time.After(m.CriticalRetryDelay):
		}
	}
}

// IsConnectionActive reports whether userID has a registered connection.
func (m *Manager) IsConnectionActive(userID string) bool {
	return len(m.GetUserConnections(userID)) > 0
}

// GetUserConnections returns the connection IDs of userID, sorted.
func (m *Manager) GetUserConnections(userID string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := []string{}
	for _, c := range m.userClients(userID) {
		ids = append(ids, c.id)
	}
	slices.Sort(ids)
	return ids
}

// Undelivered returns how many messages for userID are in the backlog.
func (m *Manager) Undelivered(userID string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.backlog[userID])
}

// write encodes v once and writes it to every client that match selects.
// It returns how many sockets were written and the encoding.
func (m *Manager) write(ctx context.Context, match func(*client) bool, v any) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("ws: send: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0, nil, fmt.Errorf("ws: encode: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int
	var errs []error
	for _, c := range m.clients {
		if !match(c) {
			continue
		}
		_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
			errs = append(errs, fmt.Errorf("ws: write %s: %w", c.id, err))
			continue
		}
		n++
	}
	return n, b, errors.Join(errs...)
}

// store keeps an encoded message for a user who had no connection.
func (m *Manager) store(userID string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := append(m.backlog[userID], b)
	if len(q) > backlogCap {
		q = q[len(q)-backlogCap:]
	}
	m.backlog[userID] = q
}

// userClients returns the clients of userID; m.mu must be held.
func (m *Manager) userClients(userID string) []*client {
	var cs []*client
	for _, c := range m.clients {
		if c.userID == userID {
			cs = append(cs, c)
		}
	}
	return cs
}

// timestamp formats t the way the Python service did (isoformat of an aware
// UTC datetime).
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
}
