package facade

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// HubOptions configures a Hub. The zero value of every field means its
// default; a nil *HubOptions means all defaults.
type HubOptions struct {
	// ReadyTimeout bounds the time from Accept to Ready. A connection that
	// does not get there goes Failed and is closed with CloseReadyTimeout;
	// its queued events go back to its user's and threads' holds. It may
	// be longer than PongTimeout: a connection is kept alive before Ready
	// as after it. Default 10s; 30s on Cloud Run.
	ReadyTimeout time.Duration

	// WriteTimeout bounds one write to a client. Default 10s; 30s on Cloud Run.
	WriteTimeout time.Duration

	// PingInterval is how often a connection is pinged, from Accept on
	// (Ready does not restart it). It must be under PongTimeout, with room
	// for the client's answer (half of it is a safe choice); one that is
	// not is corrected to PongTimeout/2 (see [NewHub]). Default 25s, or
	// PongTimeout/2 when that is less.
	PingInterval time.Duration

	// PongTimeout is how long a connection may stay silent (no message,
	// ping or pong) before it is failed, before Ready as after it.
	// Default 60s; 90s on Cloud Run; at least 2×PingInterval when only
	// PingInterval is set.
	PongTimeout time.Duration

	// MaxMessageBytes is the largest client message accepted; a larger one
	// closes the connection with 1009 (message too big). Default 64 KiB.
	MaxMessageBytes int64

	// MaxQueueBytes bounds the bytes queued for one connection. A
	// connection not ready yet refuses an event past it with a *HoldError.
	// A ready connection whose queue is past it is a slow consumer once its
	// socket has taken nothing for SlowConsumerAfter: it is closed with
	// CloseSlowConsumer, and what it did not get is held for its user's or
	// thread's next connection. Default 1 MiB.
	MaxQueueBytes int

	// SlowConsumerAfter is how long a ready connection's queue may stay
	// past MaxQueueBytes while its socket takes nothing before it is
	// closed as a slow consumer. A client that reads, however far behind a
	// burst, is not slow. Default 5s.
	SlowConsumerAfter time.Duration

	// HardQueueBytes is the bound no queue passes: past it, a ready
	// connection refuses the event with a *HoldError (Stats.Rejected), so
	// a burst that outruns even a reading client is never lost silently.
	// Default 4×MaxQueueBytes; never less than MaxQueueBytes.
	HardQueueBytes int

	// HoldBytes bounds the bytes held for one user or thread that has no
	// live connection. Past it, Notify returns a *HoldError. Default 1 MiB.
	HoldBytes int

	// HoldTTL bounds the age of a held event. Older ones are discarded and
	// counted in Stats.Expired. Default 2m; 5m on Cloud Run.
	HoldTTL time.Duration

	// MaxConnsPerUser bounds the live connections of one user; Authenticate
	// refuses the next one with ErrTooManyConns. Default 10.
	MaxConnsPerUser int

	// CheckOrigin is the upgrader's origin check; nil means same origin.
	CheckOrigin func(r *http.Request) bool

	// OnStateChange, if set, is called after every transition of every
	// connection, in order per hub, on a goroutine of the hub's own: a
	// callback that panics is recovered and logged, one that blocks delays
	// later callbacks but never a transition or a write.
	OnStateChange func(c *Conn, t Transition)

	// Logger receives the hub's rare logs (slow consumers, failures,
	// recovered panics). Default slog.Default().
	Logger *slog.Logger

	// Now is the clock for timestamps and hold ages. Default time.Now.
	Now func() time.Time

	// Broker carries events between the hubs of several processes (see
	// facade/redisbroker). Nil is the in-process default: this hub routes
	// and holds every event itself. The hub owns the Broker: Hub.Close
	// closes it.
	Broker Broker
}

// AcceptOptions configures one connection. nil means defaults.
type AcceptOptions struct {
	// ID names the connection; default a random, unique ID.
	ID string

	// OnMessage receives the client's messages. It is the one path inbound
	// messages take, and it is never called before the connection is
	// ProcessingReady: messages that arrive earlier wait, in order. It is
	// called from the connection's reader goroutine, one message at a time;
	// ctx is done when the connection closes. Nil discards client messages.
	OnMessage func(ctx context.Context, c *Conn, msgType int, data []byte)

	// SkipSteps lets the connection jump forward over readiness steps
	// (Accepted → ProcessingReady without Authenticate), for endpoints with
	// no user. Off by default: a skipped step is an error.
	SkipSteps bool

	// ResponseHeader is added to the upgrade response.
	ResponseHeader http.Header

	// LastEventID is the ID of the last event the client received before it
	// reconnected. With a Broker that keeps events, the connection's user
	// events resume right after it, on whichever hub it lands. Empty means
	// the request's Last-Event-ID header or, failing that, its last_event_id
	// query parameter (browsers cannot set headers on a WebSocket).
	LastEventID string

	// EventIDs opts the connection in to event IDs on the wire: each event a
	// Broker delivered carries its ID as an "event_id" member (right after
	// "type" in typed events, first in others; a Raw event that is not a
	// JSON object carries none), the value the client sends back as its
	// last event ID. It is the only "event_id" member on the wire: a Raw or
	// Critical payload's own top-level "event_id" is left out on these
	// connections (put the application's ID under another name). Off by
	// default, so the legacy envelope stays byte for byte the same,
	// payload's "event_id" included.
	EventIDs bool
}

