package redisbroker

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// feed is one generation of a hub's subscriptions to Redis. On a single
// node it is one PubSub (SUBSCRIBE). On a Redis Cluster it uses sharded
// pub/sub (SSUBSCRIBE): each channel is subscribed on the master that owns
// its slot, with one PubSub per such master, so that a message goes to that
// node alone instead of to every node of the cluster. It is the worker's.
type feed struct {
	cluster *redis.ClusterClient  // nil on a single node
	client  redis.UniversalClient // single node
	single  *redis.PubSub
	nodes   map[string]*redis.PubSub // cluster: by master address
	of      map[string]*redis.PubSub // cluster: by channel
}

func newFeed(c redis.UniversalClient) *feed {
	f := &feed{client: c}
	if cc, ok := c.(*redis.ClusterClient); ok {
		f.cluster = cc
		f.nodes = make(map[string]*redis.PubSub)
		f.of = make(map[string]*redis.PubSub)
	}
	return f
}

// subscribe subscribes to chans. It returns the PubSubs it made for them,
// whose messages the caller reads, even when it fails.
func (f *feed) subscribe(ctx context.Context, chans ...string) (made []*redis.PubSub, err error) {
	if f.cluster == nil {
		if f.single == nil {
			f.single = f.client.Subscribe(ctx)
			made = append(made, f.single)
		}
		return made, f.single.Subscribe(ctx, chans...)
	}
	for _, ch := range chans {
		node, err := f.cluster.MasterForKey(ctx, ch)
		if err != nil {
			return made, err
		}
		addr := node.Options().Addr
		ps := f.nodes[addr]
		if ps == nil {
			ps = node.SSubscribe(ctx)
			f.nodes[addr] = ps
			made = append(made, ps)
		}
		// One channel per command: SSUBSCRIBE takes channels of one slot.
		if err := ps.SSubscribe(ctx, ch); err != nil {
			return made, err
		}
		f.of[ch] = ps
	}
	return made, nil
}

// unsubscribe ends the subscription to ch.
func (f *feed) unsubscribe(ctx context.Context, ch string) error {
	if f.cluster == nil {
		return f.single.Unsubscribe(ctx, ch)
	}
	ps := f.of[ch]
	if ps == nil {
		return nil
	}
	delete(f.of, ch)
	return ps.SUnsubscribe(ctx, ch)
}

// close closes every PubSub; their readers end.
func (f *feed) close() {
	if f.single != nil {
		_ = f.single.Close()
	}
	for _, ps := range f.nodes {
		_ = ps.Close()
	}
}
