package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuideCommands checks that MIGRATION.md and the walks agree: every
// command in a sh block of the guide is one TestMigration or TestPusherRecipe
// runs, and every command they run is in the guide.
func TestGuideCommands(t *testing.T) {
	t.Parallel()
	inGuide, err := guideCommands(filepath.Join("..", "MIGRATION.md"))
	require.NoError(t, err)
	require.NotEmpty(t, inGuide, "no sh blocks in MIGRATION.md")
	var walked []string
	for _, s := range slices.Concat(guide, pusherGuide) {
		for _, c := range s.cmds {
			walked = append(walked, c.line)
		}
		if s.verify {
			for _, c := range verifyCmds {
				walked = append(walked, c.line)
			}
		}
	}
	for _, c := range inGuide {
		assert.Contains(t, walked, c, "MIGRATION.md has a command the walk does not run")
	}
	for _, c := range walked {
		assert.Contains(t, inGuide, c, "the walk runs a command MIGRATION.md does not show")
	}
}

// guideCommands returns the command lines of the sh blocks of the Markdown
// file at path, without blank lines and comments, in order and without
// duplicates.
func guideCommands(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cmds []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```sh":
			in = true
		case line == "```":
			in = false
		case in && line != "" && !strings.HasPrefix(line, "#"):
			if !slices.Contains(cmds, line) {
				cmds = append(cmds, line)
			}
		}
	}
	return cmds, sc.Err()
}
