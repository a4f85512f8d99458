//go:build linux && (amd64 || arm64)

package facade_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
)

// The hub's io_uring rings live as long as the process, so a program that
// runs commands (os/exec) after a fan-out must not hand them down: each
// ring's descriptor is close-on-exec, and a child sees none of them.
func TestRingsAreNotInheritedByChildren(t *testing.T) {
	t.Parallel()
	if !facade.IOURingWorks() {
		t.Skip("io_uring is refused on this machine: there is no ring to inherit")
	}
	s := newServer(t, &facade.HubOptions{Logger: quiet}, nil)
	strictFanOut(t, s, "c", 40, 10)
	require.Positive(t, ringFDs(t, "/proc/self/fd"), "this process has its rings")
	out, err := exec.Command("ls", "-l", "/proc/self/fd/").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "/proc/", "ls listed its descriptors:\n%s", out)
	require.NotContains(t, string(out), "io_uring", "a ring's descriptor was inherited:\n%s", out)
}

// ringFDs counts the io_uring descriptors in dir.
func ringFDs(t *testing.T, dir string) int {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if link, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.Contains(link, "io_uring") {
			n++
		}
	}
	return n
}
