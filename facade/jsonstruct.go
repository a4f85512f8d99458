package facade

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// The direct encoder of the structs legacy code hands to Raw: a struct of
// strings, numbers, bools, json.RawMessage, maps and interfaces, nested
// structs, pointers and slices of them. Each type is compiled once into a
// list of fields with their keys; what the compiler does not know (an
// embedded field, a type with its own MarshalJSON or MarshalText,
// json.Number, []byte, an array, a map of another type, the ",string" and
// ",omitzero" options, a name that needs escaping, a type that contains
// itself) leaves the type to encoding/json.
//
// A json.RawMessage is what makes encoding/json slow here: it checks and
// compacts it with its scanner, a call per byte. The direct encoder copies
// a RawMessage that is already what that compaction returns (validCompact),
// and leaves anything else — space between tokens, '<', '>', '&', U+2028
// or U+2029, invalid JSON — to encoding/json, whose bytes or error are then
// the answer. FuzzAppendJSON holds the two to the same bytes.

// valueEncoder appends the JSON of v; ok false means encoding/json must
// encode the whole value (what was appended is then dropped).
type valueEncoder func(b []byte, v reflect.Value, depth int) (_ []byte, ok bool)

// structEncoders caches, per type, its valueEncoder, or a nil one when the
// type is left to encoding/json.
var structEncoders sync.Map // reflect.Type → valueEncoder

// appendReflect appends the JSON of v, a value appendJSON has no case for,
// with the type's compiled encoder; ok false means encoding/json must.
func appendReflect(b []byte, v any, depth int) ([]byte, bool) {
	rv := reflect.ValueOf(v)
	enc, ok := structEncoders.Load(rv.Type())
	if !ok {
		enc, _ = structEncoders.LoadOrStore(rv.Type(), compileTop(rv.Type()))
	}
	f := enc.(valueEncoder)
	if f == nil {
		return b, false
	}
	return f(b, rv, depth)
}

// compileTop compiles the encoder of a value handed to Raw: only structs and
// pointers to them are compiled; appendJSON has the other usual shapes.
func compileTop(t reflect.Type) valueEncoder {
	base := t
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if base.Kind() != reflect.Struct {
		return nil
	}
	return compile(t, map[reflect.Type]bool{})
}

var (
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	numberType        = reflect.TypeFor[json.Number]()
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	mapStringAnyType  = reflect.TypeFor[map[string]any]()
)

// compile returns the encoder of t, or nil when encoding/json must encode
// it. seen holds the types being compiled, so a type that contains itself
// is left to encoding/json (which detects cycles of values).
func compile(t reflect.Type, seen map[reflect.Type]bool) valueEncoder {
	if t == rawMessageType {
		return encodeRawMessage
	}
	if t == numberType { // a string written as a number, checked
		return nil
	}
	if t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(marshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		return func(b []byte, v reflect.Value, _ int) ([]byte, bool) { return appendString(b, v.String()), true }
	case reflect.Bool:
		return func(b []byte, v reflect.Value, _ int) ([]byte, bool) { return strconv.AppendBool(b, v.Bool()), true }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(b []byte, v reflect.Value, _ int) ([]byte, bool) { return strconv.AppendInt(b, v.Int(), 10), true }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(b []byte, v reflect.Value, _ int) ([]byte, bool) {
			return strconv.AppendUint(b, v.Uint(), 10), true
		}
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(b []byte, v reflect.Value, _ int) ([]byte, bool) {
			b, err := appendFloat(b, v.Float(), bits)
			return b, err == nil
		}
	case reflect.Interface, reflect.Map:
		if t.Kind() == reflect.Interface && t.NumMethod() != 0 || t.Kind() == reflect.Map && t != mapStringAnyType {
			return nil
		}
		return func(b []byte, v reflect.Value, depth int) ([]byte, bool) {
			b, err := appendAny(b, v.Interface(), depth+1)
			return b, err == nil
		}
	case reflect.Pointer, reflect.Slice:
		isSlice := t.Kind() == reflect.Slice
		if isSlice && t.Elem().Kind() == reflect.Uint8 { // []byte is base64
			return nil
		}
		elem := compileElem(t, seen)
		if elem == nil {
			return nil
		}
		return func(b []byte, v reflect.Value, depth int) ([]byte, bool) {
			switch {
			case v.IsNil():
				return append(b, "null"...), true
			case depth >= maxJSONDepth:
				return b, false
			case !isSlice:
				return elem(b, v.Elem(), depth+1)
			}
			b = append(b, '[')
			for i := range v.Len() {
				if i > 0 {
					b = append(b, ',')
				}
				var ok bool
				if b, ok = elem(b, v.Index(i), depth+1); !ok {
					return b, false
				}
			}
			return append(b, ']'), true
		}
	case reflect.Struct:
		if seen[t] {
			return nil
		}
		seen[t] = true
		defer delete(seen, t)
		return compileStruct(t, seen)
	}
	return nil
}

