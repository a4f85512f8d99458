package redisbroker

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"

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
// its own epoch, in a slot it owns. The worker checks the epochs on every
// new subscription and every presence renewal, so a master that restarts
// is found out within PresenceTTL/3 even by an instance with no connection
// of its targets.
type epochs struct {
	keys []string          // one per master ("<prefix>:{epoch:N}"); nil: to find again (the slots may have moved)
	seen map[string]string // by key: the token this hub last found
}

// epochKeys returns one epoch key per master: on a single node one; on a
// cluster, for each master the first "<prefix>:{epoch:N}" in its slots.
func (b *Broker) epochKeys(ctx context.Context) ([]string, error) {
	key := func(i int) string { return b.o.Prefix + ":{epoch:" + strconv.Itoa(i) + "}" }
	cc, ok := b.client.(*redis.ClusterClient)
	if !ok {
		return []string{key(0)}, nil
	}
	masters := make(map[string]bool)
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	for _, s := range slots {
		if len(s.Nodes) > 0 {
			masters[s.Nodes[0].Addr] = true
		}
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

// checkEpochs compares each master's epoch with the one this hub saw last,
// sets it where it is missing, and counts and logs every loss. A master
// out of reach is checked next time.
func (w *worker) checkEpochs() {
	b := w.b
	if w.epochs.keys == nil {
		err := w.call(func(ctx context.Context) (err error) {
			w.epochs.keys, err = b.epochKeys(ctx)
			return err
		})
		if err != nil {
			return
		}
	}
	token := rand.Text()
	for _, key := range w.epochs.keys {
		var cur string
		err := w.call(func(ctx context.Context) (err error) {
			cur, err = b.client.SetArgs(ctx, key, token, redis.SetArgs{Mode: "NX", Get: true}).Result()
			if errors.Is(err, redis.Nil) {
				cur, err = token, nil
			}
			return err
		})
		if err != nil {
			continue
		}
		if prev, ok := w.epochs.seen[key]; ok && prev != cur {
			b.wiped.Add(1)
			b.log.Warn("redisbroker: Redis lost its data (a restart without persistence, a flush, a failover to an empty replica); events it held for users and threads no instance was connected to are lost", "epoch", key)
		}
		w.epochs.seen[key] = cur
	}
}
