package bridge

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/internal/wstest"
)

// TestPresenceOfManager: the Presence behind a manager made from a hub is
// the hub: a real client's connection is seen, and a message reaches it.
func TestPresenceOfManager(t *testing.T) {
	t.Parallel()
	hub := facade.NewHub(nil)
	srv := wstest.NewServer(t, hub, nil)
	ws, c := srv.Gorilla(t, wstest.Query{User: user}) // walked to ready

	p := PresenceOf(NewWebSocketManager(hub))
	assert.Same(t, hub, p, "the hub itself")
	assert.True(t, p.Connected(user))
	assert.Equal(t, []string{c.ID()}, p.ConnIDs(user))
	assert.False(t, p.Connected("someone-else"))

	msg := Message{"type": "chat", "text": "hi"}
	require.NoError(t, p.Notify(t.Context(), facade.ToUser(user), facade.Raw(msg)))
	_, got, err := ws.ReadMessage()
	require.NoError(t, err)
	want, _ := json.Marshal(msg)
	assert.Equal(t, string(want), string(got), "the legacy bytes")
	assert.Same(t, hub, PresenceOf(hub), "a Presence is itself")
}

// TestPresenceOfTeamManager: a team's own manager answers through its
// legacy methods, and Notify goes through them too.
func TestPresenceOfTeamManager(t *testing.T) {
	t.Parallel()
	c, m, _, _ := newTeam()
	p := PresenceOf(m)
	assert.True(t, p.Connected(user))
	assert.Equal(t, []string{"c1"}, p.ConnIDs(user))
	require.NoError(t, p.Notify(context.Background(), facade.ToUser(user), facade.Raw(chatMsg)))
	assert.Equal(t, []call{
		{"IsConnectionActive", []any{user}},
		{"GetUserConnections", []any{user}},
		{"SendToUser", []any{user, chatMsg}},
	}, c.taken())
}

// onlyActive has one legacy manager method: the rest are unsupported.
type onlyActive struct{}

func (onlyActive) IsConnectionActive(string) bool { return true }

func TestPresenceOfRefuses(t *testing.T) {
	t.Parallel()
	var nilHub *facade.Hub
	for _, tc := range []struct {
		name string
		x    any
		err  error
	}{
		{"nil", nil, facade.ErrNilNotifier},
		{"nil hub", nilHub, facade.ErrNilNotifier},
		{"manager of a nil hub", NewWebSocketManager(nil), facade.ErrNilNotifier},
		{"not a manager", 42, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PresenceOf(tc.x)
			require.NotNil(t, p)
			assert.ErrorIs(t, p.Notify(context.Background(), facade.ToUser(user), facade.Raw(chatMsg)), tc.err)
			assert.False(t, p.Connected(user))
			assert.Empty(t, p.ConnIDs(user))
		})
	}
	t.Run("partial manager", func(t *testing.T) {
		p := PresenceOf(onlyActive{})
		assert.True(t, p.Connected(user), "its own method")
		assert.Empty(t, p.ConnIDs(user), "the missing one reports none")
		assert.ErrorIs(t, p.Notify(context.Background(), facade.ToUser(user), facade.Raw(chatMsg)), ErrUnsupported)
	})
}
