package redisbroker

import (
	"context"
	"crypto/rand"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// An epoch tells a Redis that lost its data from one that kept it. Each
// master holds two keys without expiry: a random token, which the first
// instance to find it missing sets, and a generation that every check of
// every instance increments. Every instance remembers the token and the
// generation it last saw. An instance that later finds another token (or
// none) knows that Redis lost every key meanwhile: it restarted without
// persistence, or was flushed, or failed over to an empty replica. One
// that finds its token with a generation no greater than the one it saw
// knows that Redis went back in time: it restarted from a snapshot older
// than the instance's last check (an RDB file after a crash, in Redis's
// default configuration) or failed over to a replica that lagged, and
// whatever was written after that snapshot is gone. With the keys went
// the events held for users and threads no instance had a connection of,
// which no catch-up can count, since no instance followed them: the
// instance counts the loss in Stats.Wiped and logs it. On a Redis Cluster
// each master has its own epoch, in a slot it owns.
//
// The worker checks the epochs on every new subscription, before it is
// confirmed; a watcher goroutine of the broker's checks them every
// PresenceTTL/3, so that a master that restarts is found out even by an
// instance with no subscription on it, and a master that does not answer
// holds up no delivery for longer than OpTimeout.
//
// One instance's checks take turns: each is sent only after the one before
// was answered or given up, so the generations it is answered are
// increasing unless Redis went back. (Two checks in flight at once could be
// run by Redis in the other order and look like a step back.) A snapshot
// taken after an instance's last check, and lost in a crash before its
// next one, is not found out by that instance: the window is one beat.
//
// An instance of an earlier version reads and sets the token alone, with
// SET NX GET, and never sees the generation: both can run side by side.
type epochs struct {
	turn chan struct{}    // holds a token while a check is out
	mu   sync.Mutex       // guards keys
	keys []string         // one per master ("<prefix>:{epoch:N}"); nil: to find again (the slots may have moved)
	seen map[string]epoch // by key: what this hub last found; used only with a turn
}

// epoch is what a check found of one master's epoch.
type epoch struct {
	token string
	gen   int64
}

// epochScript returns a master's epoch token, setting it to ARGV[1] when
// missing, and its incremented generation. KEYS: token, generation.
var epochScript = redis.NewScript(`
local token = redis.call('GET', KEYS[1])
if not token then
  token = ARGV[1]
  redis.call('SET', KEYS[1], token)
end
return {token, redis.call('INCR', KEYS[2])}
`)

func (e *epochs) init() {
	e.turn = make(chan struct{}, 1)
	e.seen = make(map[string]epoch)
}

// watchEpochs checks the epochs every PresenceTTL/3 until the broker
// closes. It is the broker's, started by Start.
func (b *Broker) watchEpochs() {
	tick := time.NewTicker(b.o.beat)
	defer tick.Stop()
	for {
		select {
		case <-b.quit:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(b.ctx, b.o.OpTimeout)
			_ = b.checkEpochs(ctx)
			cancel()
		}
	}
}

// checkEpochs reads each master's epoch, sets the ones missing, and counts
// and logs every loss. A master that does not answer is checked next time.
// It waits for its turn while ctx allows, and reports the first failure.
func (b *Broker) checkEpochs(ctx context.Context) error {
	e := &b.epochs
	select {
	case e.turn <- struct{}{}:
		defer func() { <-e.turn }()
	case <-ctx.Done():
		return ctx.Err()
	}
	e.mu.Lock()
	keys := e.keys
	e.mu.Unlock()
	if keys == nil {
		var err error
		if keys, err = b.epochKeys(ctx); err != nil {
			return err
		}
		e.mu.Lock()
		if e.keys == nil {
			e.keys = keys
		}
		e.mu.Unlock()
	}
	token := rand.Text()
	cmds, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, key := range keys {
			epochScript.Eval(ctx, p, []string{key, key + ":g"}, token)
		}
		return nil
	})
	for i, cmd := range cmds {
		v, cerr := cmd.(*redis.Cmd).Slice()
		if cerr != nil || len(v) != 2 {
			continue
		}
		cur := epoch{}
		cur.token, _ = v[0].(string)
		cur.gen, _ = v[1].(int64)
		key := keys[i]
		switch prev, ok := e.seen[key]; {
		case !ok:
		case prev.token != cur.token:
			b.wiped.Add(1)
			b.log.Warn("redisbroker: Redis lost its data (a restart without persistence, a flush, a failover to an empty replica); events it held for users and threads no instance was connected to are lost", "epoch", key)
		case cur.gen <= prev.gen:
			b.wiped.Add(1)
			b.log.Warn("redisbroker: Redis went back in time (a restart from an older snapshot, a failover to a replica that lagged); events held for users and threads no instance was connected to since then are lost", "epoch", key, "generation", cur.gen, "seen", prev.gen)
		}
		e.seen[key] = cur
	}
	return err
}

// forgetEpochKeys makes the next check find the masters' keys again: a new
// subscription may follow slots that moved.
func (b *Broker) forgetEpochKeys() {
	b.epochs.mu.Lock()
	b.epochs.keys = nil
	b.epochs.mu.Unlock()
}

// epochKeys returns one epoch key per master: on a single node one; on a
// cluster, for each master the first "<prefix>:{epoch:N}" in its slots.
func (b *Broker) epochKeys(ctx context.Context) ([]string, error) {
	key := func(i int) string { return b.o.Prefix + ":{epoch:" + strconv.Itoa(i) + "}" }
	cc, ok := b.client.(*redis.ClusterClient)
	if !ok {
		return []string{key(0)}, nil
	}
	var mu sync.Mutex
	masters := make(map[string]bool)
	err := cc.ForEachMaster(ctx, func(_ context.Context, m *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		masters[m.Options().Addr] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	var keys []string
	for i := 0; len(masters) > 0 && i < 1<<16; i++ {
		node, err := cc.MasterForKey(ctx, key(i))
		if err != nil {
			return nil, err
		}
		if addr := node.Options().Addr; masters[addr] {
			delete(masters, addr)
			keys = append(keys, key(i))
		}
	}
	return keys, nil
}
