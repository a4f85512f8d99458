package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTableIsFresh regenerates bridge's deprecation table in memory: the
// file in the tree must be what the built-in recipe gives.
func TestTableIsFresh(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "..", "..", "bridge")
	want, err := generate(context.Background(), dir)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, Output))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "bridge/%s is stale: run go generate ./bridge", Output)
}

func TestDeprecatedNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `package bridge

// Old is old.
//
// Deprecated: use New.
func Old() {}

// New is new; "Deprecated: " in the middle of a paragraph does not count.
func New() {}

// Shape is a legacy shape.
type Shape interface {
	// Do does.
	//
	// Deprecated: use facade.Do.
	Do()
	Keep()
}

type impl struct{}

// Do implements Shape.
//
// Deprecated: use facade.Do.
func (*impl) Do() {}
`
	file := filepath.Join(dir, "b.go")
	require.NoError(t, os.WriteFile(file, []byte(src), 0o644))
	got, err := deprecatedNames([]string{file})
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"Old": true, "Shape.Do": true, "impl.Do": true}, got)
}
