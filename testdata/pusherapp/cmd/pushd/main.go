// Command pushd serves pusherapp: clients keep a WebSocket open at /ws and
// receive the notices and digests the service pushes.
//
// Usage:
//
//	pushd [-addr :8081] [-tokens tok-alice=alice,tok-bob=bob] [-setup-delay 100ms] [-digest-every 1h] [-hub]
//
// -hub runs the pushes over a wsunify facade.Hub instead of the service's
// own connections.
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
	"sync"
	"syscall"
	"time"

	"github.com/wsunify/wsunify/facade"

	"example.com/pusherapp/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "pushd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("pushd", flag.ContinueOnError)
	addr := fs.String("addr", ":8081", "listen address")
	tokens := fs.String("tokens", "tok-alice=alice,tok-bob=bob", "comma-separated token=user pairs")
	setup := fs.Duration("setup-delay", 100*time.Millisecond, "time to load a user's state on connect")
	every := fs.Duration("digest-every", time.Hour, "interval of the digest job")
	useHub := fs.Bool("hub", false, "push over a facade.Hub instead of the service's own connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	users, err := parseTokens(*tokens)
	if err != nil {
		return err
	}
	cfg := server.Config{
		Tokens: users,
		Setup: func(ctx context.Context, _ string) error {
			select {
			case <-time.After(*setup):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	if *useHub {
		cfg.Hub = facade.NewHub(nil)
	}
	srv := server.New(cfg)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return errors.Join(err, srv.Close())
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Digest().Run(ctx, *every) })
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	slog.Info("pushd: listening", "addr", ln.Addr().String(), "hub", *useHub)

	select {
	case err = <-errc:
		stop()
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = hs.Shutdown(shutdown)
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	wg.Wait()
	return errors.Join(err, srv.Close())
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
