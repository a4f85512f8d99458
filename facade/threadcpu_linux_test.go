//go:build linux

package facade_test

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used, user and
// system. A benchmark that locks its goroutine to its thread measures with
// it what its own calls cost in CPU, whatever else runs on the machine: a
// loaded machine stretches wall time, not this.
func threadCPU() (time.Duration, bool) {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// processCPU returns the CPU time the whole process has used: with a
// fan-out's clients in the process, what writing and reading cost
// together, on every thread (the flushers' too).
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
