package main

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTableIsFresh regenerates bridge's deprecation table in memory: the
// file in the tree must be what the built-in recipe gives.
func TestTableIsFresh(t *testing.T) {
	t.Parallel()
	want, err := generated()
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(bridgeDir, Output))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "bridge/%s is stale: run go generate ./bridge", Output)
}

// generated is generate's output, once per test binary: the go command is
// the slow part, and -count=N need not run it N times.
var generated = sync.OnceValues(func() ([]byte, error) {
	return generate(context.Background(), bridgeDir)
})

// bridgeDir is package bridge's directory.
var bridgeDir = filepath.Join("..", "..", "..", "..", "bridge")

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
