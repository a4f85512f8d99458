//go:build race

package facade_test

// raceEnabled reports a build with the race detector, which changes
// allocation counts.
const raceEnabled = true
