package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{name: "pairs", in: "tok-a=alice, tok-b=bob", want: map[string]string{"tok-a": "alice", "tok-b": "bob"}},
		{name: "missing user", in: "tok-a=", wantErr: `bad token pair "tok-a="`},
		{name: "no separator", in: "tok-a", wantErr: `bad token pair "tok-a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseTokens(tt.in)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	t.Parallel()
	assert.Error(t, run([]string{"-tokens", "nope"}))
	assert.Error(t, run([]string{"-no-such-flag"}))
}
