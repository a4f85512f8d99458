package redisbroker

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// feed is a hub's subscriptions to Redis. On a single node it is one
// PubSub (SUBSCRIBE), and losing it loses the feed. On a Redis Cluster it
// uses sharded pub/sub (SSUBSCRIBE): each channel is subscribed on the
// master that owns its slot, with one PubSub per such master, so that a
// message goes to that node alone instead of to every node; losing one
// master's PubSub loses only its channels, which wait in pending until
// they are subscribed again. It is the worker's.
type feed struct {
	cluster *redis.ClusterClient  // nil on a single node
	client  redis.UniversalClient // single node
	next    func() int            // a new generation for each PubSub
	single  *sub
	nodes   map[string]*sub     // cluster: by master address
	of      map[string]*sub     // cluster: by channel
	byGen   map[int]*sub        // every live PubSub, by generation
	pending map[string]struct{} // cluster: channels to subscribe again
}

// sub is one PubSub of a feed, read by one receiver goroutine until stop
// is closed. Messages carry its generation: those of a retired sub are
// dropped.
type sub struct {
	ps   *redis.PubSub
	addr string // cluster: the master's address
	gen  int
	stop chan struct{}
}

func newFeed(c redis.UniversalClient, next func() int) *feed {
	f := &feed{client: c, next: next, byGen: make(map[int]*sub)}
	if cc, ok := c.(*redis.ClusterClient); ok {
		f.cluster = cc
		f.nodes = make(map[string]*sub)
		f.of = make(map[string]*sub)
		f.pending = make(map[string]struct{})
	}
	return f
}

func (f *feed) add(ps *redis.PubSub, addr string) *sub {
	s := &sub{ps: ps, addr: addr, gen: f.next(), stop: make(chan struct{})}
	f.byGen[s.gen] = s
	return s
}

// subscribe subscribes to chans. It returns the subs it made for them,
// whose messages the caller reads, even when it fails. On a cluster it
// goes on past a channel it cannot subscribe, leaves it pending and
// returns the first error.
func (f *feed) subscribe(ctx context.Context, chans ...string) (made []*sub, err error) {
	if f.cluster == nil {
		if f.single == nil {
			f.single = f.add(f.client.Subscribe(ctx), "")
			made = append(made, f.single)
		}
		return made, f.single.ps.Subscribe(ctx, chans...)
	}
	for _, ch := range chans {
		s, serr := f.subscribeSharded(ctx, ch)
		if s != nil {
			made = append(made, s)
		}
		if serr != nil {
			f.pending[ch] = struct{}{}
			if err == nil {
				err = serr
			}
			continue
		}
		delete(f.pending, ch)
	}
	return made, err
}

// subscribeSharded subscribes ch on its master; it returns the sub it
// made for that master, if any.
func (f *feed) subscribeSharded(ctx context.Context, ch string) (made *sub, err error) {
	node, err := f.cluster.MasterForKey(ctx, ch)
	if err != nil {
		return nil, err
	}
	addr := node.Options().Addr
	s := f.nodes[addr]
	if s == nil {
		s = f.add(node.SSubscribe(ctx), addr)
		f.nodes[addr] = s
		made = s
	}
	// One channel per command: SSUBSCRIBE takes channels of one slot.
	if err := s.ps.SSubscribe(ctx, ch); err != nil {
		if made != nil {
			// Never read: its reader would connect again, unbounded.
			f.retire(s)
			delete(f.nodes, addr)
			made = nil
		}
		return nil, err
	}
	f.of[ch] = s
	return made, nil
}

// unsubscribe ends the subscription to ch. When it fails, gen is the
// generation of the sub that failed.
func (f *feed) unsubscribe(ctx context.Context, ch string) (gen int, err error) {
	if f.cluster == nil {
		return f.single.gen, f.single.ps.Unsubscribe(ctx, ch)
	}
	delete(f.pending, ch)
	s := f.of[ch]
	if s == nil {
		return 0, nil
	}
	delete(f.of, ch)
	return s.gen, s.ps.SUnsubscribe(ctx, ch)
}

// lose retires the cluster sub of generation gen, which failed, and
// returns the channels it carried, now pending; ok is false when gen is
// no live sub.
func (f *feed) lose(gen int) (chans []string, ok bool) {
	s := f.byGen[gen]
	if s == nil {
		return nil, false
	}
	f.retire(s)
	delete(f.nodes, s.addr)
	for ch, x := range f.of {
		if x == s {
			chans = append(chans, ch)
			delete(f.of, ch)
			f.pending[ch] = struct{}{}
		}
	}
	return chans, true
}

func (f *feed) retire(s *sub) {
	if _, ok := f.byGen[s.gen]; !ok {
		return
	}
	delete(f.byGen, s.gen)
	close(s.stop)
	_ = s.ps.Close()
}

// live reports whether gen is a live sub's generation.
func (f *feed) live(gen int) bool { return f.byGen[gen] != nil }

// close retires every sub; their readers end.
func (f *feed) close() {
	for _, s := range f.byGen {
		f.retire(s)
	}
}
