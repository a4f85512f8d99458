package bridge

import (
	"context"
	"fmt"

	"github.com/wsunify/wsunify/facade"
)

// PresenceOf returns the facade.Presence behind x, so that code that both
// notifies and asks who is connected can migrate before the declaration of
// x is retyped to facade.Presence:
//
//   - a manager made by [NewWebSocketManager]: its *facade.Hub;
//   - a facade.Presence (a *facade.Hub among them): x itself;
//   - any other [WebSocketManager], a team's own included: an adapter whose
//     Notify is [NotifierOf](x)'s and whose Connected and ConnIDs call
//     IsConnectionActive and GetUserConnections;
//   - nil, a nil pointer or anything else: a Presence whose Notify returns
//     an error (facade.ErrNilNotifier or [ErrUnsupported]) and that reports
//     nobody connected.
func PresenceOf(x any) facade.Presence {
	switch v := x.(type) {
	case *manager:
		if v.hub == nil {
			return errPresence{errNotifier{facade.ErrNilNotifier}}
		}
		return v.hub
	case facade.Presence:
		if !isNil(v) {
			return v
		}
	}
	if isNil(x) {
		return errPresence{errNotifier{facade.ErrNilNotifier}}
	}
	m, ok := x.(WebSocketManager)
	if !ok {
		_, active := x.(activeChecker)
		_, lister := x.(connLister)
		if !hasAny(x, true) && !active && !lister {
			return errPresence{errNotifier{fmt.Errorf("%w: %T is neither a facade.Presence nor a legacy manager", ErrUnsupported, x)}}
		}
		m = partialManager{x}
	}
	return legacyPresence{NotifierOf(x), m}
}

// errPresence only fails and knows nobody.
type errPresence struct{ errNotifier }

func (errPresence) Connected(string) bool   { return false }
func (errPresence) ConnIDs(string) []string { return nil }

// legacyPresence answers presence through a team's own legacy manager.
type legacyPresence struct {
	n facade.Notifier
	m WebSocketManager
}

// Notify implements facade.Notifier.
func (p legacyPresence) Notify(ctx context.Context, to facade.Target, ev facade.Event) error {
	return p.n.Notify(ctx, to, ev)
}

// Connected implements facade.Presence with IsConnectionActive.
func (p legacyPresence) Connected(userID string) bool { return p.m.IsConnectionActive(userID) }

// ConnIDs implements facade.Presence with GetUserConnections.
func (p legacyPresence) ConnIDs(userID string) []string { return p.m.GetUserConnections(userID) }
