package push

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/wsunify/wsunify/facade"
)

// Over returns a Pusher that sends through n (a *facade.Hub): Push is a
// facade.Raw event to facade.ToUser(userID), PushAll one to facade.ToAll().
// The payload goes as a json.RawMessage, so the client receives the very
// bytes Push was given when they are what json.Marshal writes (compact,
// HTML-escaped); other JSON is sent compacted, and a payload that is not
// JSON is an error. Unlike Conns, a hub holds the pushes for a user with
// no ready connection and writes nothing to a connection before it is
// ready.
//
// A Pusher has no context, so Over sends with context.Background(): a push
// is never cancelled, as with Conns. PushAll logs the error it cannot
// return.
func Over(n facade.Notifier) Pusher { return notifierPusher{n} }

type notifierPusher struct{ n facade.Notifier }

func (p notifierPusher) Push(userID string, payload []byte) error {
	return p.n.Notify(context.Background(), facade.ToUser(userID), facade.Raw(json.RawMessage(payload)))
}

func (p notifierPusher) PushAll(payload []byte) {
	if err := p.n.Notify(context.Background(), facade.ToAll(), facade.Raw(json.RawMessage(payload))); err != nil {
		slog.Warn("push: PushAll", "err", err)
	}
}

// NotifierOf returns the facade.Notifier behind p, so that a call site can
// move to Notify before the declaration of p changes type:
//
//   - a Pusher made by Over: its Notifier;
//   - a Pusher that is a facade.Notifier too: p itself;
//   - any other Pusher, such as *Conns: an adapter that encodes each event
//     as the hub would (facade.EncodeEvent, legacy encoding) and sends it
//     with Push to a facade.ToUser target and with PushAll to
//     facade.ToAll(); other targets are an error;
//   - nil: a Notifier whose Notify returns facade.ErrNilNotifier.
//
// The adapter checks ctx before it pushes; a push that has begun is not
// cancelled.
func NotifierOf(p Pusher) facade.Notifier {
	switch v := p.(type) {
	case nil:
		return errNotifier{facade.ErrNilNotifier}
	case notifierPusher:
		return v.n
	case facade.Notifier:
		return v
	}
	return pusherNotifier{p}
}

type errNotifier struct{ err error }

func (n errNotifier) Notify(context.Context, facade.Target, facade.Event) error { return n.err }

// pusherNotifier sends through a legacy Pusher.
type pusherNotifier struct{ p Pusher }

func (a pusherNotifier) Notify(ctx context.Context, to facade.Target, ev facade.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := facade.EncodeEvent(ev, facade.EncodingLegacy, time.Now())
	if err != nil {
		return err
	}
	switch id := to.ID(); to {
	case facade.ToUser(id):
		return a.p.Push(id, b)
	case facade.ToAll():
		a.p.PushAll(b)
		return nil
	}
	return fmt.Errorf("%w: a Pusher sends to users and to all, not to %v", facade.ErrInvalidTarget, to)
}
