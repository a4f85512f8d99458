package facade

import (
	"context"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// closeCause says why a connection ends and how.
type closeCause struct {
	code   int    // the close frame the facade sends; 0: none of its own
	reason string // the close frame's reason
	final  State  // Closed or Failed
	drain  bool   // a ready connection writes what is queued before the close frame
	why    string // for the log, when final is Failed
	quiet  bool   // an everyday failure (the client vanished): logged at Debug
}

// The causes the facade itself decides.
var (
	causeSlow         = closeCause{code: CloseSlowConsumer, reason: "slow consumer", final: Failed, why: "slow consumer"}
	causeReadyTimeout = closeCause{code: CloseReadyTimeout, reason: "not ready in time", final: Failed, why: "not ready within ReadyTimeout"}
	causeShutdown     = closeCause{code: CloseHubShutdown, reason: "hub shutdown", final: Closed, drain: true}
)

// cleanClose reports whether a client's close code ends the connection as
// Closed: a normal closure, going away, no code (what browsers send), or an
// application's code (3000–4999). Other codes report an error: Failed.
func cleanClose(code int) bool {
	switch {
	case code == websocket.CloseNormalClosure, code == websocket.CloseGoingAway,
		code == websocket.CloseNoStatusReceived:
		return true
	}
	return code >= 3000 && code <= 4999
}

// terminate ends a live connection for cause, exactly once: it goes Closing
// at once, and Closed or Failed when the close frame (if any) is out, or
// WriteTimeout passed, and the socket is closed. Calls after the first wait
// for it to end.
func (c *Conn) terminate(cause closeCause) {
	h := c.hub
	h.mu.Lock()
	c.mu.Lock()
	back, ok := c.beginCloseLocked(cause)
	c.mu.Unlock()
	if ok {
		h.unregisterLocked(c)
		h.giveBackLocked(back)
	}
	h.mu.Unlock()
	if !ok {
		<-c.done
		return
	}
	c.finish()
}

// beginCloseLocked takes c to Closing for cause and returns the events to
// give back (all queued ones, unless a ready connection drains them first).
// It reports false if c is not live. Called with hub.mu and c.mu held; the
// caller unregisters c and gives the events back after unlocking c.mu, then
// runs finish (on a goroutine of the hub's when it must not wait).
func (c *Conn) beginCloseLocked(cause closeCause) ([]entry, bool) {
	if !c.state.Live() {
		return nil, false
	}
	wasReady := c.state == ProcessingReady
	_ = c.transitionLocked(Closing) // always legal from a live state
	c.cause = cause
	var back []entry
	if !cause.drain || !wasReady {
		back = c.w.shutLocked()
	}
	if cause.code != 0 {
		c.w.closeLocked(websocket.FormatCloseMessage(cause.code, truncateReason(cause.reason)))
	}
	c.readyTimer.Stop()
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	return back, true
}

// finish completes a close begun by beginCloseLocked: it waits (at most
// WriteTimeout) for the close frame owed, closes the socket, waits for the
// writer to let go, gives back what it left, announces to the broker that c
// left its targets and makes the final transition.
func (c *Conn) finish() {
	h := c.hub
	c.mu.Lock()
	owed := c.w.owesCloseLocked()
	c.mu.Unlock()
	if owed {
		timer := time.NewTimer(h.o.WriteTimeout)
		select {
		case <-c.w.flushed:
		case <-timer.C:
		}
		timer.Stop()
	}
	c.cancel()
	_ = c.wire.Close()
	c.mu.Lock()
	idle := c.w.waitIdleLocked()
	c.mu.Unlock()
	<-idle // prompt: the socket is closed, so a waiting write returns

	h.mu.Lock()
	c.mu.Lock()
	back := c.w.shutLocked()
	c.mu.Unlock()
	h.giveBackLocked(back)
	h.leaveLocked(c) // after the writer's last Written: see WriteObserver
	h.mu.Unlock()

	c.mu.Lock()
	cause := c.cause
	_ = c.transitionLocked(cause.final)
	if cause.final == Failed {
		h.failed.Add(1)
	}
	close(c.done)
	c.mu.Unlock()
	if cause.final == Failed {
		level := slog.LevelWarn
		if cause.quiet {
			level = slog.LevelDebug
		}
		h.o.Logger.Log(context.Background(), level, "facade: connection failed", "conn", c.id, "cause", cause.why)
	}
}

// truncateReason keeps a close reason within a control frame's 125 bytes,
// cut between runes so it stays valid UTF-8.
func truncateReason(r string) string {
	if len(r) <= 123 {
		return r
	}
	r = r[:123]
	for len(r) > 0 && !utf8.ValidString(r) {
		r = r[:len(r)-1]
	}
	return r
}
