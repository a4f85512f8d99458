package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pushSrc is a team's own legacy interface, with the adapter that reaches
// the new API through it: the adapter calls the legacy method on purpose
// and is left alone.
const pushSrc = `package push

// Pusher is the team's legacy notifier.
type Pusher interface {
	Push(userID string, payload []byte) error
	PushAll(payload []byte)
}

// Notifier is the new API.
type Notifier interface {
	Notify(to string, payload []byte) error
	NotifyAll(payload []byte) error
}

// NotifierOf adapts a Pusher.
func NotifierOf(p Pusher) Notifier { return adapter{p} }

type adapter struct{ p Pusher }

func (a adapter) Notify(to string, payload []byte) error { return a.p.Push(to, payload) }

func (a adapter) NotifyAll(payload []byte) error {
	a.p.PushAll(payload)
	return nil
}
`

const pushAppSrc = `package app

import "example.com/app/push"

// Hello greets a user.
func Hello(p push.Pusher) error {
	return p.Push("u1", []byte("hello")) // greet
}

// All returns the broadcast of p, a method without results.
func All(p push.Pusher) func([]byte) {
	return p.PushAll
}
`

const pushRecipe = `//go:build ignore

package recipe

import "example.com/app/push"

// push: a payload to one user, through the new API.
func pushBefore(p push.Pusher, userID string, payload []byte) error {
	return p.Push(userID, payload)
}

func pushAfter(p push.Pusher, userID string, payload []byte) error {
	return push.NotifierOf(p).Notify(userID, payload)
}

// push-all: a payload to everyone.
func pushAllBefore(p push.Pusher, payload []byte) {
	p.PushAll(payload)
}

func pushAllAfter(p push.Pusher, payload []byte) {
	push.NotifierOf(p).NotifyAll(payload)
}
`

// TestRecipeApply migrates a team's own interface with -recipe, leaving
// the recipe's legacy package itself alone.
func TestRecipeApply(t *testing.T) {
	t.Parallel()
	dir := module(t, map[string]string{"push/push.go": pushSrc, "app/app.go": pushAppSrc, "recipe.go": pushRecipe})
	code, stdout, stderr := wsunify("apply", "-C", dir, "-recipe", "recipe.go", "./...")
	if code != exitOK {
		t.Fatalf("apply -recipe = %d\n%s%s", code, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "app", "app.go"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `return push.NotifierOf(p).Notify("u1", []byte("hello")) // greet`; !strings.Contains(string(got), want) {
		t.Errorf("app.go after apply:\n%s\nwant it to hold %s", got, want)
	}
	if want := "return func(payload []byte) {\n\t\tpush.NotifierOf(p).NotifyAll(payload)\n\t}"; !strings.Contains(string(got), want) {
		t.Errorf("app.go after apply:\n%s\nwant the method value as\n%s", got, want)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "push", "push.go")); string(got) != pushSrc {
		t.Errorf("the recipe's legacy package was rewritten:\n%s", got)
	}
	// The team's package stays beside the migrated forms, and the recipe
	// file is built by no configuration: nothing is left.
	if code, stdout, stderr := wsunify("check", "-C", dir, "-recipe", "recipe.go", "./..."); code != exitOK {
		t.Errorf("check -recipe after apply = %d\n%s%s", code, stdout, stderr)
	}
}

// TestRecipeRefused: a recipe that does not type-check, or whose pair's
// signatures differ, is refused by every subcommand with exit code 2 and
// the position and reason on stderr.
func TestRecipeRefused(t *testing.T) {
	t.Parallel()
	typeError := strings.Replace(pushRecipe, "Notify(userID, payload)", "Notify(userID, payload, 3)", 1)
	mismatch := strings.Replace(pushRecipe, "func pushAfter(p push.Pusher, userID string, payload []byte) error", "func pushAfter(p push.Pusher, userID string, payload []byte) any", 1)
	dir := module(t, map[string]string{"push/push.go": pushSrc, "app/app.go": pushAppSrc,
		"typeerror.go": typeError, "mismatch.go": mismatch})
	for _, tc := range []struct {
		cmd, file, want string
	}{
		{"plan", "typeerror.go", "typeerror.go:13:"},
		{"check", "typeerror.go", "too many arguments"},
		{"diff", "mismatch.go", "mismatch.go:12:6: pushAfter's signature"},
		{"apply", "mismatch.go", "differs from pushBefore's"},
		{"report", "typeerror.go", "typeerror.go:13:"},
	} {
		code, stdout, stderr := wsunify(tc.cmd, "-C", dir, "-recipe", tc.file, "./...")
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s -recipe %s = %d, stderr:\n%s\nwant exit %d and %q (stdout: %s)", tc.cmd, tc.file, code, stderr, exitUsage, tc.want, stdout)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "app", "app.go")); string(got) != pushAppSrc {
		t.Errorf("a refused recipe wrote:\n%s", got)
	}
}
