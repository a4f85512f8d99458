//go:build !linux

package facade_test

import "time"

// threadCPU is not measured here: see threadcpu_linux_test.go.
func threadCPU() (time.Duration, bool) { return 0, false }

// processCPU is not measured here: see threadcpu_linux_test.go.
func processCPU() (time.Duration, bool) { return 0, false }
