package bridge

import (
	"context"

	"github.com/wsunify/wsunify/facade"
)

// hub is what a manager needs of a *facade.Hub.
type hub interface {
	facade.Notifier
	Connected(userID string) bool
	ConnIDs(userID string) []string
}

// manager is the WebSocketManager over a hub. Each method is one call of
// its migrated form. It is safe for concurrent use.
type manager struct {
	hub hub // nil when made from a nil *facade.Hub
}

// NewWebSocketManager returns the legacy connection manager over h. Every
// message goes through h.Notify, so it waits for readiness like any other
// event. A nil h makes a manager whose sends return facade.ErrNilNotifier.
//
// Deprecated: use h itself: it is a facade.Notifier, and has Connected and
// ConnIDs.
func NewWebSocketManager(h *facade.Hub) WebSocketManager {
	warn(context.Background(), newWebSocketManager)
	if h == nil {
		return &manager{}
	}
	return &manager{hub: h}
}

func (m *manager) notify(ctx context.Context, to facade.Target, ev facade.Event) error {
	if m.hub == nil {
		return facade.ErrNilNotifier
	}
	return m.hub.Notify(ctx, to, ev)
}

// SendToUser implements [WebSocketManager].
func (m *manager) SendToUser(ctx context.Context, userID string, msg Message) error {
	warn(ctx, sendToUser)
	return m.notify(ctx, facade.ToUser(userID), facade.Raw(msg))
}

// SendToThread implements [WebSocketManager].
func (m *manager) SendToThread(ctx context.Context, threadID string, msg Message) error {
	warn(ctx, sendToThread)
	return m.notify(ctx, facade.ToThread(threadID), facade.Raw(msg))
}

// Broadcast implements [WebSocketManager].
func (m *manager) Broadcast(ctx context.Context, msg Message) error {
	warn(ctx, broadcast)
	return m.notify(ctx, facade.ToAll(), facade.Raw(msg))
}

// EmitCriticalEvent implements [WebSocketManager].
func (m *manager) EmitCriticalEvent(ctx context.Context, userID, eventType string, data Message) error {
	warn(ctx, emitCriticalEvent)
	return m.notify(ctx, facade.ToUser(userID), facade.Critical(eventType, data))
}

// IsConnectionActive implements [WebSocketManager].
func (m *manager) IsConnectionActive(userID string) bool {
	warn(context.Background(), isConnectionActive)
	return m.hub != nil && m.hub.Connected(userID)
}

// GetUserConnections implements [WebSocketManager].
func (m *manager) GetUserConnections(userID string) []string {
	warn(context.Background(), getUserConnections)
	if m.hub == nil {
		return nil
	}
	return m.hub.ConnIDs(userID)
}
