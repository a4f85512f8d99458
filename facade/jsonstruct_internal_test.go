package facade

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

// Struct shapes legacy code hands to Raw, and shapes the direct encoder
// must leave to encoding/json.
type (
	pushData struct {
		Data json.RawMessage `json:"data"`
	}
	pushBody struct {
		Channel string   `json:"channel"`
		Pub     pushData `json:"pub"`
	}
	pushEnvelope struct {
		Push pushBody `json:"push"`
	}
	kind      string
	everyKind struct {
		S    string          `json:"s"`
		K    kind            `json:"k,omitempty"`
		B    bool            `json:"b,omitempty"`
		I    int             `json:"i"`
		I8   int8            `json:"i8,omitempty"`
		U    uint64          `json:"u"`
		U16  uint16          `json:""`
		F    float64         `json:"f"`
		F32  float32         `json:"f32,omitempty"`
		Any  any             `json:"any"`
		Map  map[string]any  `json:"map,omitempty"`
		Raw  json.RawMessage `json:"raw,omitempty"`
		P    *pushData       `json:"p"`
		Ss   []string        `json:"ss"`
		Subs []pushData      `json:"subs,omitempty"`
		Skip string          `json:"-"`
		//lint:ignore SA5008 the name "-", as encoding/json reads it
		Dash string `json:"-,"`
		Odd  string `json:"a b!"`
		//lint:ignore SA5008 an invalid name: encoding/json uses the field's
		Bad    string            `json:"a\"b"`
		hidden string            // unexported: never written
		Named  map[string]string `json:"named"` // another map type: encoding/json's
	}
	withTime struct {
		At time.Time `json:"at"`
	}
	embedded struct {
		pushData
		X int `json:"x"`
	}
	quoted struct {
		N int `json:"n,string"`
	}
	twins struct {
		A    string `json:"Same"` // the tagged one wins in encoding/json
		Same string
	}
	escapedKey struct {
		A string `json:"<a>"`
	}
	bytesField struct {
		B []byte `json:"b"`
	}
	number struct {
		N json.Number `json:"n"`
	}
	array struct {
		A [2]string `json:"a"`
	}
	list struct {
		Next *list `json:"next"`
		V    int   `json:"v"`
	}
	holder struct {
		V any `json:"v"`
	}
)

// FuzzStructJSON holds the compiled struct encoder and the RawMessage check
// to encoding/json: every struct shape, with fuzzed contents, encodes to
// json.Marshal's bytes, or fails where it fails; and a RawMessage that
// validCompact lets through is valid and already compact.
func FuzzStructJSON(f *testing.F) {
	f.Add([]byte(`{"a":[1,2.5,"x y"],"b":null}`), "text", int64(-3), 0.5, true)
	f.Add([]byte(` {"a" : 1}`), "<&>", int64(0), 1e21, false)
	f.Add([]byte(`"\u2028"`), "\u2028", int64(1<<40), math.Copysign(0, -1), true)
	f.Add([]byte(`01`), "\xff", int64(7), 1e-7, false)
	f.Add([]byte(`[1e5,-0.1E+2,"\ud800",true,false,{}]`), "", int64(1), 2.5, true)
	f.Fuzz(func(t *testing.T, doc []byte, s string, n int64, fl float64, flag bool) {
		if validCompact(doc) {
			var want bytes.Buffer
			if err := json.Compact(&want, doc); err != nil {
				t.Fatalf("validCompact(%q) but invalid: %v", doc, err)
			}
			var esc bytes.Buffer
			json.HTMLEscape(&esc, want.Bytes())
			if esc.String() != string(doc) {
				t.Fatalf("validCompact(%q) but encoding/json writes %q", doc, esc.String())
			}
		}
		var v any
		if json.Unmarshal(doc, &v) != nil {
			v = s
		}
		raw := json.RawMessage(doc)
		if !flag {
			raw = nil
		}
		self := map[string]any{"n": n}
		self["self"] = self // a cycle: encoding/json's error
		every := everyKind{S: s, K: kind(s), B: flag, I: int(n), I8: int8(n), U: uint64(n), U16: uint16(n),
			F: fl, F32: float32(fl), Any: v, Map: map[string]any{s: v}, Raw: raw, P: &pushData{Data: raw},
			Ss: []string{s, ""}, Subs: []pushData{{Data: raw}, {}}, Skip: s, Dash: s, Odd: s, Bad: s, hidden: s,
			Named: map[string]string{s: s}}
		for _, x := range []any{
			pushEnvelope{Push: pushBody{Channel: s, Pub: pushData{Data: raw}}},
			&pushEnvelope{}, (*pushEnvelope)(nil), every, &every, everyKind{},
			withTime{At: time.Unix(n, 0)}, embedded{X: int(n)}, quoted{N: int(n)}, twins{A: s, Same: s + s},
			escapedKey{A: s}, bytesField{B: doc}, list{V: 1, Next: &list{V: int(n)}},
			number{N: json.Number(s)}, number{N: "12.5e3"}, array{A: [2]string{s, s}},
			holder{V: v}, holder{V: self}, holder{V: []any{every, raw}}, raw,
		} {
			requireMarshalBytes(t, x)
		}
	})
}

