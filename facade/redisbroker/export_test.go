package redisbroker

import "time"

// SetMarkDelay sets the delay of o's mark batches, so that a test can make
// one batch outlast it.
func SetMarkDelay(o *Options, d time.Duration) { o.markDelay = d }
