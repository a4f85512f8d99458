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
