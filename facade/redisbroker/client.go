package redisbroker

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// boundedClient returns the client the broker talks through: one whose
// every call ends at its context's deadline, so that OpTimeout bounds it
// whatever the user's timeouts. go-redis honours a context's deadline only
// with ContextTimeoutEnabled; without it a call waits for the client's own
// read timeout (5s by default, forever with -1) while Redis is frozen.
//
// A client that has it is used as it is. Otherwise the broker makes its own
// from the client's options with ContextTimeoutEnabled set, and owns it
// (owned): it has its own connections and none of the hooks added to the
// given client. A client of another type (a wrapper of the caller's own)
// is used as it is and reported as not bounded.
func boundedClient(c redis.UniversalClient) (client redis.UniversalClient, owned, bounded bool) {
	switch c := c.(type) {
	case *redis.Client:
		if c.Options().ContextTimeoutEnabled {
			return c, false, true
		}
		o := *c.Options()
		o.ContextTimeoutEnabled = true
		return redis.NewClient(&o), true, true
	case *redis.ClusterClient:
		if c.Options().ContextTimeoutEnabled {
			return c, false, true
		}
		o := *c.Options()
		o.ContextTimeoutEnabled = true
		return redis.NewClusterClient(&o), true, true
	}
	return c, false, false
}

// isCluster reports a Redis Cluster client.
func isCluster(c redis.UniversalClient) bool {
	_, ok := c.(*redis.ClusterClient)
	return ok
}

// onceCmd is a command go-redis never sends twice: not for the client's
// MaxRetries, not for a cluster client's MaxRedirects after a network
// error. (MOVED and ASK, which mean it did not run, still redirect it.) The
// broker's publications are onceCmds, so that whatever the client's
// configuration, an event whose reply was lost is not appended or
// published again: the caller gets ErrUnavailable and decides.
type onceCmd struct{ *redis.Cmd }

func (onceCmd) NoRetry() bool { return true }

func (c onceCmd) Clone() redis.Cmder { return onceCmd{c.Cmd.Clone().(*redis.Cmd)} }

// once runs the command args as a onceCmd.
func once(ctx context.Context, c redis.UniversalClient, args ...any) *redis.Cmd {
	cmd := onceCmd{redis.NewCmd(ctx, args...)}
	_ = c.Process(ctx, cmd)
	return cmd.Cmd
}

// onceScript is a Lua script run with onceCmds: EVALSHA, then EVAL when
// the server does not have it yet (NOSCRIPT, which means it did not run).
type onceScript struct {
	src, hash string
}

func newOnceScript(src string) onceScript {
	return onceScript{src: src, hash: redis.NewScript(src).Hash()}
}

func (s onceScript) run(ctx context.Context, c redis.UniversalClient, keys []string, args ...any) *redis.Cmd {
	call := func(name, script string) *redis.Cmd {
		a := make([]any, 0, 3+len(keys)+len(args))
		a = append(a, name, script, len(keys))
		for _, k := range keys {
			a = append(a, k)
		}
		return once(ctx, c, append(a, args...)...)
	}
	cmd := call("evalsha", s.hash)
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		cmd = call("eval", s.src)
	}
	return cmd
}
