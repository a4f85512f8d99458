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
// new subscription, and on every presence renewal in the flush that
// follows, so that a master that restarts is found out within
// PresenceTTL/3 even by an instance with no subscription on it, at no
// round trip of its own.
type epochs struct {
	keys []string          // one per master ("<prefix>:{epoch:N}"); nil: to find again (the slots may have moved)
	seen map[string]string // by key: the token this hub last found
	due  bool              // the next flush checks them
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

// epochCmds queues, on p, the commands that read each master's epoch and
// set the ones missing; it returns nil when the masters' keys cannot be
// found now (the next flush tries again).
func (w *worker) epochCmds(ctx context.Context, p redis.Pipeliner) []*redis.StatusCmd {
	b := w.b
	if w.epochs.keys == nil {
		keys, err := b.epochKeys(ctx)
		if err != nil {
			return nil
		}
		w.epochs.keys = keys
	}
	token := rand.Text()
	cmds := make([]*redis.StatusCmd, len(w.epochs.keys))
	for i, key := range w.epochs.keys {
		cmds[i] = p.SetArgs(ctx, key, token, redis.SetArgs{Mode: "NX", Get: true})
	}
	return cmds
}

// epochsRead compares each master's epoch, as cmds read it, with the one
// this hub saw last, and counts and logs every loss. A master that did not
// answer is checked next time.
func (w *worker) epochsRead(cmds []*redis.StatusCmd) {
	b := w.b
	for i, cmd := range cmds {
		key := w.epochs.keys[i]
		cur, err := cmd.Result()
		switch {
		case errors.Is(err, redis.Nil):
			cur = cmd.Args()[2].(string) // it was missing: it is ours now
		case err != nil:
			continue
		}
		if prev, ok := w.epochs.seen[key]; ok && prev != cur {
			b.wiped.Add(1)
			b.log.Warn("redisbroker: Redis lost its data (a restart without persistence, a flush, a failover to an empty replica); events it held for users and threads no instance was connected to are lost", "epoch", key)
		}
		w.epochs.seen[key] = cur
	}
}

// checkEpochs checks the epochs at once, on a new subscription: before the
// subscription is confirmed (Stats.Up), this hub knows whether Redis lost
// its data since it last looked.
func (w *worker) checkEpochs() {
	w.epochs.keys = nil // the slots may have moved
	var read []*redis.StatusCmd
	_ = w.call(func(ctx context.Context) error {
		_, err := w.b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			read = w.epochCmds(ctx, p)
			return nil
		})
		return err
	})
	w.epochs.due = read == nil
	w.epochsRead(read)
}
