package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gorilla/websocket"
	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

// serveHub runs one connection on the facade hub: the connection goes
// through Accepted, Authenticated and ServicesReady, and the hub writes
// nothing to it, in Notify order, before Ready. The hub reads the socket and
// hands messages to dispatch once the connection is ready, so the token
// must come in the URL.
func (s *Server) serveHub(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.cfg.Tokens[r.URL.Query().Get("token")]
	if !ok {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	c, err := s.hub.Accept(w, r, &facade.AcceptOptions{
		OnMessage: func(ctx context.Context, c *facade.Conn, _ int, data []byte) {
			var in inbound
			if json.Unmarshal(data, &in) != nil {
				in = inbound{} // answered as an unknown message type
			}
			s.dispatch(ctx, c.UserID(), in)
		},
	})
	if err != nil {
		return // Accept has answered the client
	}
	ctx := r.Context()
	if err := c.Authenticate(userID); err != nil {
		_ = c.Close(websocket.CloseTryAgainLater, err.Error())
		return
	}
	if thread := r.URL.Query().Get("thread_id"); thread != "" {
		if err := c.JoinThread(thread); err != nil {
			_ = c.Close(websocket.CloseInternalServerErr, "join thread")
			return
		}
	}
	threads, err := s.cfg.LoadThreads(ctx, userID)
	if err == nil {
		err = c.ServicesReady()
	}
	if err == nil {
		err = s.hub.Notify(ctx, facade.ToConn(c.ID()), facade.Raw(bridge.Message{
			"type":          "connection_established",
			"connection_id": c.ID(),
			"user_id":       userID,
			"threads":       threads,
		}))
	}
	if err == nil {
		err = c.Ready()
	}
	if err != nil {
		slog.WarnContext(ctx, "server: setup failed", "user", userID, "err", err)
		_ = c.Close(CloseSetupFailed, "setup failed")
	}
}
