package facade

import (
	"fmt"
	"time"
)

// State is where a connection is in its life. The zero State is invalid:
// a connection always has a real one.
type State uint8

// The states, in the only order a connection may walk them. Closing, Closed
// and Failed are reachable from every live state.
const (
	Connecting      State = iota + 1 // TCP/HTTP accepted, upgrade in progress
	Accepted                         // WebSocket handshake done; nothing may be sent yet
	Authenticated                    // the user is known; events for the user are queued for it
	ServicesReady                    // the application's per-connection services are set up
	ProcessingReady                  // ready: queued events flush, new ones are written at once
	Closing                          // closing handshake in progress
	Closed                           // terminal: closed cleanly
	Failed                           // terminal: closed on an error or timeout
)

var stateNames = [...]string{
	Connecting:      "Connecting",
	Accepted:        "Accepted",
	Authenticated:   "Authenticated",
	ServicesReady:   "ServicesReady",
	ProcessingReady: "ProcessingReady",
	Closing:         "Closing",
	Closed:          "Closed",
	Failed:          "Failed",
}

func (s State) String() string {
	if s >= Connecting && s <= Failed {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Live reports whether s is neither terminal nor closing.
func (s State) Live() bool { return s >= Connecting && s <= ProcessingReady }

// Terminal reports whether s is Closed or Failed.
func (s State) Terminal() bool { return s == Closed || s == Failed }

// legal is the transition table: legal[from] has bit `to` set when from → to
// is allowed. It is the only place transitions are decided.
var legal = [...]uint16{
	Connecting:      bits(Accepted, Closing, Closed, Failed),
	Accepted:        bits(Authenticated, Closing, Closed, Failed),
	Authenticated:   bits(ServicesReady, Closing, Closed, Failed),
	ServicesReady:   bits(ProcessingReady, Closing, Closed, Failed),
	ProcessingReady: bits(Closing, Closed, Failed),
	Closing:         bits(Closed, Failed),
	Closed:          0,
	Failed:          0,
}

func bits(ss ...State) uint16 {
	var b uint16
	for _, s := range ss {
		b |= 1 << s
	}
	return b
}

// CanTransition reports whether from → to is legal. With skip, forward jumps
// over the readiness steps (Accepted → ProcessingReady) are legal too; see
// [AcceptOptions].SkipSteps.
func CanTransition(from, to State, skip bool) bool {
	if from < Connecting || from > Failed || to < Connecting || to > Failed {
		return false
	}
	if legal[from]&(1<<to) != 0 {
		return true
	}
	return skip && from.Live() && to.Live() && to > from
}

// Transition is one step of a connection's history.
type Transition struct {
	From, To State
	At       time.Time
}
