package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsunify/wsunify/bridge"
)

// serveLegacy runs one connection on the legacy manager: upgrade,
// authenticate, register, set up, then read until the client leaves.
func (s *Server) serveLegacy(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	ctx := r.Context()
	userID, err := s.authenticate(conn, r)
	if err != nil {
		slog.InfoContext(ctx, "server: auth failed", "err", err)
		closeWith(conn, CloseUnauthorized, "unauthorized")
		return
	}
	connID, err := s.legacy.ConnectUser(userID, r.URL.Query().Get("thread_id"), conn)
	if err != nil {
		closeWith(conn, websocket.CloseTryAgainLater, err.Error())
		return
	}
	defer s.legacy.DisconnectUser(connID, websocket.CloseNormalClosure, "")

	threads, err := s.cfg.LoadThreads(ctx, userID)
	if err != nil {
		slog.WarnContext(ctx, "server: setup failed", "user", userID, "err", err)
		s.legacy.DisconnectUser(connID, CloseSetupFailed, "setup failed")
		return
	}
	if err := s.legacy.SendToConnection(ctx, connID, bridge.Message{
		"type":          "connection_established",
		"connection_id": connID,
		"user_id":       userID,
		"threads":       threads,
	}); err != nil {
		return
	}
	for {
		var in inbound
		if err := conn.ReadJSON(&in); err != nil {
			return
		}
		s.dispatch(ctx, userID, in)
	}
}

// authenticate returns the user of the token in the URL or, without one,
// in the client's first message.
func (s *Server) authenticate(conn *websocket.Conn, r *http.Request) (string, error) {
	token := r.URL.Query().Get("token")
	if token == "" {
		_ = conn.SetReadDeadline(time.Now().Add(s.cfg.AuthTimeout))
		var in inbound
		if err := conn.ReadJSON(&in); err != nil {
			return "", fmt.Errorf("server: read auth: %w", err)
		}
		_ = conn.SetReadDeadline(time.Time{})
		if in.Type != "auth" {
			return "", fmt.Errorf("server: expected auth, got %q", in.Type)
		}
		token = in.Token
	}
	userID, ok := s.cfg.Tokens[token]
	if !ok {
		return "", errors.New("server: unknown token")
	}
	return userID, nil
}

func closeWith(conn *websocket.Conn, code int, reason string) {
	msg := websocket.FormatCloseMessage(code, reason)
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = conn.Close()
}
