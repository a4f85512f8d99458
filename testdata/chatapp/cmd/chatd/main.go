// Command chatd serves chatapp: a chat whose assistant reports its work over
// a WebSocket at /ws.
//
// Usage:
//
//	chatd [-addr :8080] [-tokens tok-alice=alice,tok-bob=bob] [-setup-delay 200ms] [-tool-latency 300ms] [-bridge]
//
// -bridge runs the service over the wsunify bridge instead of its own
// connection manager (step 2 of MIGRATION.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"example.com/chatapp/internal/agent"
	"example.com/chatapp/internal/chat"
	"example.com/chatapp/internal/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "chatd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("chatd", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "listen address")
	tokens := fs.String("tokens", "tok-alice=alice,tok-bob=bob", "comma-separated token=user pairs")
	setup := fs.Duration("setup-delay", 200*time.Millisecond, "time to load a user's threads on connect")
	latency := fs.Duration("tool-latency", 300*time.Millisecond, "time each agent tool takes")
	useBridge := fs.Bool("bridge", false, "run over bridge.NewWebSocketManager instead of the service's own manager")
	if err := fs.Parse(args); err != nil {
		return err
	}
	users, err := parseTokens(*tokens)
	if err != nil {
		return err
	}

	srv := server.New(server.Config{
		Tokens:     users,
		SetupDelay: *setup,
		Chat:       chat.Options{Tools: agent.Toolbox(*latency)},
		UseBridge:  *useBridge,
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return errors.Join(err, srv.Close())
	}
	hs := &http.Server{Handler: withMetrics(srv), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	slog.Info("chatd: listening", "addr", ln.Addr().String(), "bridge", *useBridge)

	select {
	case err := <-errc:
		return errors.Join(err, srv.Close())
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(hs.Shutdown(shutdown), srv.Shutdown(shutdown))
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// parseTokens reads "tok=user,tok2=user2".
func parseTokens(s string) (map[string]string, error) {
	users := make(map[string]string)
	for pair := range strings.SplitSeq(s, ",") {
		tok, user, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || tok == "" || user == "" {
			return nil, fmt.Errorf("bad token pair %q", pair)
		}
		users[tok] = user
	}
	return users, nil
}