// compileElem compiles the element type of t, a pointer or slice type; nil
// when t is being compiled already (a type that contains itself).
func compileElem(t reflect.Type, seen map[reflect.Type]bool) valueEncoder {
	if seen[t] {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	return compile(t.Elem(), seen)
}

// structField is one member of a compiled struct.
type structField struct {
	index     int
	key       string // `"name":`
	omitEmpty bool
	enc       valueEncoder
}

// compileStruct compiles a struct with no embedded field, as encoding/json
// lays it out: exported fields in declaration order, named by their tag,
// "-" left out, omitempty honoured.
func compileStruct(t reflect.Type, seen map[reflect.Type]bool) valueEncoder {
	var fields []structField
	names := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil // embedding has encoding/json's promotion rules
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !validTagName(name) {
			name = sf.Name
		}
		omitEmpty := false
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitempty":
				omitEmpty = true
			case "string", "omitzero":
				return nil
			}
		}
		if !plain(name) || names[name] {
			return nil // an escaped key, or two fields of one name (encoding/json drops both)
		}
		names[name] = true
		enc := compile(sf.Type, seen)
		if enc == nil {
			return nil
		}
		fields = append(fields, structField{index: i, key: `"` + name + `":`, omitEmpty: omitEmpty, enc: enc})
	}
	return func(b []byte, v reflect.Value, depth int) ([]byte, bool) {
		if depth >= maxJSONDepth {
			return b, false
		}
		b = append(b, '{')
		first := true
		for i := range fields {
			f := &fields[i]
			fv := v.Field(f.index)
			if f.omitEmpty && isEmptyValue(fv) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, f.key...)
			var ok bool
			if b, ok = f.enc(b, fv, depth+1); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
}

// isEmptyValue is encoding/json's test for omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// validTagName is encoding/json's test of a tag's name: otherwise the
// field's own name is used.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// encodeRawMessage copies a RawMessage that needs no compaction; nil is
// null, as its MarshalJSON says.
func encodeRawMessage(b []byte, v reflect.Value, _ int) ([]byte, bool) {
	raw := v.Bytes()
	if raw == nil {
		return append(b, "null"...), true
	}
	if !validCompact(raw) {
		return b, false
	}
	return append(b, raw...), true
}

// validCompact reports whether p is one JSON value that encoding/json's
// compaction with HTML escaping leaves as it is: valid JSON, no space
// between tokens, and no '<', '>', '&' or 0xE2 byte (U+2028 and U+2029
// begin with it). It answers false when in doubt: the caller then asks
// encoding/json. (eventid.go's skippers walk JSON the hub wrote itself;
// these check JSON a caller wrote.)
func validCompact(p []byte) bool {
	i, ok := checkValue(p, 0, 0)
	return ok && i == len(p)
}

// maxCompactDepth is the deepest nesting validCompact follows; deeper
// values go to encoding/json.
const maxCompactDepth = 64

// checkValue returns the index just past the value that starts at p[i].
func checkValue(p []byte, i, depth int) (int, bool) {
	if i >= len(p) {
		return i, false
	}
	ok := false
	switch c := p[i]; {
	case c == '"':
		return checkString(p, i)
	case c == '{' || c == '[':
		if depth >= maxCompactDepth {
			return i, false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i++
		if i < len(p) && p[i] == end {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(p) || p[i] != '"' {
					return i, false
				}
				if i, ok = checkString(p, i); !ok || i >= len(p) || p[i] != ':' {
					return i, false
				}
				i++
			}
			if i, ok = checkValue(p, i, depth+1); !ok || i >= len(p) {
				return i, false
			}
			switch p[i] {
			case end:
				return i + 1, true
			case ',':
				i++
			default:
				return i, false
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return checkNumber(p, i)
	case c == 't':
		return checkLiteral(p, i, "true")
	case c == 'f':
		return checkLiteral(p, i, "false")
	case c == 'n':
		return checkLiteral(p, i, "null")
	}
	return i, false
}

// checkString returns the index past the string that opens at p[i].
func checkString(p []byte, i int) (int, bool) {
	for i++; i < len(p); {
		switch c := p[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(p) {
				return i, false
			}
			switch p[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(p) {
					return i, false
				}
				for _, h := range p[i+2 : i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return i, false
					}
				}
				i += 6
			default:
				return i, false
			}
		case c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0xE2:
			return i, false
		default:
			i++
		}
	}
	return i, false
}

// checkNumber returns the index past the number that starts at p[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func checkNumber(p []byte, i int) (int, bool) {
	digits := func(i int) (int, bool) {
		start := i
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		return i, i > start
	}
	if p[i] == '-' {
		i++
	}
	ok := false
	switch {
	case i < len(p) && p[i] == '0':
		i++
	default:
		if i, ok = digits(i); !ok {
			return i, false
		}
	}
	if i < len(p) && p[i] == '.' {
		if i, ok = digits(i + 1); !ok {
			return i, false
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if i, ok = digits(i); !ok {
			return i, false
		}
	}
	return i, true
}

func checkLiteral(p []byte, i int, lit string) (int, bool) {
	if len(p)-i < len(lit) || string(p[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}
