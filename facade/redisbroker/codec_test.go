package redisbroker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

func TestEventRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, tc := range []struct {
		name            string
		legacy, numeric string
		body            string
	}{
		{"typed", `{"type":"agent_started"`, `{"type":1`, `,"run_id":"r1"}`},
		{"raw", "", "", `{"a":1}`},
		{"custom", `{"type":"mine"`, "", `,"data":{}}`},
		{"empty body", `{"type":"x"`, "", ""},
		{"long prefix", string(make([]byte, 300)), "", "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := facade.NewEncoded("", at, tc.legacy, tc.numeric, []byte(tc.body))
			out, err := decodeEvent("1-2", encodeEvent(in))
			require.NoError(t, err)
			assert.Equal(t, "1-2", out.ID())
			assert.True(t, at.Equal(out.At()))
			assert.Equal(t, tc.legacy, out.Legacy())
			assert.Equal(t, tc.numeric, out.Numeric())
			assert.Equal(t, tc.body, string(out.Body()))
			assert.Equal(t, in.Bytes(facade.EncodingNumeric), out.Bytes(facade.EncodingNumeric))
		})
	}
}

func TestMalformedEventsAreErrors(t *testing.T) {
	for _, s := range []string{"", "1234567", "12345678", "12345678\x05ab", "12345678\x00\x09"} {
		_, err := decodeEvent("", s)
		assert.ErrorIs(t, err, errMalformed, "%q", s)
	}
}

func TestStreamIDs(t *testing.T) {
	a, ok := parseID("1700000000000-5")
	require.True(t, ok)
	b, _ := parseID("1700000000000-12")
	c, _ := parseID("1700000000001-0")
	assert.True(t, a.less(b))
	assert.True(t, b.less(c))
	assert.False(t, c.less(a))
	assert.False(t, a.less(a))
	assert.Equal(t, "1700000000000-12", b.String())
	for _, bad := range []string{"", "1", "1-", "-1", "a-1", "1-b", "1-2-3"} {
		_, ok := parseID(bad)
		assert.False(t, ok, bad)
	}
}

// FuzzDecodeEvent: whatever Redis hands back, decoding never panics, and
// what decodes survives a round trip unchanged.
func FuzzDecodeEvent(f *testing.F) {
	f.Add(encodeEvent(facade.NewEncoded("", time.Unix(1, 2), `{"type":"a"`, `{"type":1`, []byte(`,"b":2}`))))
	f.Add("")
	f.Add("12345678\xff\xff\xff")
	f.Fuzz(func(t *testing.T, s string) {
		ev, err := decodeEvent("1-1", s)
		if err != nil {
			return
		}
		again, err := decodeEvent("1-1", encodeEvent(ev))
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if again.Legacy() != ev.Legacy() || again.Numeric() != ev.Numeric() ||
			string(again.Body()) != string(ev.Body()) || !again.At().Equal(ev.At()) {
			t.Fatalf("round trip changed %q", s)
		}
	})
}
