// Package push is a team's own legacy notifier, not bridge's shape: the
// second recipe of the parser's tests migrates it onto facade.Notifier.
package push

import (
	"context"

	"github.com/wsunify/wsunify/facade"
)

// Pusher pushes payloads to users.
type Pusher interface {
	Push(userID string, payload []byte) error
	PushAll(payload []byte)
}

// New returns a Pusher over h.
func New(h *facade.Hub) Pusher { return hubPusher{h} }

// Notifier returns the facade.Notifier behind p.
func Notifier(p Pusher) facade.Notifier {
	if h, ok := p.(hubPusher); ok {
		return h.h
	}
	return nil
}

type hubPusher struct{ h *facade.Hub }

func (p hubPusher) Push(userID string, payload []byte) error {
	return p.h.Notify(context.Background(), facade.ToUser(userID), facade.Raw(payload))
}

func (p hubPusher) PushAll(payload []byte) {
	_ = p.h.Notify(context.Background(), facade.ToAll(), facade.Raw(payload))
}
