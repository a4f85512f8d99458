package facade

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Subprotocols a client may ask for in Sec-WebSocket-Protocol. A client that
// asks for none gets the legacy encoding.
const (
	// SubprotocolLegacy is the default encoding: "type" is the event name.
	SubprotocolLegacy = "wsunify.legacy"
	// SubprotocolNumeric sends the numeric code of typed events
	// ("type":1 for agent_started). Raw, Critical and Custom events keep
	// their string type: they have no code.
	SubprotocolNumeric = "wsunify.numeric"
)

// Encoding is a wire encoding negotiated per connection.
type Encoding uint8

// Encodings.
const (
	EncodingLegacy Encoding = iota
	EncodingNumeric
)

// The opening bytes of each typed event, computed once.
var legacyPrefixes, numericPrefixes [Custom]string

func init() {
	for t := AgentStarted; t < Custom; t++ {
		legacyPrefixes[t] = string(appendString([]byte(`{"type":`), t.String()))
		numericPrefixes[t] = `{"type":` + strconv.Itoa(int(t))
	}
}

// appendTimestamp appends t in UTC as Python's datetime.isoformat() writes an
// aware time with microseconds, which the legacy service put in "timestamp":
// 2025-09-01T12:30:45.123456+00:00. It is time.Format's result for that
// layout, without parsing the layout on every event.
func appendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1000, 6)
	return append(b, "+00:00"...)
}

// appendDigits appends v zero-padded to width digits (v >= 0).
func appendDigits(b []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(b, buf[i:]...)
}

// message is an event encoded once per Notify and shared, read-only, by every
// receiver and hold. The wire bytes are prefix+body, where the prefix depends
// on the receiver's encoding; only typed events have two prefixes.
type message struct {
	legacy  string // opens the JSON object, up to and including the type value
	numeric string // "" when the same as legacy
	body    []byte
	seq     uint64    // Notify order within the hub
	id      string    // a Broker's ID for the event ("" without one)
	at      time.Time // when it was notified, for the hold's age bound
	idBody  []byte    // body without its own "event_id" member, when a Broker gave it an ID (nil: body has none)
}

// size is the bytes this message costs in a queue or hold.
func (m *message) size() int { return len(m.legacy) + len(m.body) }

// prefix returns the opening bytes for enc.
func (m *message) prefix(enc Encoding) string {
	if enc == EncodingNumeric && m.numeric != "" {
		return m.numeric
	}
	return m.legacy
}

// Bytes returns the complete wire form for enc. It copies; the writer does
// not use it.
func (m *message) Bytes(enc Encoding) []byte {
	p := m.prefix(enc)
	return append([]byte(p), m.body...)
}

// EncodeEvent returns the wire bytes of ev in enc, stamped with now when
// ev.Time is zero. It is the encoder Notify uses, exposed for golden tests
// and for brokers that carry events between processes.
func EncodeEvent(ev Event, enc Encoding, now time.Time) ([]byte, error) {
	m, err := encode(ev, now)
	if err != nil {
		return nil, err
	}
	return m.Bytes(enc), nil
}

