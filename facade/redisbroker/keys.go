package redisbroker

import (
	"github.com/redis/go-redis/v9"

	"github.com/wsunify/wsunify/facade"
)

// Keys of one user or thread share a hash tag, so that a Redis Cluster keeps
// them in one slot and the publish script may touch them together:
//
//	<prefix>:{user:u1}:s   the stream of the user's events (held and recent)
//	<prefix>:{user:u1}:d   the ID of the newest event a client's socket took
//	<prefix>:{user:u1}:p   presence: a sorted set of connection IDs scored by expiry (ms)
//	<prefix>:c:user:u1     the pub/sub channel of the user's live events
//	<prefix>:c:all         the channel of broadcasts
//	<prefix>:{epoch:0}     a random token, no expiry: gone means Redis lost its data (epoch.go)
//	<prefix>:{epoch:0}:g   a generation every check increments, no expiry: lower means Redis went back
//
// On a Redis Cluster there is one epoch per master, the first
// <prefix>:{epoch:N} in its slots.
//
// On a Redis Cluster the channels are sharded channels with the target's
// hash tag, in the slot of its keys, so that the script publishes on them:
//
//	<prefix>:{user:u1}:c   the sharded channel of the user's live events
//	<prefix>:{all}:c       the sharded channel of broadcasts
func (b *Broker) streamKey(t facade.Target) string { return b.o.Prefix + ":{" + t.String() + "}:s" }
func (b *Broker) markKey(t facade.Target) string   { return b.o.Prefix + ":{" + t.String() + "}:d" }
func (b *Broker) presenceKey(user string) string   { return b.o.Prefix + ":{user:" + user + "}:p" }

func (b *Broker) channel(t facade.Target) string {
	if b.cluster {
		return b.o.Prefix + ":{" + t.String() + "}:c"
	}
	return b.o.Prefix + ":c:" + t.String()
}

func (b *Broker) broadcastChannel() string {
	if b.cluster {
		return b.o.Prefix + ":{all}:c"
	}
	return b.o.Prefix + ":c:all"
}

// pubsub returns the commands that publish and count subscribers: sharded
// ones on a cluster.
func (b *Broker) pubsub() (publish, numsub string) {
	if b.cluster {
		return "SPUBLISH", "SHARDNUMSUB"
	}
	return "PUBLISH", "NUMSUB"
}

// hasStream reports whether t's events are kept in a stream: users and
// threads are; connections and broadcasts are live only, as in one hub.
func hasStream(t facade.Target) bool {
	return t == facade.ToUser(t.ID()) || t == facade.ToThread(t.ID())
}

// lessLua compares two stream IDs in Lua.
const lessLua = `
local function less(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams, bms = tonumber(ams), tonumber(bms)
  if ams ~= bms then return ams < bms end
  return tonumber(aseq) < tonumber(bseq)
end
`

// publishScript appends an event to a target's stream and publishes it, in
// one atomic step, so that the stream order is the pub/sub order.
//
// KEYS: stream, delivered mark. ARGV: channel, event, max entries, TTL ms,
// publish command, its subscriber count's PUBSUB subcommand (see pubsub).
// It first drops entries older than the TTL; then, when the stream is at
// its bound, no instance listens on the channel, and the oldest entry was
// never delivered to a ready connection, it refuses the event
// (WSUNIFY_HOLDFULL) rather than drop a held one. (While an instance
// listens, the events flow to it live and the oldest may be trimmed; the
// delivered mark lags behind them.) It returns the new entry's ID.
var publishScript = newOnceScript(lessLua + `
local max, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-0', now - ttl))
if redis.call('XLEN', KEYS[1]) >= max and redis.call('PUBSUB', ARGV[6], ARGV[1])[2] == 0 then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]
  local mark = redis.call('GET', KEYS[2])
  if (not mark) or less(mark, first) then
    return redis.error_reply('WSUNIFY_HOLDFULL hold full')
  end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', max, '*', 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call(ARGV[5], ARGV[1], id .. ' ' .. ARGV[2])
return id
`)

// markScript raises a delivered mark, never lowers it, and keeps it alive
// as long as the stream. KEYS: mark. ARGV: ID, TTL ms.
var markScript = redis.NewScript(lessLua + `
local cur = redis.call('GET', KEYS[1])
if (not cur) or less(cur, ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`)
