//go:build ignore

// The recipe that moves package push's Pusher onto facade.Notifier.

package recipe

import (
	"context"

	"example.com/pusher/push"
	"github.com/wsunify/wsunify/facade"
)

// push: a payload to every connection of one user.
func pushBefore(p push.Pusher, userID string, payload []byte) error {
	return p.Push(userID, payload)
}

func pushAfter(p push.Pusher, userID string, payload []byte) error {
	return push.Notifier(p).Notify(context.Background(), facade.ToUser(userID), facade.Raw(payload))
}

// push-all: a payload to every live connection.
func pushAllBefore(p push.Pusher, payload []byte) {
	p.PushAll(payload)
}

func pushAllAfter(p push.Pusher, payload []byte) {
	push.Notifier(p).Notify(context.Background(), facade.ToAll(), facade.Raw(payload))
}

// retype: a Pusher becomes the facade.Notifier behind it.
//
//wsunify:retype
func pusherBefore(p push.Pusher) push.Pusher {
	return p
}

func pusherAfter(p push.Pusher) facade.Notifier {
	return push.Notifier(p)
}

// retype: a Pusher built over a hub becomes the *facade.Hub itself.
//
//wsunify:retype
func newBefore(h *facade.Hub) push.Pusher {
	return push.New(h)
}

func newAfter(h *facade.Hub) *facade.Hub {
	return h
}
