package redisbroker

import (
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
