// Package server is pushd's HTTP side: the WebSocket endpoint clients keep
// open, and the endpoints that make the service push.
//
//	GET  /ws?token=T             a client of the token's user; the first message is {"type":"hello",...}
//	POST /users/{id}/notices     {"text":"..."}: a notice to every connection of the user
//	POST /digest                 the digest job, now: to every connection
package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gorilla/websocket"
	"github.com/wsunify/wsunify/facade"

	"example.com/pusherapp/digest"
	"example.com/pusherapp/push"
)

// Config configures a Server.
type Config struct {
	// Tokens maps an access token to its user.
	Tokens map[string]string
	// Setup loads what the service needs for a user who connects, before
	// it greets the client; nil loads nothing.
	Setup func(ctx context.Context, userID string) error
	// Hub, when set, carries the connections and the pushes instead of the
	// service's own push.Conns.
	Hub *facade.Hub
}

// Server serves pushd. Its handlers may run concurrently.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	conns  *push.Conns // nil over a hub
	pusher push.Pusher
	digest *digest.Job
}

// New returns a server over cfg.Hub, or over its own connections.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	if cfg.Hub != nil {
		s.pusher = push.Over(cfg.Hub)
	} else {
		s.conns = push.NewConns()
		s.pusher = s.conns
	}
	s.digest = digest.New(s.pusher)
	s.mux.HandleFunc("GET /ws", s.serveWS)
	s.mux.HandleFunc("POST /users/{id}/notices", s.postNotice)
	s.mux.HandleFunc("POST /digest", s.postDigest)
	return s
}

// Digest returns the server's digest job, for its owner to Run.
func (s *Server) Digest() *digest.Job { return s.digest }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close closes every connection.
func (s *Server) Close() error {
	if s.cfg.Hub != nil {
		return s.cfg.Hub.Close()
	}
	return s.conns.Close()
}

// Hello is the first message of a connection.
type Hello struct {
	Type   string `json:"type"` // "hello"
	UserID string `json:"user_id"`
}

// Notice is a message for one user.
type Notice struct {
	Type string `json:"type"` // "notice"
	Text string `json:"text"`
}

// SendNotice pushes a notice with text to the user.
func SendNotice(p push.Pusher, userID, text string) error {
	payload, err := json.Marshal(Notice{Type: "notice", Text: text})
	if err != nil {
		return err
	}
	return p.Push(userID, payload)
}

func (s *Server) postNotice(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Text == "" {
		http.Error(w, `want {"text":"..."}`, http.StatusBadRequest)
		return
	}
	if err := SendNotice(s.pusher, r.PathValue("id"), in.Text); err != nil {
		slog.WarnContext(r.Context(), "server: notice", "user", r.PathValue("id"), "err", err)
		http.Error(w, "push failed", http.StatusBadGateway)
		return
	}
	s.digest.Noticed()
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) postDigest(w http.ResponseWriter, r *http.Request) {
	if err := s.digest.Send(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.cfg.Tokens[r.URL.Query().Get("token")]
	if !ok {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	hello, err := json.Marshal(Hello{Type: "hello", UserID: userID})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if s.cfg.Hub != nil {
		s.serveHub(w, r, userID, hello)
		return
	}
	s.serveConns(w, r, userID, hello)
}

func (s *Server) setup(ctx context.Context, userID string) error {
	if s.cfg.Setup == nil {
		return nil
	}
	return s.cfg.Setup(ctx, userID)
}

var upgrader = websocket.Upgrader{}

// serveConns runs one connection on the service's own push.Conns: it is
// registered, and receives pushes, before setup and the hello.
func (s *Server) serveConns(w http.ResponseWriter, r *http.Request, userID string, hello []byte) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	cl := s.conns.Add(userID, ws)
	defer cl.Close()
	if err := s.setup(r.Context(), userID); err != nil {
		slog.WarnContext(r.Context(), "server: setup failed", "user", userID, "err", err)
		return
	}
	if err := cl.Send(hello); err != nil {
		return
	}
	for { // the client sends nothing we need; read to see it go
		if _, _, err := ws.ReadMessage(); err != nil {
			return
		}
	}
}

// serveHub runs one connection on the facade hub, which writes nothing to
// it, in Notify order, before Ready.
func (s *Server) serveHub(w http.ResponseWriter, r *http.Request, userID string, hello []byte) {
	hub := s.cfg.Hub
	c, err := hub.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered the client
	}
	ctx := r.Context()
	err = c.Authenticate(userID)
	if err == nil {
		err = s.setup(ctx, userID)
	}
	if err == nil {
		err = c.ServicesReady()
	}
	if err == nil {
		err = hub.Notify(ctx, facade.ToConn(c.ID()), facade.Raw(json.RawMessage(hello)))
	}
	if err == nil {
		err = c.Ready()
	}
	if err != nil {
		slog.WarnContext(ctx, "server: setup failed", "user", userID, "err", err)
		_ = c.Close(websocket.CloseInternalServerErr, "setup failed")
	}
}
