package facade

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"sync"
)

// appendJSON appends the JSON of v exactly as json.Marshal writes it. The
// shapes event payloads usually have — maps, slices, strings, numbers,
// bools, json.RawMessage — are written directly, without reflection, and
// structs of them by their compiled encoder (jsonstruct.go); anything else
// goes through encoding/json. FuzzAppendJSON holds the two to the same
// bytes.
func appendJSON(b []byte, v any) ([]byte, error) {
	return appendAny(b, v, 0)
}

// maxJSONDepth is the deepest nesting the direct encoder follows; a deeper
// value, or one that contains itself, is encoded by encoding/json, which
// reports a cycle as json.Marshal does.
const maxJSONDepth = 200

// appendAny is appendJSON for a value nested depth levels deep.
func appendAny(b []byte, v any, depth int) ([]byte, error) {
	if depth >= maxJSONDepth {
		return marshalAppend(b, v)
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case float64:
		return appendFloat(b, x, 64)
	case float32:
		return appendFloat(b, float64(x), 32)
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		return appendMap(b, x, depth)
	case json.RawMessage:
		if x == nil {
			return append(b, "null"...), nil
		}
		if validCompact(x) {
			return append(b, x...), nil
		}
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendAny(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']'), nil
	default:
		if out, ok := appendReflect(b, v, depth); ok {
			return out, nil
		}
	}
	return marshalAppend(b, v)
}

// appendEncoder is a json.Encoder writing onto a slice: its Encode writes
// what json.Marshal returns, and a newline, in one Write.
type appendEncoder struct {
	b   []byte
	enc *json.Encoder
}

func (a *appendEncoder) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

var appendEncoders = sync.Pool{New: func() any {
	a := new(appendEncoder)
	a.enc = json.NewEncoder(a) // HTML escaping on, as json.Marshal
	return a
}}

// marshalAppend appends json.Marshal(v) to b without the allocation of
// Marshal's result.
func marshalAppend(b []byte, v any) ([]byte, error) {
	a := appendEncoders.Get().(*appendEncoder)
	a.b = b
	err := a.enc.Encode(v)
	out := a.b
	a.b = nil
	appendEncoders.Put(a)
	if err != nil {
		return b, err
	}
	return out[:len(out)-1], nil // Encode ends the value with a newline
}

// appendMap writes keys in sorted order, as encoding/json does.
func appendMap(b []byte, m map[string]any, depth int) ([]byte, error) {
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendAny(b, m[k], depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendFloat formats f as encoding/json's float encoder does.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		_, err := json.Marshal(f) // the same UnsupportedValueError
		return b, err
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// e-09 → e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}
