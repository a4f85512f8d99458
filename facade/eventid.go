package facade

import (
	"bytes"

	"github.com/gorilla/websocket"
)

// Event IDs on the wire ([AcceptOptions].EventIDs): each event a Broker
// delivered carries the broker's ID as its one "event_id" member.

// appendWithID appends m's text frame for enc with its broker ID as an
// "event_id" member: right after "type" in a typed event, first in a Raw or
// Critical one, whose own top-level "event_id" member, if any, is left out
// (idBody). A message whose wire form is not a JSON object (a Raw array or
// string) is written without it.
func appendWithID(b []byte, m *message, id string, enc Encoding) []byte {
	prefix, body := m.prefix(enc), m.body
	var idBuf [64]byte
	field := appendString(append(idBuf[:0], `"event_id":`...), id)
	switch {
	case prefix != "": // typed: {"type":… then ,"run_id":…
		b = appendHeader(b, websocket.TextMessage, len(prefix)+1+len(field)+len(body))
		b = append(b, prefix...)
		b = append(b, ',')
		b = append(b, field...)
		return append(b, body...)
	case len(body) >= 2 && body[0] == '{':
		if m.idBody != nil {
			body = m.idBody
		}
		rest := body[1:]
		sep := 1 // the comma before the object's first member
		if rest[0] == '}' {
			sep = 0
		}
		b = appendHeader(b, websocket.TextMessage, 1+len(field)+sep+len(rest))
		b = append(b, '{')
		b = append(b, field...)
		if sep == 1 {
			b = append(b, ',')
		}
		return append(b, rest...)
	}
	return appendFrame(b, websocket.TextMessage, prefix, body)
}

// withoutMember returns body, a Raw or Critical event's JSON object (prefix
// ""), without its top-level members named name, or nil when it has none
// (or is not such an object). It is computed once per event a Broker
// delivers, so that a payload's own "event_id" is not written beside the
// broker's: a client's JSON parser would keep the last one.
func withoutMember(prefix string, body []byte, name string) []byte {
	if prefix != "" || len(body) < 2 || body[0] != '{' || !bytes.Contains(body, []byte(`"`+name+`"`)) {
		return nil
	}
	out := append(make([]byte, 0, len(body)), '{')
	dropped := false
	i := 1
	for {
		i = skipSpace(body, i)
		if i >= len(body) {
			return nil
		}
		if body[i] == '}' {
			break
		}
		start := i
		end, ok := skipString(body, i)
		if !ok {
			return nil
		}
		key := body[start+1 : end-1]
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ':' {
			return nil
		}
		if i, ok = skipValue(body, skipSpace(body, i+1)); !ok {
			return nil
		}
		if string(key) == name {
			dropped = true
		} else {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, body[start:i]...)
		}
		i = skipSpace(body, i)
		if i < len(body) && body[i] == ',' {
			i++
		}
	}
	if !dropped {
		return nil
	}
	return append(out, '}')
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string that opens at i.
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return i, false
}

// skipValue returns the index after the JSON value that opens at i.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				var ok bool
				if i, ok = skipString(b, i); !ok {
					return i, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\t' && b[i] != '\r' {
		i++
	}
	return i, true
}
