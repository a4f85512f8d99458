package facade

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with errors.Is.
var (
	ErrHubClosed     = errors.New("facade: hub closed")
	ErrConnClosed    = errors.New("facade: connection closed")
	ErrUnknownTarget = errors.New("facade: unknown target")
	ErrInvalidTarget = errors.New("facade: invalid target")
	ErrHoldFull      = errors.New("facade: hold full")
	ErrTooManyConns  = errors.New("facade: too many connections for user")
	ErrNotReady      = errors.New("facade: connection closed before it was ready")

	// ErrInvalidEvent reports an event that cannot be encoded: an unknown
	// type, a Custom event without a name, a Critical event without a type.
	ErrInvalidEvent = errors.New("facade: invalid event")
	// ErrInvalidScope reports an empty or placeholder ID in a Scope.
	ErrInvalidScope = errors.New("facade: invalid scope")
	// ErrNilNotifier reports a nil Notifier where one is needed.
	ErrNilNotifier = errors.New("facade: nil Notifier")
	// ErrSubprotocol reports a handshake refused because the client offered
	// only subprotocols the hub does not speak (HTTP 400).
	ErrSubprotocol = errors.New("facade: unsupported subprotocol")
	// ErrInvalidOptions reports HubOptions that contradict each other.
	ErrInvalidOptions = errors.New("facade: invalid options")
)

// HoldError reports an event that could not be held: the target's hold (or
// the queue of a connection not ready yet) is at its byte bound. The event
// was not queued for that receiver; Stats.Rejected counts it.
type HoldError struct {
	Target Target // the user or thread, or ToConn(id) for a connection's queue
	Bytes  int    // the event's size
	Limit  int    // the bound it would pass
}

func (e *HoldError) Error() string {
	return fmt.Sprintf("facade: hold full for %v: event of %d bytes over the %d-byte bound", e.Target, e.Bytes, e.Limit)
}

// Unwrap makes errors.Is(err, ErrHoldFull) true.
func (e *HoldError) Unwrap() error { return ErrHoldFull }

// ErrIllegalTransition reports a transition the table forbids. The
// connection's state is unchanged.
var ErrIllegalTransition = errors.New("facade: illegal transition")

// TransitionError is the error of a refused transition.
type TransitionError struct {
	ConnID   string
	From, To State
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("facade: conn %s: illegal transition %v → %v", e.ConnID, e.From, e.To)
}

// Unwrap makes errors.Is(err, ErrIllegalTransition) true.
func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }
