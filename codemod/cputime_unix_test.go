//go:build unix

package codemod

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time, user and system, of this process and of the
// children it has waited for (the go command the loaders run).
func cpuTime() time.Duration {
	var t time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			t += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return t
}
