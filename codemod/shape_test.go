package codemod

import (
	"context"
	"strings"
	"testing"

	"github.com/wsunify/wsunify/internal/testmod"
)

// TestShapeOfNothingIsRefused: a -shape whose legacy shape the recipe does
// not have, or whose type the program does not declare, stops the run
// with an error that names it, instead of leaving the team's calls as they
// are without a word.
func TestShapeOfNothingIsRefused(t *testing.T) {
	testmod.Setenv(t)
	dir := testmod.New(t, map[string]string{
		"ws/ws.go": `package ws

import "context"

// Sender is the team's copy of the legacy manager interface.
type Sender interface {
	SendToUser(ctx context.Context, userID string, msg map[string]any) error
}
`,
		"app/app.go": `package app

import (
	"context"

	"example.com/app/ws"
	"github.com/wsunify/wsunify/bridge"
)

var _ ws.Sender = bridge.WebSocketManager(nil)

func Greet(ctx context.Context, s ws.Sender) error {
	return s.SendToUser(ctx, "u1", map[string]any{"type": "hello"})
}
`,
	})
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		shapes map[Shape][]string
		want   string // in the error; "" for none
	}{
		{"known", map[Shape][]string{ShapeManager: {"example.com/app/ws.Sender"}}, ""},
		{"misspelled shape", map[Shape][]string{"WebSockManager": {"example.com/app/ws.Sender"}},
			"the recipe has no legacy shape WebSockManager (it has AgentWebSocketBridge, WebSocketManager)"},
		{"misspelled type", map[Shape][]string{ShapeManager: {"example.com/app/ws.Sendr"}},
			"package example.com/app/ws declares no type Sendr"},
		{"package not loaded", map[Shape][]string{ShapeManager: {"example.com/other/ws.Sender"}},
			"package example.com/other/ws is not loaded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := migrate(ctx, &LoadConfig{Dir: dir}, &Options{Shapes: tc.shapes}, []string{"./..."})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("migrate: %v", err)
				}
				if res.Rewritten["send-to-user"] != 1 {
					t.Errorf("rewritten %v, want the Sender's call rewritten once", res.Rewritten)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("migrate: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
