// Package push sends mobile push notifications to users who have no open
// chat window.
package push

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// Service delivers push notifications. It is safe for concurrent use if
// Deliver is.
//
// Its SendToUser has the name and the signature of the legacy WebSocket
// manager's method, but it is a different method of a different type: it
// never touches a WebSocket.
type Service struct {
	// Deliver hands an encoded notification to the push provider. Nil logs
	// it instead.
	Deliver func(ctx context.Context, userID string, payload []byte) error
}

// SendToUser pushes msg to every device of userID.
func (s *Service) SendToUser(ctx context.Context, userID string, msg map[string]any) error {
	payload, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("push: encode: %w", err)
	}
	if s.Deliver == nil {
		slog.InfoContext(ctx, "push notification", "user", userID, "payload", string(payload))
		return nil
	}
	if err := s.Deliver(ctx, userID, payload); err != nil {
		return fmt.Errorf("push: deliver to %s: %w", userID, err)
	}
	return nil
}
