package facade

import (
	"testing"
	"time"
)

func TestAppendTimestampMatchesTimeFormat(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{
		time.Date(2025, 9, 1, 12, 30, 45, 123456789, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", 5*3600)),
		time.Unix(0, 0),
	} {
		want := tm.UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
		if got := string(appendTimestamp(nil, tm)); got != want {
			t.Errorf("appendTimestamp(%v) = %s, want %s", tm, got, want)
		}
	}
}
