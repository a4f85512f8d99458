package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseTokens(t *testing.T) {
	t.Parallel()
	users, err := parseTokens("tok-alice=alice, tok-bob=bob")
	assert.NoError(t, err)
	assert.Equal(t, map[string]string{"tok-alice": "alice", "tok-bob": "bob"}, users)
	for _, bad := range []string{"", "tok", "=alice", "tok="} {
		_, err := parseTokens(bad)
		assert.Error(t, err, "%q", bad)
	}
}
