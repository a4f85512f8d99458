package facade

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Notifier sends events. It is the one API every caller migrates to; [*Hub]
// implements it, and so do [*Emitter] and the bridge's adapters.
//
// Notify either delivers ev to the target's ready connections, queues it for
// connections that are not ready yet, or holds it for a target that has no
// connection yet; otherwise it returns an error saying why. It never blocks
// on a client.
type Notifier interface {
	Notify(ctx context.Context, to Target, ev Event) error
}

// Scope binds events to one run of one user in one thread.
type Scope struct {
	UserID, ThreadID, RunID string
}

// placeholders are IDs that code passes when it has no real one. The legacy
// system accepted them and then routed events to nobody.
var placeholders = map[string]bool{
	"none": true, "null": true, "nil": true, "<nil>": true, "undefined": true,
	"unknown": true, "placeholder": true, "default": true, "registry": true,
	"anonymous": true, "n/a": true, "na": true, "tbd": true, "todo": true,
	"-": true, "0": true,
}

// ValidateID returns an error if id is empty, blank or a placeholder such
// as "None", "undefined" or "registry". field names it in the error.
func ValidateID(field, id string) error {
	t := strings.TrimSpace(id)
	switch {
	case t == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalidScope, field)
	case placeholders[strings.ToLower(t)]:
		return fmt.Errorf("%w: %s %q is a placeholder, not an ID", ErrInvalidScope, field, id)
	}
	return nil
}

// NewScope returns the scope of one run, refusing empty or placeholder IDs.
func NewScope(userID, threadID, runID string) (Scope, error) {
	s := Scope{UserID: userID, ThreadID: threadID, RunID: runID}
	return s, s.Validate()
}

// Validate reports the first empty or placeholder ID of s.
func (s Scope) Validate() error {
	return errors.Join(ValidateID("user ID", s.UserID), ValidateID("thread ID", s.ThreadID), ValidateID("run ID", s.RunID))
}

// Emitter is a Notifier bound to one Scope: it fills the scope's IDs into
// every event that leaves them empty. Emit sends to the scope's user.
// An Emitter is safe for concurrent use if its Notifier is.
type Emitter struct {
	n Notifier
	s Scope
}

// NewEmitter returns an Emitter that sends through n on behalf of s.
func NewEmitter(n Notifier, s Scope) *Emitter { return &Emitter{n: n, s: s} }

// Scope returns the scope e emits for.
func (e *Emitter) Scope() Scope { return e.s }

// Notifier returns the Notifier e sends through.
func (e *Emitter) Notifier() Notifier { return e.n }

// Emit sends ev to the scope's user, with the scope's user, thread and run
// IDs filled in where ev leaves them empty.
func (e *Emitter) Emit(ctx context.Context, ev Event) error {
	if e == nil {
		return ErrNilNotifier
	}
	return e.Notify(ctx, ToUser(e.s.UserID), ev)
}

// Notify sends ev to to, with the scope's IDs filled in where ev leaves them
// empty. It makes Emitter a Notifier.
func (e *Emitter) Notify(ctx context.Context, to Target, ev Event) error {
	if e == nil || e.n == nil {
		return ErrNilNotifier
	}
	if ev.kind == kindTyped {
		if ev.UserID == "" {
			ev.UserID = e.s.UserID
		}
		if ev.ThreadID == "" {
			ev.ThreadID = e.s.ThreadID
		}
		if ev.RunID == "" {
			ev.RunID = e.s.RunID
		}
	}
	return e.n.Notify(ctx, to, ev)
}
