package redisbroker_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives its test: every
// broker goroutine is owned and stopped by Close. go-redis's own log lines
// (dial failures the fault tests provoke on purpose) are silenced.
func TestMain(m *testing.M) {
	redis.SetLogger(discard{})
	goleak.VerifyTestMain(m)
}

type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}
