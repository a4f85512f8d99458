package facade_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// runChild runs the test named test again, alone, in a child process of
// this test binary, with the environment variable env set to mode (the
// test sees it and plays the child's part: what must not touch this
// process, or must see nothing of it). The child's failure fails t; its
// output is returned.
func runChild(t *testing.T, test, env, mode string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+mode)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the child:\n%s", out)
	require.Contains(t, string(out), "--- PASS: "+test, "the child:\n%s", out)
	return string(out)
}
