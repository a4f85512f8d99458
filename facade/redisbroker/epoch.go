package redisbroker

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// An epoch tells a Redis that lost its data from one that kept it. It is a
// key without expiry holding a random token: the first instance to find it
// missing sets it, every instance remembers the token it saw, and an
// instance that later finds another token (or none) knows that Redis lost
// every key meanwhile: it restarted without persistence, or was flushed,
// or failed over to an empty replica. With the keys went the events held
// for users and threads no instance had a connection of, which no
// catch-up can count, since no instance followed them: the instance counts
// the loss in Stats.Wiped and logs it. On a Redis Cluster each master has
// its own epoch, in a slot it owns.
//
// The worker checks the epochs on every new subscription, before it is
// confirmed; a watcher goroutine of the broker's checks them every
// PresenceTTL/3, so that a master that restarts is found out even by an
// instance with no subscription on it, and a master that does not answer
// holds up no delivery.
type epochs struct {
	mu   sync.Mutex
	keys []string          // one per master ("<prefix>:{epoch:N}"); nil: to find again (the slots may have moved)
	seen map[string]string // by key: the token this hub last found
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
// It reports the first failure.
func (b *Broker) checkEpochs(ctx context.Context) error {
	e := &b.epochs
	e.mu.Lock()
	keys := e.keys
	e.mu.Unlock()
	if keys == nil {
		var err error
		if keys, err = b.epochKeys(ctx); err != nil {
			return err
		}
	}
	token := rand.Text()
	cmds, err := b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, key := range keys {
			p.SetArgs(ctx, key, token, redis.SetArgs{Mode: "NX", Get: true})
		}
		return nil
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.keys == nil {
		e.keys = keys
	}
	for i, cmd := range cmds {
		cur, cerr := cmd.(*redis.StatusCmd).Result()
		switch {
		case errors.Is(cerr, redis.Nil):
			cur = token // it was missing: it is ours now
		case cerr != nil:
			continue
		}
		key := keys[i]
		if prev, ok := e.seen[key]; ok && prev != cur {
			b.wiped.Add(1)
			b.log.Warn("redisbroker: Redis lost its data (a restart without persistence, a flush, a failover to an empty replica); events it held for users and threads no instance was connected to are lost", "epoch", key)
		}
		e.seen[key] = cur
	}
	if errors.Is(err, redis.Nil) {
		err = nil
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
