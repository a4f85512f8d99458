// Package redisbroker is the [facade.Broker] over Redis: it makes the hubs
// of several instances one Notifier, so that Notify on the instance running
// an agent reaches the user's socket on another.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", MaxRetries: -1})
//	hub := facade.NewHub(&facade.HubOptions{Broker: redisbroker.New(rdb, nil)})
//	defer rdb.Close()
//	defer hub.Close() // closes the broker
//
// It needs Redis 7 or later (Streams with exclusive ranges, MINID trimming,
// Lua scripts). Each hub gets its own Broker; hubs whose brokers share a
// Redis and an [Options].Prefix see each other.
//
// # Delivery
//
// Notify encodes the event once; the broker ships the encoded parts, never
// the [facade.Event], and each instance decodes them once for all its
// receivers, so every client gets the bytes the in-process hub writes.
//
// An event for a user or a thread is appended to the target's Redis stream
// and published on the target's channel by one Lua script, atomically: the
// stream order is the publication order. Every instance with a connection
// of the target subscribes to its channel, delivers each event in stream
// order and remembers the newest ID it delivered, so an event that reaches
// it twice is dropped. Notify returns once Redis took the event; a
// publisher's events to one target therefore arrive in Notify order, on
// every instance. The publishing instance's own clients are served through
// Redis too, so one order holds everywhere.
//
// An event for a connection is delivered at once when the connection is on
// the publishing instance, else published on the connection's channel; if
// no instance listens there Notify returns facade.ErrUnknownTarget. A
// broadcast is published to every instance. Neither is kept: like the
// in-process hub, they reach the connections that exist when they are sent.
//
// # Held events and resuming
//
// A stream keeps the target's recent events, up to [Options].MaxEvents and
// [Options].TTL (older ones are trimmed as new ones come, and never
// replayed: [Stats].Expired counts those a replay skipped), and a mark: the
// ID of the newest event a client's socket took, on any instance (an event
// queued on a connection that closed before its socket took it does not
// count). Events after the mark are held: a user with no ready connection
// anywhere receives them, in order, on the first connection that
// authenticates, on any instance; a thread's, on the first that joins. An
// instance sends its marks to Redis in batches, 10 ms apart (or every 256
// events), and at once when a connection leaves a user or a thread (the
// instance saw its client close or go). A connection that joins on the same
// instance starts after the newest mark the instance has, sent or not, so
// a client that reconnects there gets nothing twice. On another instance, a
// client that closed and waited for its close handshake gets nothing twice
// once the instance it left has made that one round trip to Redis. One that
// gets there sooner (within that round trip, or before its old instance saw
// it go: it reconnected without closing, or its network dropped) may get
// again what the socket it left took since that instance's last batch, up
// to 10 ms or 256 events of it. The broker cannot close that window: only
// the old instance knows what its socket took, and nothing orders its next
// write to Redis before the new instance's replay. A client that sends its
// last event ID (below) gets nothing twice in every case. An event a socket
// took in the instant between its client's close and the hub seeing it
// counts as delivered, though that client never read it. When the stream is full, no instance has a connection of
// the target, and its oldest event was never delivered, Notify refuses the
// new one with a *facade.HoldError rather than drop a held one. While some
// instance has one, the oldest events make room: they were sent live. The
// same retention bounds catching up: an instance cut from Redis for longer
// than MaxEvents or TTL of its targets' events cannot recover the trimmed
// ones.
//
// A client that reconnects sends the ID of the last event it saw, as the
// Last-Event-ID header or the last_event_id query parameter (see
// [facade.AcceptOptions].LastEventID); its connection then receives exactly
// the user's events after that one, wherever it lands: nothing lost, nothing
// twice. The IDs are on the wire only for connections that opt in with
// [facade.AcceptOptions].EventIDs, as an "event_id" member of each event
// (right after "type"); the default envelope is unchanged. A resume from an event no
// longer kept (older than TTL or MaxEvents) delivers what is kept, counts
// [Stats].Gaps and logs a warning; so does an ID the stream never had,
// which replays nothing.
//
// A connection that joins replays what it missed before it receives live
// events; the hub holds back the target's live events for it until then,
// so the replay and the live events meet without gap or overlap. When the
// client saw an event this instance has not delivered yet (its feed is
// behind the instance the client left), the connection waits until it has.
// Resuming is for users' streams; a thread is replayed from its mark.
//
// # Presence
//
// Each instance records its authenticated connections in a per-user sorted
// set scored by an expiry, renewed every [Options].PresenceTTL/3 and removed
// when the connection closes. Hub.Connected and Hub.ConnIDs read it, so they
// see every instance; the connections of an instance that crashed disappear
// once their PresenceTTL passes. Clocks of instances are assumed to agree
// to well within PresenceTTL.
//
// # Concurrency
//
// All methods of [Broker] are safe for concurrent use. Publish, Connected
// and ConnIDs run on the caller's goroutine, each bounded by
// [Options].OpTimeout (and Publish by its context). Join, Leave and Ready,
// which the hub calls under its lock, only queue work. One worker goroutine
// per broker does the rest, in order: subscriptions, delivery of published
// events to the hub, delivered marks and presence. Replays run on two
// replayer goroutines (see Reconnect floods). One receiver goroutine per
// subscription reads Redis and hands messages to the worker. One watcher
// goroutine checks, every PresenceTTL/3, whether Redis lost its data (see
// Failure semantics). [Broker.Close], called by Hub.Close, stops them all
// and waits for them.
//
// # Reconnect floods
//
// A joining connection's replay is queued and run by a replayer, never by
// the worker, so live delivery to other connections does not wait behind
// replays: while a replay hands its events over, only its own target's live
// events wait. The queue is fair: users take turns, one replay of a
// user at a time, so a user reconnecting in a loop gets one turn per
// round and cannot take the others' share; and its connections are
// admitted (their replay of the user queued) at most [Options].ReplayRate a
// second after a burst of [Options].ReplaysPerUser, and at most
// ReplaysPerUser at a time; the replays of the threads they join are not
// limited but by the queue's bound, [Options].ReplayQueue. A replay whose
// connection closes before it ran is dropped. A connection beyond a bound
// or the rate is closed with [CloseTryAgainLater] (1013, "try again
// later"), counted in [Stats].Refused; its client should reconnect after a
// pause. [Stats].Queued says how many replays wait.
//
// # Redis Cluster
//
// New takes any redis.UniversalClient; give it a *redis.ClusterClient to
// spread the load over the masters of a Redis Cluster (7 or later):
//
//	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRetries: -1})
//	hub := facade.NewHub(&facade.HubOptions{Broker: redisbroker.New(rdb, nil)})
//
// What changes: each user's or thread's keys and channel share a hash tag
// ({user:u1}), so they live in one slot and the publish script, which
// touches the stream, the mark and the channel at once, stays single-slot;
// pub/sub is sharded (SPUBLISH, SSUBSCRIBE): an event goes to the master
// that owns its target and to the instances subscribed there, not to every
// node, and each instance holds one subscription per master it has
// connections for. Broadcasts go through one slot ({all}), so one master
// carries them all. The channel names differ from the single-node ones
// (see keys.go): all instances sharing a Prefix must use the same kind of
// client.
//
// What does not: delivery, order, holding, resuming, presence, the bounds
// and every failure semantic below hold per target as on one node; a
// master that restarts is, for its targets, a Redis that restarts. While a
// master is unreachable, Notify to its targets fails with ErrUnavailable and
// an instance makes its subscription to that master again, with the
// catch-up that loses nothing kept, when it answers; the targets of the
// other masters are served live meanwhile. Without replicas and
// persistence a restarted master has lost what it kept, exactly as a
// single node; cluster-require-full-coverage (yes by default) decides
// whether the other masters serve meanwhile once the cluster declares the
// master failed.
//
// # Failure semantics
//
//   - While Redis cannot be reached, Notify fails within OpTimeout with an
//     error matching [ErrUnavailable], counted in [Stats].Unavailable and in
//     the hub's Stats.BrokerErrors. The error says what became of the
//     event. Alone, ErrUnavailable means Redis never got it (no connection
//     could be made, Redis answered with an error such as LOADING or
//     CLUSTERDOWN): it was not delivered, and notifying it again delivers
//     it once. With [ErrMaybeDelivered], the event was sent and the reply
//     lost (a timeout, a connection or a server lost meanwhile): it is
//     delivered once or not at all, and Notify cannot tell which. The
//     broker itself never sends an event twice (go-redis does not retry its
//     publications, whatever the client's MaxRetries or MaxRedirects), so
//     each Notify delivers at most once; a caller that notifies again after
//     ErrMaybeDelivered delivers at least once, and may deliver twice: the
//     second copy is a new event, with its own ID, which no instance can
//     tell from the first. The caller chooses. A cancelled or expired
//     context of the caller's, which Notify returns as it is, carries
//     ErrMaybeDelivered in the same way.
//   - The subscription is watched: silent for HealthInterval, it is pinged;
//     two pings unanswered, or any error, and it is replaced, after a pause
//     growing up to MaxBackoff. On every new subscription each target is
//     caught up from its stream after the newest ID the instance delivered,
//     so connected clients lose nothing and get nothing twice across a cut,
//     a pause or a restart of Redis.
//   - A Redis restarted without persistence has lost its streams, marks and
//     presence: connected clients still get everything published after it is
//     back, presence is rewritten by the next renewal, but events held for
//     absent users before the restart are gone, and so is an event whose
//     Notify returned just before a crash: Redis answers the publisher
//     before it sends the event to the subscribed instances, and a crash in
//     between leaves it nowhere. Such a loss is counted, not silent: an
//     instance whose catch-up finds that a stream it follows lost the last
//     event it delivered counts one gap in [Stats].Gaps and logs a warning
//     with the target, once per target and loss, whether the stream is gone
//     or already begun again by new events. (A stream whose last event is
//     older than TTL may have expired: its disappearance is no gap.) The
//     events of a target no instance follows, such as those held for a
//     user connected nowhere, no catch-up can count: instead, every
//     instance that knew Redis before the loss finds, on its next
//     subscription or within PresenceTTL/3, that Redis lost
//     its data, counts it once in [Stats].Wiped and logs a warning; on a
//     Redis Cluster, once per master that lost it. The same holds for a
//     Redis that went back in time: one restarted after a crash from its
//     last RDB snapshot (Redis's default configuration) or failed over to
//     a replica that lagged, as long as the instance checked Redis between
//     the snapshot and the crash (it does every PresenceTTL/3). (The broker
//     keeps two keys per master without expiry, "<prefix>:{epoch:N}",
//     holding a random token, and "<prefix>:{epoch:N}:g", a generation each
//     check increments; under an eviction policy that evicts such keys
//     (allkeys-*), an evicted token counts as a loss too, and held events
//     may have been evicted with it.) Use Redis persistence
//     (appendfsync always keeps every event Notify accepted; the catch-up
//     delivers it after the restart) or replication if they matter.
//   - An instance that dies drops its sockets; their clients reconnect to
//     another instance with their last event ID and resume. Events queued on
//     a dying connection are not given back to a hold: the stream still has
//     them for the resume. A client that does not send its last event ID
//     gets only what no client's socket took.
//   - A connection that authenticates without a last event ID receives the
//     events held for its user and everything published after the worker
//     registered it; an event published in the instant between Authenticate
//     and that registration, and delivered to another connection of the user
//     meanwhile, may be missed by it.
//   - Broadcasts and events for single connections are not kept: an instance
//     that is cut from Redis when one is published does not get it.
//   - Nothing blocks forever: Notify, Hub.Connected and Hub.ConnIDs each
//     return within OpTimeout, and Close within one OpTimeout, even while
//     Redis is frozen (a stopped process, a silent network) and whatever
//     the client's own timeouts. go-redis honours a context's deadline only
//     with ContextTimeoutEnabled; for a client without it, the broker talks
//     through a client of its own made from the client's options with it
//     set (its own connections, none of the client's hooks). Set
//     ContextTimeoutEnabled on the client to have the broker use it as is.
package redisbroker
