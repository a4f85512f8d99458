package metrics_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/metrics"
)

// TestHubTable holds the table to what its doc promises: numbers sharing a
// name are adjacent, labelled alike, of one kind, with their help on the
// first; counters, and only they, end in _total.
func TestHubTable(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for i, m := range metrics.Hub {
		first := i == 0 || metrics.Hub[i-1].Name != m.Name
		if first {
			assert.False(t, seen[m.Name], "%s: not adjacent to the others of its name", m.Name)
			assert.NotEmpty(t, m.Help, "%s: no help", m.Name)
		} else {
			prev := metrics.Hub[i-1]
			assert.Equal(t, prev.Kind, m.Kind, "%s: two kinds", m.Name)
			assert.Equal(t, prev.Label, m.Label, "%s: two labels", m.Name)
			assert.NotEmpty(t, m.Label, "%s: twice without a label", m.Name)
			assert.NotEqual(t, prev.LabelValue, m.LabelValue, "%s: one label value twice", m.Name)
		}
		seen[m.Name] = true
		assert.Equal(t, m.Kind == metrics.Counter, strings.HasSuffix(m.Name, "_total"), "%s", m.Name)
		assert.Contains(t, []metrics.Kind{metrics.Gauge, metrics.Counter}, m.Kind, "%s", m.Name)
		assert.NotNil(t, m.Value, "%s", m.Name)
	}
	// The two connection numbers add up to Conns.
	s := facade.Stats{Conns: 5, Ready: 3}
	var conns float64
	for _, m := range metrics.Hub {
		if m.Name == "connections" {
			conns += m.Value(s)
		}
	}
	assert.Equal(t, float64(5), conns)
}
