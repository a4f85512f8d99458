// Package facadetest provides a test double for code that sends through
// facade: a [Recorder] that implements [facade.Presence], records what it
// accepts and answers presence from what the test sets.
//
// It replaces the fakes of a legacy connection manager that recorded
// SendToUser and the other legacy calls: after `wsunify apply`, code calls
// Notify, and a test asserts on the targets and events the Recorder took.
package facadetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wsunify/wsunify/facade"
)

// Sent is one event the Recorder accepted.
type Sent struct {
	To    facade.Target
	Event facade.Event
}

// Recorder is a [facade.Presence] for tests. Like a *facade.Hub, Notify
// refuses a done context, an invalid target and an event that does not
// encode, and records nothing then; unlike a hub, it never holds, queues or
// drops: every event it accepts is recorded, in order. Connected and
// ConnIDs answer from [Recorder.SetConns]. The zero value is ready to use
// and it is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	sent    []Sent
	conns   map[string][]string
	fail    error
	failOn  map[string]error // by wire type (FailOn)
	changed chan struct{}    // closed and replaced at every accepted event
}

var _ facade.Presence = (*Recorder)(nil)

// Notify records ev for to, or returns the error a hub would return for
// them, or the one set with [Recorder.FailWith].
func (r *Recorder) Notify(ctx context.Context, to facade.Target, ev facade.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !to.Valid() {
		return fmt.Errorf("%w: %v", facade.ErrInvalidTarget, to)
	}
	if _, err := facade.EncodeEvent(ev, facade.EncodingLegacy, time.Unix(0, 0)); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if err := r.failOn[wireType(ev)]; err != nil {
		return err
	}
	r.sent = append(r.sent, Sent{to, ev})
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	return nil
}

// FailWith makes every later Notify return err without recording, until
// FailWith(nil).
func (r *Recorder) FailWith(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// FailOn makes every later Notify of an event of wire type typ (see
// [Recorder.Types]) return err without recording, until FailOn(typ, nil):
// for a test of what code does when one kind of event is refused.
func (r *Recorder) FailOn(typ string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failOn == nil {
		r.failOn = map[string]error{}
	}
	if err == nil {
		delete(r.failOn, typ)
		return
	}
	r.failOn[typ] = err
}

// SetConns sets the IDs of the user's live connections; none means the
// user is offline.
func (r *Recorder) SetConns(userID string, connIDs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil {
		r.conns = map[string][]string{}
	}
	if len(connIDs) == 0 {
		delete(r.conns, userID)
		return
	}
	ids := slices.Clone(connIDs)
	slices.Sort(ids)
	r.conns[userID] = ids
}

// Connected reports whether the test gave the user a connection.
func (r *Recorder) Connected(userID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns[userID]) > 0
}

// ConnIDs returns the user's connection IDs the test set, sorted.
func (r *Recorder) ConnIDs(userID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.conns[userID])
}

// Sent returns every event accepted so far, in order.
func (r *Recorder) Sent() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// Take returns every event accepted so far and forgets them.
func (r *Recorder) Take() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sent
	r.sent = nil
	return s
}

// To returns the events accepted for to, in order.
func (r *Recorder) To(to facade.Target) []facade.Event {
	var evs []facade.Event
	for _, s := range r.Sent() {
		if s.To == to {
			evs = append(evs, s.Event)
		}
	}
	return evs
}

// Events returns every event accepted so far, in order, without their
// targets: for code that emits through a [facade.Emitter], whose target is
// its scope's user.
func (r *Recorder) Events() []facade.Event {
	var evs []facade.Event
	for _, s := range r.Sent() {
		evs = append(evs, s.Event)
	}
	return evs
}

// User is the user of the scope of [Recorder.Emitter].
const User = "facadetest-user"

// Emitter returns an Emitter over r whose scope is [User] alone: what a
// test hands code that takes a *facade.Emitter when whom the events are
// for is not what it tests (a legacy agent bridge was bound to its user
// before the code got it, and its doubles never saw one). Emit records for
// facade.ToUser(User); the Emitter fills User into typed events that have
// no user.
func (r *Recorder) Emitter() *facade.Emitter {
	return facade.NewEmitter(r, facade.Scope{UserID: User})
}

// Types returns the wire type of every event accepted so far, in order:
// "agent_started" and the like for a typed event, the Name of a Custom one,
// the eventType of a facade.Critical one, and the "type" field of a
// facade.Raw message that is a map with a string there ("" otherwise).
func (r *Recorder) Types() []string {
	var ts []string
	for _, s := range r.Sent() {
		ts = append(ts, wireType(s.Event))
	}
	return ts
}

func wireType(ev facade.Event) string {
	if typ, _, ok := ev.CriticalPayload(); ok {
		return typ
	}
	if msg, ok := ev.RawPayload(); ok {
		if m, ok := msg.(map[string]any); ok {
			typ, _ := m["type"].(string)
			return typ
		}
		return ""
	}
	if ev.Type == facade.Custom {
		return ev.Name
	}
	return ev.Type.String()
}

// Messages returns the messages of the facade.Raw events accepted for to,
// in order: what a legacy fake recorded from SendToUser, SendToThread or
// Broadcast.
func (r *Recorder) Messages(to facade.Target) []any {
	var msgs []any
	for _, ev := range r.To(to) {
		if m, ok := ev.RawPayload(); ok {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// Wait blocks until at least n events have been accepted and returns them,
// or returns ctx's error with those accepted so far: for code that
// notifies from another goroutine.
func (r *Recorder) Wait(ctx context.Context, n int) ([]Sent, error) {
	for {
		r.mu.Lock()
		if len(r.sent) >= n {
			s := slices.Clone(r.sent)
			r.mu.Unlock()
			return s, nil
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return r.Sent(), ctx.Err()
		}
	}
}
