package facade

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAppendTimestampMatchesTimeFormat(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{
		time.Date(2025, 9, 1, 12, 30, 45, 123456789, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", 5*3600)),
		time.Unix(0, 0),
	} {
		want := tm.UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
		if got := string(appendTimestamp(nil, tm)); got != want {
			t.Errorf("appendTimestamp(%v) = %s, want %s", tm, got, want)
		}
	}
}

// FuzzAppendJSON holds the direct encoder to encoding/json's bytes, on any
// value JSON can decode to, on numbers of every magnitude, and on a struct
// (the pooled encoder's path) with a RawMessage in it; and it holds a Raw
// event's wire form to json.Marshal of its message.
func FuzzAppendJSON(f *testing.F) {
	f.Add([]byte(`{"b":[1,2.5,"x<y>&"],"a":{"z":null,"t":true}}`), 1e21, int64(-7))
	f.Add([]byte(`["\u2028", "\ud800", 1e-7]`), 0.000001, int64(1<<62))
	f.Fuzz(func(t *testing.T, doc []byte, fl float64, n int64) {
		var v any
		if json.Unmarshal(doc, &v) != nil {
			v = string(doc)
		}
		for _, x := range []any{v, fl, float32(fl), n, int(n), []any{v, fl}, map[string]any{string(doc): v, "n": n},
			[]string{string(doc)}, map[string]any(nil), []any(nil),
			struct {
				S string          `json:"s"`
				R json.RawMessage `json:"r"`
			}{string(doc), json.RawMessage(doc)}} {
			want, werr := json.Marshal(x)
			requireMarshalBytes(t, x)
			raw, rerr := EncodeEvent(Raw(x), EncodingLegacy, time.Now())
			if (werr != nil) != (rerr != nil) || werr == nil && string(raw) != string(want) {
				t.Fatalf("Raw(%#v): %q, %v; json.Marshal: %q, %v", x, raw, rerr, want, werr)
			}
		}
	})
}

// newMessage copies a body of any length whole, in whichever size class it
// falls, and leaves no spare room a reader's append could write into.
func TestNewMessageCopiesEveryLength(t *testing.T) {
	src := make([]byte, 3000)
	for i := range src {
		src[i] = byte('a' + i%26)
	}
	for _, n := range []int{0, 1, 159, 160, 161, 224, 225, 352, 353, 512, 513, 1024, 1025, 3000} {
		m := newMessage(src[:n])
		if string(m.body) != string(src[:n]) || cap(m.body) != n {
			t.Fatalf("len %d: got %d bytes, cap %d", n, len(m.body), cap(m.body))
		}
		if n > 0 && &m.body[0] == &src[0] {
			t.Fatalf("len %d: body aliases its source", n)
		}
	}
}

// requireMarshalBytes fails t unless appendJSON writes json.Marshal's bytes
// for x after what is already in its buffer, or fails where it fails.
func requireMarshalBytes(t *testing.T, x any) {
	t.Helper()
	want, werr := json.Marshal(x)
	got, gerr := appendJSON([]byte("prefix"), x)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%#v: error %v, encoding/json %v", x, gerr, werr)
	}
	if werr == nil && string(got) != "prefix"+string(want) {
		t.Fatalf("%#v:\n got %s\nwant prefix%s", x, got, want)
	}
}
