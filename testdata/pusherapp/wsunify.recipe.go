//go:build ignore

// The recipe that moves pusherapp's call sites off push.Pusher onto
// facade.Notifier:
//
//	wsunify plan -recipe wsunify.recipe.go ./...
//	wsunify apply -recipe wsunify.recipe.go ./...
//
// Each rule is a pair of functions: Before's body is the legacy call, After's
// the call that replaces it, with the same parameters; the doc comment of
// Before gives the rule's ID (for -rule) and one line for humans. The file is
// Go and type-checks against the packages it names (`go vet wsunify.recipe.go`
// checks it); the build tag keeps it out of pusherapp's own build.
//
// Until a declaration of type push.Pusher is retyped, the migrated call
// reaches the Notifier behind it with push.NotifierOf: the hub itself for a
// Pusher made by push.Over, an adapter that sends back through Push and
// PushAll for the service's own push.Conns, so the call site can move first.
//
// The payload goes as facade.Raw(json.RawMessage(payload)): the hub writes
// json.Marshal of it, which is the payload itself when json.Marshal wrote it
// (compact, HTML-escaped), as every caller of pusherapp does.
//
// Push and PushAll take no context, and a rule knows only the operands of the
// call it rewrites: the migrated call passes context.TODO(), which is never
// cancelled, as the push was not, and marks the call sites where the caller
// has a context to pass instead (grep context.TODO).
package recipe

import (
	"context"
	"encoding/json"

	"github.com/wsunify/wsunify/facade"

	"example.com/pusherapp/push"
)

// push: a payload to every connection of a user.
func pushBefore(p push.Pusher, userID string, payload []byte) error {
	return p.Push(userID, payload)
}

func pushAfter(p push.Pusher, userID string, payload []byte) error {
	return push.NotifierOf(p).Notify(context.TODO(), facade.ToUser(userID), facade.Raw(json.RawMessage(payload)))
}

// push-all: a payload to every connection; Notify's error is dropped, as PushAll had none.
func pushAllBefore(p push.Pusher, payload []byte) {
	p.PushAll(payload)
}

func pushAllAfter(p push.Pusher, payload []byte) {
	push.NotifierOf(p).Notify(context.TODO(), facade.ToAll(), facade.Raw(json.RawMessage(payload)))
}
