package facade

// Presence is a Notifier that can also say who is connected: what code
// needs that both sends to users and asks whether they are online.
// [*Hub] implements it; so does the value bridge.PresenceOf returns for a
// legacy manager, so a declaration can take this type while some of the
// values it receives are still built the legacy way.
type Presence interface {
	Notifier
	// Connected reports whether the user has a live authenticated
	// connection.
	Connected(userID string) bool
	// ConnIDs returns the IDs of the user's live authenticated
	// connections, sorted.
	ConnIDs(userID string) []string
}

var _ Presence = (*Hub)(nil)
