package facade

import (
	"context"
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
	// its queued events go back to its user's and threads' holds.
	// Default 10s; 30s on Cloud Run.
	ReadyTimeout time.Duration

	// WriteTimeout bounds one write to a client. Default 10s; 30s on Cloud Run.
	WriteTimeout time.Duration

	// PingInterval is how often a ready connection is pinged. It must be less
	// than PongTimeout. Default 25s.
	PingInterval time.Duration

	// PongTimeout is how long a connection may stay silent (no message, no
	// pong) before it is closed. Default 60s; 90s on Cloud Run.
	PongTimeout time.Duration

	// MaxMessageBytes is the largest client message accepted; a larger one
	// closes the connection with 1009 (message too big). Default 64 KiB.
	MaxMessageBytes int64

	// MaxQueueBytes bounds the bytes queued for one connection. Past it, a
	// ready connection is disconnected with CloseSlowConsumer; a connection
	// not ready yet refuses the event with a *HoldError. Default 1 MiB.
	MaxQueueBytes int

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
	// last event ID. Off by default, so the legacy envelope stays byte for
	// byte the same.
	EventIDs bool
}

// Close codes the facade sends, beside the standard ones.
const (
	// CloseSlowConsumer: the client did not read fast enough and its queue
	// passed MaxQueueBytes.
	CloseSlowConsumer = 4008
	// CloseReadyTimeout: the connection did not become ready in ReadyTimeout.
	CloseReadyTimeout = 4009
	// CloseHubShutdown: the hub is closing.
	CloseHubShutdown = 1001 // going away
)

// onCloudRun reports whether the process runs on Cloud Run, where cold
// starts and the front end's buffering make every step slower.
func onCloudRun() bool { return os.Getenv("K_SERVICE") != "" }

// withDefaults returns a copy of o with every zero field set.
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
	pick(&r.PingInterval, 25*time.Second, 25*time.Second)
	pick(&r.PongTimeout, 60*time.Second, 90*time.Second)
	pick(&r.HoldTTL, 2*time.Minute, 5*time.Minute)
	if r.PingInterval >= r.PongTimeout {
		r.PingInterval = r.PongTimeout * 9 / 10
	}
	if r.MaxMessageBytes <= 0 {
		r.MaxMessageBytes = 64 << 10
	}
	if r.MaxQueueBytes <= 0 {
		r.MaxQueueBytes = 1 << 20
	}
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
