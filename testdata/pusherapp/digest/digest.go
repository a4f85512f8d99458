// Package digest is pushd's periodic job: it tells every connected user how
// many notices the service sent since the last digest.
package digest

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"example.com/pusherapp/push"
)

// Job counts notices and pushes the digest to everyone. Its methods may be
// called from any goroutine.
type Job struct {
	pusher  push.Pusher
	notices atomic.Int64
}

// New returns a job that pushes through p.
func New(p push.Pusher) *Job { return &Job{pusher: p} }

// Noticed counts one notice for the next digest.
func (j *Job) Noticed() { j.notices.Add(1) }

// Message is the digest on the wire.
type Message struct {
	Type    string `json:"type"` // "digest"
	Notices int64  `json:"notices"`
}

// Send pushes the digest now and starts a new count.
func (j *Job) Send() error {
	payload, err := json.Marshal(Message{Type: "digest", Notices: j.notices.Swap(0)})
	if err != nil {
		return err
	}
	j.pusher.PushAll(payload)
	return nil
}

// Run sends the digest every interval until ctx is done.
func (j *Job) Run(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if err := j.Send(); err != nil {
				return err
			}
		}
	}
}