// encode turns ev into its shared wire form. Errors name the event and wrap
// the JSON error; nothing partial is ever returned.
func encode(ev Event, now time.Time) (*message, error) {
	if !ev.Time.IsZero() {
		now = ev.Time
	}
	switch ev.kind {
	case kindRaw:
		scratch := scratchBufs.Get().(*[]byte)
		defer putScratch(scratch)
		b, err := appendJSON((*scratch)[:0], ev.payload)
		if err != nil {
			return nil, fmt.Errorf("facade: encode raw message: %w", err)
		}
		*scratch = b
		m := newMessage(b)
		m.at = now
		return m, nil
	case kindCritical:
		return encodeCritical(ev.Name, ev.payload, now)
	}
	if !ev.Type.valid() {
		return nil, fmt.Errorf("facade: encode: %w: %v", ErrInvalidEvent, ev.Type)
	}
	name := ev.Type.String()
	if ev.Type == Custom {
		if ev.Name == "" {
			return nil, fmt.Errorf("facade: encode: %w: custom event without a Name", ErrInvalidEvent)
		}
		if t, ok := ParseEventType(ev.Name); ok && t != Custom {
			// a client would take it for the real event and misread its data
			return nil, fmt.Errorf("facade: encode: %w: custom event named like the built-in %q", ErrInvalidEvent, ev.Name)
		}
		name = ev.Name
	}
	scratch := scratchBufs.Get().(*[]byte)
	defer putScratch(scratch)
	b := append((*scratch)[:0], `,"run_id":`...)
	b = appendString(b, ev.RunID)
	b = append(b, `,"user_id":`...)
	b = appendString(b, ev.UserID)
	b = append(b, `,"agent_name":`...)
	b = appendString(b, ev.Agent)
	if ev.Type == ToolExecuting || ev.Type == ToolCompleted {
		b = append(b, `,"tool_name":`...)
		b = appendString(b, ev.Tool)
	}
	b = append(b, `,"timestamp":"`...)
	b = appendTimestamp(b, now)
	b = append(b, `","data":`...)
	b, err := appendData(b, ev)
	if err != nil {
		return nil, fmt.Errorf("facade: encode %s data: %w", name, err)
	}
	b = append(b, '}')
	*scratch = b

	m := newMessage(b)
	m.at = now
	if ev.Type == Custom {
		m.legacy = string(appendString([]byte(`{"type":`), name))
	} else {
		m.legacy, m.numeric = legacyPrefixes[ev.Type], numericPrefixes[ev.Type]
	}
	return m, nil
}

// scratchBufs hold the body of an event while encode writes it, so the
// message can then be made with its body in one allocation.
var scratchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func putScratch(b *[]byte) {
	if cap(*b) <= 64<<10 {
		scratchBufs.Put(b)
	}
}

// newMessage returns a message whose body is a copy of body. A body that
// fits one of a few sizes shares the message's allocation (each pairing is
// a size class of the Go allocator, so little is wasted): Notify to a
// ready user allocates this and nothing else.
func newMessage(body []byte) *message {
	var m *message
	var buf []byte
	switch n := len(body); {
	case n <= 160:
		m, buf = withRoom(func(a *[160]byte) []byte { return a[:0] })
	case n <= 224:
		m, buf = withRoom(func(a *[224]byte) []byte { return a[:0] })
	case n <= 352:
		m, buf = withRoom(func(a *[352]byte) []byte { return a[:0] })
	case n <= 512:
		m, buf = withRoom(func(a *[512]byte) []byte { return a[:0] })
	case n <= 1024:
		m, buf = withRoom(func(a *[1024]byte) []byte { return a[:0] })
	default:
		m, buf = new(message), make([]byte, 0, n)
	}
	m.body = append(buf, body...)
	m.body = m.body[:len(body):len(body)] // an append by a reader never writes into the spare room
	return m
}

// withRoom allocates a message and the array A beside it, at once, and
// returns the message and the array as an empty slice.
func withRoom[A any](slice func(*A) []byte) (*message, []byte) {
	x := new(struct {
		message
		room A
	})
	return &x.message, slice(&x.room)
}

var emptyObject = map[string]any{}

