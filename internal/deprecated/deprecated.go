// Package deprecated carries the counts of deprecated calls from package
// bridge, which counts them, to package metrics, which exports them,
// without metrics importing bridge: a service that no longer imports the
// bridge does not link it by exporting its metrics, and then has no
// deprecated call to count.
package deprecated

import "sync/atomic"

// A Call is the number of calls one call site made to one deprecated entry
// point.
type Call struct {
	Call  string `json:"call"`  // the entry point, e.g. "WebSocketManager.SendToUser"
	Rule  string `json:"rule"`  // the codemod rule that rewrites the call, e.g. "send-to-user"
	Site  string `json:"site"`  // the caller's "file:line"
	Count uint64 `json:"count"` // calls since the process started
}

var source atomic.Pointer[func() []Call]

// SetSource makes f the source of [Calls]. Package bridge calls it from
// its init function.
func SetSource(f func() []Call) { source.Store(&f) }

// Calls returns a snapshot of the calls counted by the source, nil if
// there is none (package bridge is not linked).
func Calls() []Call {
	if f := source.Load(); f != nil {
		return (*f)()
	}
	return nil
}
