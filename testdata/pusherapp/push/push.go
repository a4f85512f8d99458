// Package push delivers notifications to the browsers and apps of users
// connected to pushd over a WebSocket.
//
// The service's code sends through a [Pusher]. [Conns] is the service's own
// implementation over gorilla/websocket; [Over] is one over a wsunify
// facade.Notifier, and [NotifierOf] goes the other way, so that call sites
// can move to facade.Notifier one at a time (see wsunify.recipe.go).
package push

// Pusher sends notifications. A payload is one JSON document, the bytes a
// client receives as one text frame. Implementations may be used from any
// goroutine.
type Pusher interface {
	// Push sends payload to every connection of the user. A user with no
	// connection is not an error.
	Push(userID string, payload []byte) error
	// PushAll sends payload to every connection.
	PushAll(payload []byte)
}
