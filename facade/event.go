package facade

import (
	"fmt"
	"time"
)

// EventType names an agent event. Its String is the legacy wire name
// ("agent_started"); its value is the numeric wire code sent to clients that
// negotiate [SubprotocolNumeric]. The zero EventType is invalid.
type EventType uint16

// The agent events of the legacy bridge. The codes are part of the wire
// contract: append, never renumber.
const (
	AgentStarted EventType = 1 + iota
	AgentThinking
	ToolExecuting
	ToolCompleted
	AgentCompleted
	AgentError
	AgentDeath
	ProgressUpdate
	Custom // the wire name is Event.Name
)

var eventNames = [...]string{
	AgentStarted:   "agent_started",
	AgentThinking:  "agent_thinking",
	ToolExecuting:  "tool_executing",
	ToolCompleted:  "tool_completed",
	AgentCompleted: "agent_completed",
	AgentError:     "agent_error",
	AgentDeath:     "agent_death",
	ProgressUpdate: "progress_update",
	Custom:         "custom",
}

// String returns the legacy wire name of t.
func (t EventType) String() string {
	if t.valid() {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", uint16(t))
}

func (t EventType) valid() bool { return t >= AgentStarted && t <= Custom }

// ParseEventType returns the EventType whose wire name is name. Names that
// are not built in are not errors to a caller who wants a Custom event; they
// are reported with ok false.
func ParseEventType(name string) (t EventType, ok bool) {
	for i, n := range eventNames {
		if n == name && i != 0 {
			return EventType(i), true
		}
	}
	return 0, false
}

// Critical reports whether t is one of the five events a chat client needs to
// render a run (started, thinking, tool executing, tool completed, completed).
func (t EventType) Critical() bool { return t >= AgentStarted && t <= AgentCompleted }

// Event is one notification. Build a typed agent event with a struct literal,
// a legacy message with [Raw], a legacy critical event with [Critical].
//
// Data is the payload; for the typed events the wire "data" object is shaped
// from it exactly as the legacy bridge shaped it:
//
//   - AgentStarted: Data is the run context → {"status","context","message"}
//   - AgentThinking: Data is a [Thought] → {"reasoning","step_number",...}
//   - ToolExecuting: Data is the tool parameters → {"parameters","status","message"}
//   - ToolCompleted, AgentCompleted: Data is an [Outcome] → {"result","execution_time_ms",...}
//   - AgentError: Data is an error or a [Failure] → {"status","error_message",...}
//   - AgentDeath, ProgressUpdate, Custom: Data is sent as it is.
//
// Any other Data for a shaped type is sent as it is.
type Event struct {
	Type EventType
	Name string // the wire type of a Custom event; ignored otherwise

	RunID    string
	ThreadID string // routing metadata; not part of the legacy envelope
	UserID   string
	Agent    string // "agent_name" on the wire
	Tool     string // "tool_name" on the wire, for the tool events

	Data any // JSON-marshalable

	// Time is the event's "timestamp"; zero means the time of Notify.
	Time time.Time

	kind    eventKind
	payload any
}

type eventKind uint8

const (
	kindTyped eventKind = iota
	kindRaw
	kindCritical
)

// Raw is an event whose wire form is exactly json.Marshal(msg): what the
// legacy connection manager sent. The facade adds nothing to it.
func Raw(msg any) Event {
	return Event{kind: kindRaw, payload: msg}
}

// Critical is the legacy critical-event envelope: "type" is eventType,
// "critical" is true, "timestamp" is the time of Notify, and the fields of
// data (a map) sit beside them, flat. Data that is not a map[string]any is
// carried under "data". The envelope's own keys win over data's.
func Critical(eventType string, data any) Event {
	return Event{kind: kindCritical, Name: eventType, payload: data}
}

// Thought is the Data of an AgentThinking event.
type Thought struct {
	Reasoning string
	Step      int
	Progress  float64 // percent; 0 leaves "progress_percentage" out
}

// Outcome is the Data of a ToolCompleted or AgentCompleted event.
type Outcome struct {
	Result  any
	Elapsed time.Duration // "execution_time_ms" on the wire
}

// Failure is the Data of an AgentError event that carries context beside the
// error. A plain error is accepted as well.
type Failure struct {
	Err     error
	Context map[string]any
}

// RawPayload returns the message of an event made by [Raw].
func (e Event) RawPayload() (msg any, ok bool) {
	return e.payload, e.kind == kindRaw
}

// CriticalPayload returns the type and data of an event made by [Critical].
func (e Event) CriticalPayload() (eventType string, data any, ok bool) {
	if e.kind != kindCritical {
		return "", nil, false
	}
	return e.Name, e.payload, true
}