// Close codes the facade sends, beside the standard ones.
const (
	// CloseSlowConsumer: the client's queue passed MaxQueueBytes and its
	// socket took nothing for SlowConsumerAfter.
	CloseSlowConsumer = 4008
	// CloseReadyTimeout: the connection did not become ready in ReadyTimeout.
	CloseReadyTimeout = 4009
	// CloseHubShutdown: the hub is closing.
	CloseHubShutdown = 1001 // going away
)

// onCloudRun reports whether the process runs on Cloud Run, where cold
// starts and the front end's buffering make every step slower.
func onCloudRun() bool { return os.Getenv("K_SERVICE") != "" }

// Validate reports options that contradict each other: a negative value,
// a PingInterval not under PongTimeout (an idle client that answers every
// ping would still time out) when both are set, or a HardQueueBytes under
// MaxQueueBytes. Zero fields are defaults and never
// contradict: a default is derived from the fields that are set.
func (o *HubOptions) Validate() error {
	if o == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ReadyTimeout", o.ReadyTimeout}, {"WriteTimeout", o.WriteTimeout},
		{"PingInterval", o.PingInterval}, {"PongTimeout", o.PongTimeout},
		{"HoldTTL", o.HoldTTL}, {"SlowConsumerAfter", o.SlowConsumerAfter},
	} {
		if d.v < 0 {
			return fmt.Errorf("%w: %s %v is negative", ErrInvalidOptions, d.name, d.v)
		}
	}
	if o.PingInterval > 0 && o.PongTimeout > 0 && o.PingInterval >= o.PongTimeout {
		return fmt.Errorf("%w: PingInterval %v is not under PongTimeout %v: an idle client that answers every ping would still time out",
			ErrInvalidOptions, o.PingInterval, o.PongTimeout)
	}
	if o.MaxQueueBytes > 0 && o.HardQueueBytes > 0 && o.HardQueueBytes < o.MaxQueueBytes {
		return fmt.Errorf("%w: HardQueueBytes %d is less than MaxQueueBytes %d", ErrInvalidOptions, o.HardQueueBytes, o.MaxQueueBytes)
	}
	return nil
}

// withDefaults returns a copy of o with every zero field set. The timing
// fields are consistent afterwards: PingInterval < PongTimeout.
func (o *HubOptions) withDefaults() HubOptions {
	var r HubOptions
	if o != nil {
		r = *o
	}
	cloud := onCloudRun()
	pick := func(d *time.Duration, local, cloudRun time.Duration) {
		if *d <= 0 {
			*d = local
			if cloud {
				*d = cloudRun
			}
		}
	}
	pick(&r.ReadyTimeout, 10*time.Second, 30*time.Second)
	pick(&r.WriteTimeout, 10*time.Second, 30*time.Second)
	pick(&r.HoldTTL, 2*time.Minute, 5*time.Minute)
	pick(&r.SlowConsumerAfter, 5*time.Second, 5*time.Second)
	switch {
	case r.PongTimeout <= 0 && r.PingInterval > 0:
		r.PongTimeout = max(60*time.Second, 2*r.PingInterval)
		if cloud {
			r.PongTimeout = max(90*time.Second, 2*r.PingInterval)
		}
	default:
		pick(&r.PongTimeout, 60*time.Second, 90*time.Second)
	}
	if r.PingInterval <= 0 || r.PingInterval >= r.PongTimeout {
		r.PingInterval = min(25*time.Second, r.PongTimeout/2)
	}
	if r.MaxMessageBytes <= 0 {
		r.MaxMessageBytes = 64 << 10
	}
	if r.MaxQueueBytes <= 0 {
		r.MaxQueueBytes = 1 << 20
	}
	if r.HardQueueBytes <= 0 {
		r.HardQueueBytes = 4 * r.MaxQueueBytes
	}
	r.HardQueueBytes = max(r.HardQueueBytes, r.MaxQueueBytes)
	if r.HoldBytes <= 0 {
		r.HoldBytes = 1 << 20
	}
	if r.MaxConnsPerUser <= 0 {
		r.MaxConnsPerUser = 10
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}
