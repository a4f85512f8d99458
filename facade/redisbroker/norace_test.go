//go:build !race

package redisbroker_test

// raceEnabled reports a build with the race detector, whose
// instrumentation slows every step several times.
const raceEnabled = false
