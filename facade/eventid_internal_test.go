package facade

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWithoutMember(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{`{"event_id":"a","seq":1}`, `{"seq":1}`},
		{`{"seq":1,"event_id":"a"}`, `{"seq":1}`},
		{`{"event_id":"a"}`, `{}`},
		{`{"a":"\"event_id\"","event_id":{"x":[1,"}"]},"b":[{"event_id":2}]}`, `{"a":"\"event_id\"","b":[{"event_id":2}]}`},
		{`{ "event_id" : 1 , "b" : true }`, `{"b" : true}`},
		{`{"event_id":1,"event_id":2,"c":null}`, `{"c":null}`},
		{`{"seq":1}`, ``},                 // none: nil
		{`{"x":{"event_id":1}}`, ``},      // nested only
		{`["event_id"]`, ``},              // not an object
		{`{"event_id":"unterminated`, ``}, // malformed: left as is
	} {
		got := withoutMember("", []byte(tc.in), "event_id")
		assert.Equal(t, tc.want, string(got), tc.in)
		if got != nil {
			assert.True(t, json.Valid(got), "%s → %s", tc.in, got)
		}
	}
	assert.Nil(t, withoutMember(`{"type":"x"`, []byte(`,"event_id":1}`), "event_id"), "typed events have fixed members")
}
