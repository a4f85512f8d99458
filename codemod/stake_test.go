package codemod

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

// TestOnlyReachableFilesGetAConfiguration: of the files the default
// configuration leaves out, those a step can change get a configuration
// of their own (the //go:build extra file calls Notify, whose parameter is
// retyped; the _windows.go file imports the bridge), and those it cannot
// (the arm64 and s390x files, as prometheus/procfs has eight
// architectures' cpuinfo, and a tagged file that names only a parameter's
// name) get none: each would cost a build of the standard library for
// nothing. The step's result still type-checks in every configuration
// loaded and in the one of the skipped tagged file.
func TestOnlyReachableFilesGetAConfiguration(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{
		"ws/ws.go": `package ws

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

// Notify sends hello to u.
func Notify(ctx context.Context, m bridge.WebSocketManager, u string) error {
	return m.SendToUser(ctx, u, bridge.Message{"type": "hello"})
}

type holder struct{ mgr bridge.WebSocketManager }

func (h *holder) ping(ctx context.Context) error { return Notify(ctx, h.mgr, "ping") }
`,
		"ws/cpu_arm64.go":  "package ws\n\nfunc cpus() int { return 8 }\n",
		"ws/cpu_s390x.go":  "package ws\n\nfunc cpus() int { return 4 }\n",
		"ws/names.go":      "//go:build names\n\npackage ws\n\n// m and u are a parameter's names only.\nfunc pair(m, u string) string { return m + u }\n",
		"ws/extra.go":      "//go:build extra\n\npackage ws\n\nimport \"context\"\n\nfunc extra(ctx context.Context, h *holder) error { return Notify(ctx, h.mgr, \"x\") }\n",
		"ws/ws_windows.go": "package ws\n\nimport \"github.com/wsunify/wsunify/bridge\"\n\nvar winMsg = bridge.Message{\"os\": \"windows\"}\n",
	})
	ctx := context.Background()
	prog, err := Load(ctx, &LoadConfig{Dir: dir}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range prog.Configs()[1:] {
		got = append(got, c.String())
	}
	slices.Sort(got)
	if want := []string{"-tags extra", "GOOS=windows"}; !slices.Equal(got, want) {
		t.Errorf("configurations besides the default: %q, want %q", got, want)
	}
	res, _, err := Migrate(ctx, prog, &Options{API: APIChange})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("findings: %v", res.Findings)
	}
	for _, c := range res.Changes {
		if err := os.WriteFile(c.Name, c.New, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// (The arm64 and s390x files name nothing of ws.go: vetting them
	// would cost two builds of the standard library and show nothing.)
	testmod.Go(t, dir, "vet", "./...")
	testmod.Go(t, dir, "vet", "-tags", "extra", "./...")
	testmod.Go(t, dir, "vet", "-tags", "names", "./...")
	testmod.GoEnv(t, dir, testmod.Env("GOOS=windows"), "vet", "./...")
}

// TestAConfigurationThatDoesNotLoadLeavesItsFilesUnchecked: a dependency
// that does not build for windows (as a module without support for a
// GOOS) makes the windows configuration unloadable here. The run is not
// refused for it: the windows file stays unchecked, its finding says
// which configuration did not load and why, and the declaration it uses
// keeps its legacy type with that reason.
func TestAConfigurationThatDoesNotLoadLeavesItsFilesUnchecked(t *testing.T) {
	t.Parallel()
	dir := testmod.New(t, map[string]string{
		"go.mod":             testmod.GoMod("example.com/app") + "\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ./dep\n",
		"dep/go.mod":         "module example.com/dep\n\ngo 1.26\n",
		"dep/dep.go":         "package dep\n\n// Name names the system.\nfunc Name() string { return name }\n",
		"dep/dep_linux.go":   "package dep\n\nconst name = \"linux\"\n",
		"dep/dep_windows.go": "package dep\n\nconst name = 1 + \"windows\" // does not build\n",
		"ws/ws.go":           notifySrc,
		"ws/ws_windows.go": `package ws

import (
	"context"

	"example.com/dep"
	"github.com/wsunify/wsunify/bridge"
)

func hello(ctx context.Context, m bridge.WebSocketManager) error { return Notify(ctx, m, dep.Name()) }
`,
	})
	ctx := context.Background()
	prog, err := Load(ctx, &LoadConfig{Dir: dir}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Err(); err != nil {
		t.Fatalf("the default configuration has errors: %v", err)
	}
	if n := len(prog.Configs()); n != 1 {
		t.Errorf("configurations: %v, want the default alone", prog.Configs())
	}
	res, _, err := Migrate(ctx, prog, &Options{API: APIChange})
	if err != nil {
		t.Fatal(err)
	}
	const why = "GOOS=windows does not load here: a dependency does not build: example.com/dep does not build: dep/dep_windows.go:3:14: invalid operation"
	var unchecked, kept bool
	for _, f := range res.Findings {
		switch {
		case f.Rule == RuleUnchecked && strings.HasPrefix(f.Message, "ws_windows.go is not checked (legacy names: 1): "+why):
			unchecked = true
		case f.Rule == "retype" && strings.Contains(f.Message, "m keeps its legacy type: Notify is used in ws_windows.go, which no checked build configuration includes ("+why):
			kept = true
		}
	}
	if !unchecked || !kept {
		t.Errorf("findings (want ws_windows.go unchecked and m kept, saying %q):\n%v", why, res.Findings)
	}
}

// notifySrc is package ws with a function whose parameter the retype step
// changes.
const notifySrc = `package ws

import (
	"context"

	"github.com/wsunify/wsunify/bridge"
)

// Notify sends hello to u.
func Notify(ctx context.Context, m bridge.WebSocketManager, u string) error {
	return m.SendToUser(ctx, u, bridge.Message{"type": "hello"})
}
`