func orEmpty(v any) any {
	if v == nil {
		return emptyObject
	}
	if m, ok := v.(map[string]any); ok && m == nil {
		return emptyObject
	}
	return v
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// appendData appends the legacy "data" object of a typed event, members in
// the order the legacy bridge wrote them. Data of another type than its
// event expects is written as it is.
func appendData(b []byte, ev Event) ([]byte, error) {
	var err error
	switch ev.Type {
	case AgentStarted:
		b = append(b, `{"status":"started","context":`...)
		if b, err = appendJSON(b, orEmpty(ev.Data)); err != nil {
			return nil, err
		}
		b = append(b, `,"message":`...)
		return append(appendString2(b, ev.Agent, " started"), '}'), nil
	case AgentThinking:
		t, ok := ev.Data.(Thought)
		if !ok {
			break
		}
		b = append(b, `{"reasoning":`...)
		b = appendString(b, t.Reasoning)
		b = append(b, `,"step_number":`...)
		b = strconv.AppendInt(b, int64(t.Step), 10)
		if t.Progress != 0 {
			b = append(b, `,"progress_percentage":`...)
			if b, err = appendFloat(b, t.Progress, 64); err != nil {
				return nil, err
			}
		}
		return append(b, `,"status":"thinking"}`...), nil
	case ToolExecuting:
		b = append(b, `{"parameters":`...)
		if b, err = appendJSON(b, orEmpty(ev.Data)); err != nil {
			return nil, err
		}
		b = append(b, `,"status":"executing","message":`...)
		return append(appendString2(b, "Executing ", ev.Tool), '}'), nil
	case ToolCompleted, AgentCompleted:
		o, ok := ev.Data.(Outcome)
		if !ok {
			break
		}
		b = append(b, `{"result":`...)
		if b, err = appendJSON(b, o.Result); err != nil {
			return nil, err
		}
		b = append(b, `,"execution_time_ms":`...)
		if b, err = appendFloat(b, ms(o.Elapsed), 64); err != nil {
			return nil, err
		}
		b = append(b, `,"status":"completed","message":`...)
		if ev.Type == ToolCompleted {
			b = appendString2(b, "Completed ", ev.Tool)
		} else {
			b = appendString2(b, ev.Agent, " completed")
		}
		return append(b, '}'), nil
	case AgentError:
		var f Failure
		switch d := ev.Data.(type) {
		case Failure:
			f = d
		case error:
			f.Err = d
		default:
			if ev.Data != nil {
				return appendJSON(b, ev.Data)
			}
		}
		msg := "unknown error"
		if f.Err != nil {
			msg = f.Err.Error()
		}
		b = append(b, `{"status":"error","error_message":`...)
		b = appendString(b, msg)
		b = append(b, `,"error_context":`...)
		if b, err = appendJSON(b, orEmpty(f.Context)); err != nil {
			return nil, err
		}
		b = append(b, `,"message":`...)
		return append(appendString2(b, ev.Agent+" failed: ", msg), '}'), nil
	}
	return appendJSON(b, orEmpty(ev.Data))
}

// appendString2 appends the JSON string of x+y without building it.
func appendString2(b []byte, x, y string) []byte {
	if !plain(x) || !plain(y) {
		return appendString(b, x+y)
	}
	b = append(b, '"')
	b = append(b, x...)
	b = append(b, y...)
	return append(b, '"')
}

func encodeCritical(eventType string, data any, now time.Time) (*message, error) {
	if eventType == "" {
		return nil, fmt.Errorf("facade: encode: %w: critical event without a type", ErrInvalidEvent)
	}
	env := make(map[string]any, 8)
	if m, ok := data.(map[string]any); ok {
		for k, v := range m {
			env[k] = v
		}
	} else if data != nil {
		env["data"] = data
	}
	env["type"] = eventType
	env["critical"] = true
	env["timestamp"] = string(appendTimestamp(nil, now))
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("facade: encode critical %s: %w", eventType, err)
	}
	return &message{body: b, at: now}, nil
}

// appendString appends s as a JSON string, byte for byte what encoding/json
// writes (HTML-safe escaping, invalid UTF-8 as U+FFFD).
func appendString(b []byte, s string) []byte {
	if !plain(s) {
		enc, _ := json.Marshal(s) // a string always marshals
		return append(b, enc...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plain reports whether s is printable ASCII that JSON writes unescaped.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
