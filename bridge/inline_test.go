package bridge

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoFixInline checks that `go fix -inline` (and so gopls) can use the
// //go:fix inline directives of this package: the legacy call site in
// testdata/inline/team becomes the migrated form of its golden file. It
// works on a copy of the module, with the replace directive pointed at the
// repository.
func TestGoFixInline(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "the go command runs go fix")
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	src := filepath.Join("testdata", "inline")
	dir := t.TempDir()
	for _, name := range []string{"go.mod", "go.sum", filepath.Join("team", "team.go")} {
		b, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		if name == "go.mod" {
			b = []byte(strings.Replace(string(b), "=> ../../..", "=> "+root, 1))
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}

	cmd := exec.Command(goCmd, "fix", "-inline", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go fix -inline:\n%s", out)

	got, err := os.ReadFile(filepath.Join(dir, "team", "team.go"))
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(src, "team", "team.go.golden"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}
