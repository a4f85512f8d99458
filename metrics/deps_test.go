package metrics_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnlyPromImportsClientGolang lists, with go list -deps, every package
// of the module and what it compiles: only metrics/prom may need
// client_golang, so a service that does not import it never builds it.
func TestOnlyPromImportsClientGolang(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to list the packages")
	const module = "github.com/wsunify/wsunify/"
	out, err := exec.Command(goCmd, "list", "-deps", "-f",
		`{{if .Module}}{{if eq .Module.Path "github.com/wsunify/wsunify"}}{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{"\n"}}{{end}}{{end}}`,
		module+"...").CombinedOutput()
	require.NoError(t, err, "%s", out)

	needs := make(map[string]bool) // package of the module → compiles client_golang
	for line := range strings.Lines(string(out)) {
		pkg, deps, _ := strings.Cut(strings.TrimSpace(line), " ")
		needs[pkg] = false
		for dep := range strings.FieldsSeq(deps) {
			if strings.HasPrefix(dep, "github.com/prometheus/client_golang/") {
				needs[pkg] = true
			}
		}
	}
	for _, pkg := range []string{"facade", "facade/redisbroker", "bridge", "metrics", "metrics/prom", "cmd/wsunify"} {
		require.Contains(t, needs, module+pkg, "go list did not list it")
	}
	assert.True(t, needs[module+"metrics/prom"], "metrics/prom does not import client_golang: the test proves nothing")
	for pkg, needsProm := range needs {
		if pkg != module+"metrics/prom" {
			assert.False(t, needsProm, "%s compiles client_golang", pkg)
		}
	}
}
