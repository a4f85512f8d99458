package digest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/pusherapp/digest"
)

// recorder is a Pusher that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	all    []string
	pushed chan struct{}
}

func (r *recorder) Push(string, []byte) error { panic("the digest goes to everyone") }

func (r *recorder) PushAll(payload []byte) {
	r.mu.Lock()
	r.all = append(r.all, string(payload))
	r.mu.Unlock()
	select {
	case r.pushed <- struct{}{}:
	default:
	}
}

func (r *recorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.all...)
}

func TestSendCountsTheNoticesSinceTheLastDigest(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	j := digest.New(r)
	j.Noticed()
	j.Noticed()
	require.NoError(t, j.Send())
	require.NoError(t, j.Send())
	assert.Equal(t, []string{`{"type":"digest","notices":2}`, `{"type":"digest","notices":0}`}, r.sent())
}

func TestRunSendsUntilCancelled(t *testing.T) {
	t.Parallel()
	r := &recorder{pushed: make(chan struct{}, 1)}
	j := digest.New(r)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx, time.Millisecond) }()
	for range 2 {
		select {
		case <-r.pushed:
		case <-time.After(10 * time.Second):
			t.Fatal("no digest sent")
		}
	}
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.GreaterOrEqual(t, len(r.sent()), 2)
}
