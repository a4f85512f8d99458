// Package server is chatapp's HTTP front: the /ws endpoint where a client
// authenticates, waits for its session to be set up, and then chats.
//
// # Protocol
//
// The client authenticates with ?token=… on the URL or, failing that, with a
// first message {"type":"auth","token":…}. The server then loads the user's
// threads and answers {"type":"connection_established",…}; after that the
// client sends {"type":"user_message","thread_id":…,"content":…} and
// receives the agent's events.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"example.com/chatapp/internal/chat"
	"example.com/chatapp/internal/push"
	"example.com/chatapp/internal/ws"
	"github.com/gorilla/websocket"
	"github.com/wsunify/wsunify/bridge"
	"github.com/wsunify/wsunify/facade"
)

// Close codes of the /ws endpoint.
const (
	CloseUnauthorized = 4001
	CloseSetupFailed  = 4002
)

// Config configures a Server.
type Config struct {
	// Tokens maps each valid token to its user ID.
	Tokens map[string]string
	// AuthTimeout bounds the wait for an auth message. Default 5s.
	AuthTimeout time.Duration
	// SetupDelay is how long the simulated thread store takes to load a
	// user's threads, as the real database did.
	SetupDelay time.Duration
	// LoadThreads loads a user's thread IDs while the connection is set up.
	// Nil means the simulated store.
	LoadThreads func(ctx context.Context, userID string) ([]string, error)
	// Chat configures the agent runs.
	Chat chat.Options
	// Push receives the notifications for users who left; nil logs them.
	Push *push.Service
	// UseBridge puts the legacy shapes over a facade hub
	// (bridge.NewWebSocketManager) in place of the service's own manager:
	// step 2 of MIGRATION.md. Clients must then send their token in the
	// URL.
	UseBridge bool
}

// Server serves /ws, /healthz, POST /messages (a user message over HTTP,
// as the mobile app sends them) and two support endpoints: GET
// /users/{id}/connections and POST /announcements. It is safe for
// concurrent use.
type Server struct {
	cfg      Config
	manager  bridge.WebSocketManager
	chat     *chat.Handler
	serveWS  http.HandlerFunc
	legacy   *ws.Manager // nil with UseBridge
	hub      *facade.Hub // nil without UseBridge
	upgrader websocket.Upgrader
	mux      *http.ServeMux
}

// New returns a Server configured by cfg.
func New(cfg Config) *Server {
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 5 * time.Second
	}
	if cfg.LoadThreads == nil {
		cfg.LoadThreads = SimulatedStore(cfg.SetupDelay)
	}
	if cfg.Push == nil {
		cfg.Push = &push.Service{}
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}

	// The connection layer under the legacy shapes: the one place where
	// MIGRATION.md step 2 swaps the service's manager for the bridge.
	var bridgeFor chat.BridgeFunc
	if cfg.UseBridge {
		s.hub = facade.NewHub(nil)
		s.manager = bridge.NewWebSocketManager(s.hub)
		bridgeFor = func(userID, threadID, runID string) (bridge.AgentWebSocketBridge, error) {
			uc, err := bridge.NewUserExecutionContext(userID, threadID, runID)
			if err != nil {
				return nil, err
			}
			return bridge.NewAgentWebSocketBridge(s.hub, uc), nil
		}
		s.serveWS = s.serveHub
	} else {
		s.legacy = ws.NewManager()
		s.manager = s.legacy
		bridgeFor = func(userID, threadID, _ string) (bridge.AgentWebSocketBridge, error) {
			return ws.NewAgentBridge(s.legacy, userID, threadID), nil
		}
		s.serveWS = s.serveLegacy
	}

	s.chat = chat.NewHandler(s.manager, bridgeFor, cfg.Push, cfg.Chat)
	s.mux.HandleFunc("GET /ws", s.serveWS)
	s.mux.HandleFunc("POST /messages", s.serveMessage)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /users/{id}/connections", s.serveConnections)
	s.mux.HandleFunc("POST /announcements", s.serveAnnouncement)
	s.mux.HandleFunc("GET /{$}", servePage)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Manager returns the connection manager every send goes through.
func (s *Server) Manager() bridge.WebSocketManager { return s.manager }

// Chat returns the handler of user messages.
func (s *Server) Chat() *chat.Handler { return s.chat }

// Hub returns the facade hub under the manager, nil without UseBridge.
func (s *Server) Hub() *facade.Hub { return s.hub }

// Shutdown lets the agent runs in flight finish until ctx is done, then
// cancels them; with UseBridge it then closes the hub's connections. The
// legacy manager's connections end when their clients leave.
func (s *Server) Shutdown(ctx context.Context) error {
	return errors.Join(s.chat.Shutdown(ctx), s.closeHub())
}

// Close is Shutdown without the wait: the runs in flight are canceled.
func (s *Server) Close() error {
	s.chat.Close()
	return s.closeHub()
}

func (s *Server) closeHub() error {
	if s.hub == nil {
		return nil
	}
	return s.hub.Close()
}

// serveMessage handles a user message posted over HTTP with the user's
// token as a bearer token: the same run as a message on the socket, whose
// acknowledgement and events go to the user's connections, if any. It
// answers 202 with {"run_id": …}.
func (s *Server) serveMessage(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	userID, known := s.cfg.Tokens[token]
	if !ok || !known {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var in inbound
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
		http.Error(w, "message must be JSON", http.StatusBadRequest)
		return
	}
	runID, err := s.chat.HandleUserMessage(r.Context(), userID, in.ThreadID, in.Content)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"run_id": runID})
}

// serveConnections lists the connection IDs of a user, for support staff.
func (s *Server) serveConnections(w http.ResponseWriter, r *http.Request) {
	ids := s.manager.GetUserConnections(r.PathValue("id"))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(bridge.Message{"connections": ids})
}

// serveAnnouncement broadcasts the request's text (say, planned
// maintenance) to every connected client.
func (s *Server) serveAnnouncement(w http.ResponseWriter, r *http.Request) {
	text, err := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	if err != nil || len(text) == 0 {
		http.Error(w, "announcement text required", http.StatusBadRequest)
		return
	}
	if err := s.manager.Broadcast(r.Context(), bridge.Message{
		"type":    "announcement",
		"message": string(text),
	}); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// inbound is a message from the client.
type inbound struct {
	Type     string `json:"type"`
	Token    string `json:"token,omitempty"`
	ThreadID string `json:"thread_id,omitempty"`
	Content  string `json:"content,omitempty"`
}

// dispatch handles one client message after setup.
func (s *Server) dispatch(ctx context.Context, userID string, in inbound) {
	var err error
	switch in.Type {
	case "user_message":
		_, err = s.chat.HandleUserMessage(ctx, userID, in.ThreadID, in.Content)
	default:
		err = fmt.Errorf("server: unknown message type %q", in.Type)
	}
	if err != nil {
		_ = s.manager.SendToUser(ctx, userID, bridge.Message{"type": "error", "message": err.Error()})
	}
}

// SimulatedStore returns a thread loader that finds no threads after delay,
// or fails when ctx is done first.
func SimulatedStore(delay time.Duration) func(context.Context, string) ([]string, error) {
	return func(ctx context.Context, userID string) ([]string, error) {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("server: load threads of %s: %w", userID, ctx.Err())
		case <-time.After(delay):
			return []string{}, nil
		}
	}
}
