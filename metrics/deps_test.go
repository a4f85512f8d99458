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
// client_golang, so a service that does not import it never builds it; and
// neither metrics nor metrics/prom links the bridge, so a migrated service
// exports its metrics without it.
func TestOnlyPromImportsClientGolang(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to list the packages")
	const module = "github.com/wsunify/wsunify/"
	out, err := exec.Command(goCmd, "list", "-deps", "-f",
		`{{if .Module}}{{if eq .Module.Path "github.com/wsunify/wsunify"}}{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{"\n"}}{{end}}{{end}}`,
		module+"...").CombinedOutput()
	require.NoError(t, err, "%s", out)

	deps := make(map[string]map[string]bool) // package of the module → what it compiles
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		deps[fields[0]] = make(map[string]bool)
		for _, dep := range fields[1:] {
			deps[fields[0]][dep] = true
		}
	}
	const prom = "github.com/prometheus/client_golang/prometheus"
	for _, pkg := range []string{"facade", "facade/redisbroker", "bridge", "metrics", "metrics/prom", "cmd/wsunify"} {
		require.Contains(t, deps, module+pkg, "go list did not list it")
	}
	require.True(t, deps[module+"metrics/prom"][prom], "metrics/prom does not import client_golang: the test proves nothing")
	require.True(t, deps[module+"metrics"][module+"internal/deprecated"], "metrics does not read the counts: the test proves nothing")
	require.True(t, deps[module+"bridge"][module+"internal/deprecated"], "bridge does not hand its counts over")
	for pkg, d := range deps {
		if pkg != module+"metrics/prom" {
			assert.False(t, d[prom], "%s compiles client_golang", pkg)
		}
	}
	assert.False(t, deps[module+"metrics"][module+"bridge"], "metrics compiles bridge")
	assert.False(t, deps[module+"metrics/prom"][module+"bridge"], "metrics/prom compiles bridge")
}