// The shapes legacy code sends are compiled, so they never go through
// encoding/json's scanner; the shapes whose rules encoding/json owns are
// left to it.
func TestStructEncoderCompilesLegacyShapes(t *testing.T) {
	for _, tc := range []struct {
		v        any
		compiled bool
	}{
		{pushEnvelope{}, true}, {&pushEnvelope{}, true}, {holder{}, true},
		{struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
			N    []int          `json:"n"`
		}{}, true},
		{everyKind{}, false}, // its map[string]string
		{withTime{}, false}, {embedded{}, false}, {quoted{}, false}, {twins{}, false},
		{escapedKey{}, false}, {bytesField{}, false}, {list{}, false}, {number{}, false}, {array{}, false},
	} {
		got := compileTop(reflect.TypeOf(tc.v)) != nil
		if got != tc.compiled {
			t.Errorf("%T compiled: %v, want %v", tc.v, got, tc.compiled)
		}
	}
}

// TestValidCompact pins what the RawMessage check lets through.
func TestValidCompact(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"a":[1,-2.5e+3,true,false,null,"x y\n\u00e9\/"],"b":{}}`, true},
		{`"caf` + "\xc3\xa9" + `"`, true}, {"\"\xff\"", true}, {`[]`, true}, {`0`, true},
		{``, false}, {` 1`, false}, {`1 `, false}, {`{"a": 1}`, false}, {`[1, 2]`, false},
		{`"<"`, false}, {`"&"`, false}, {"\"\u2028\"", false}, {"\"\u2029\"", false},
		{`01`, false}, {`1.`, false}, {`.5`, false}, {`1e`, false}, {`-`, false}, {`+1`, false},
		{`"\x"`, false}, {`"\u12g4"`, false}, {"\"\x01\"", false}, {`"abc`, false},
		{`{"a":1,}`, false}, {`[1,]`, false}, {`{"a"}`, false}, {`{1:2}`, false}, {`tru`, false},
		{`nul`, false}, {`[1]]`, false}, {`{}{}`, false},
	} {
		if got := validCompact([]byte(tc.in)); got != tc.ok {
			t.Errorf("validCompact(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}

// BenchmarkEncodeRaw is Raw's encoding of the peers harness's message (a
// struct holding a pre-encoded json.RawMessage, as legacy code sends it):
// the compiled encoder against encoding/json (the previous mechanism,
// still the fallback), each making the shared message. The sides
// alternate in rounds.
func BenchmarkEncodeRaw(b *testing.B) {
	ev := Raw(pushEnvelope{Push: pushBody{Channel: "bench", Pub: pushData{Data: json.RawMessage(
		`{"seq":1,"kind":"notify","user":"user-0001","title":"Build finished","pad":"xxxxxxxxxxxxxxxxxxxxxx"}`)}}})
	now := time.Now()
	viaEncodingJSON := func() {
		scratch := scratchBufs.Get().(*[]byte)
		out, err := marshalAppend((*scratch)[:0], ev.payload)
		if err != nil {
			b.Fatal(err)
		}
		*scratch = out
		newMessage(out).at = now
		putScratch(scratch)
	}
	const rounds = 10
	var fac, base time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for r := range rounds {
		n := b.N / rounds
		if r == rounds-1 {
			n = b.N - n*(rounds-1)
		}
		t0 := time.Now()
		for range n {
			if _, err := encode(ev, now); err != nil {
				b.Fatal(err)
			}
		}
		fac += time.Since(t0)
		t0 = time.Now()
		for range n {
			viaEncodingJSON()
		}
		base += time.Since(t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(fac.Nanoseconds())/float64(b.N), "direct-ns")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "encodingjson-ns")
	b.ReportMetric(float64(fac)/float64(base), "ratio")
}
