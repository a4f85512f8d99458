package queue

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBoundIsInBytes(t *testing.T) {
	t.Parallel()
	q := New[string](10)
	require.True(t, q.Push("a", 4))
	require.True(t, q.Push("b", 6))
	require.False(t, q.Push("c", 1), "full at 10 bytes")
	assert.Equal(t, 2, q.Len())
	assert.Equal(t, 10, q.Bytes())
	v, ok := q.Pop()
	require.True(t, ok)
	assert.Equal(t, "a", v)
	assert.True(t, q.Push("c", 4))
	small := New[int](3)
	assert.False(t, small.Fits(4), "an item larger than the bound never fits")
}

func TestFIFOAcrossCompaction(t *testing.T) {
	t.Parallel()
	var q Queue[int] // unbounded zero value
	next := 0
	for i := range 1000 {
		q.Push(i, 1)
		if i%3 == 0 {
			v, ok := q.Pop()
			require.True(t, ok)
			require.Equal(t, next, v)
			next++
		}
	}
	for _, v := range q.Drain(nil) {
		require.Equal(t, next, v)
		next++
	}
	assert.Equal(t, 1000, next)
	assert.Zero(t, q.Len())
	assert.Zero(t, q.Bytes())
	assert.Nil(t, q.slots, "an empty queue keeps no backing array")
}

func TestPopBatchTakesAtLeastOne(t *testing.T) {
	t.Parallel()
	q := New[string](0)
	q.Push("huge", 100)
	q.Push("a", 1)
	q.Push("b", 1)
	assert.Equal(t, []string{"huge"}, q.PopBatch(nil, 10))
	assert.Equal(t, []string{"a", "b"}, q.PopBatch(nil, 10))
	assert.Empty(t, q.PopBatch(nil, 10))
}

func TestPushFrontKeepsOrderAndIgnoresBound(t *testing.T) {
	t.Parallel()
	q := New[int](2)
	q.Push(3, 1)
	q.Push(4, 1)
	q.PushFront([]int{1, 2}, []int{1, 1})
	assert.Equal(t, 4, q.Bytes())
	assert.Equal(t, []int{1, 2, 3, 4}, q.Drain(nil))
}

func TestDropWhile(t *testing.T) {
	t.Parallel()
	var q Queue[int]
	for i := range 5 {
		q.Push(i, 10)
	}
	n, b := q.DropWhile(func(v int) bool { return v < 3 })
	assert.Equal(t, 3, n)
	assert.Equal(t, 30, b)
	assert.Equal(t, 20, q.Bytes())
	v, _, ok := q.Front()
	require.True(t, ok)
	assert.Equal(t, 3, v)
}

// An emptied queue keeps small arrays, so a connection that gets one event
// at a time pushes without allocating, and gives large ones back, so a
// burst does not stay in memory after it is written.
func TestEmptiedQueueKeepsOnlySmallArrays(t *testing.T) {
	q := New[int](0)
	q.Push(1, 1)
	q.Pop()
	assert.Zero(t, q.Len())
	assert.Positive(t, cap(q.slots), "a small array is kept")
	for range 3 {
		q.Push(2, 1)
		assert.Equal(t, []int{2}, q.Drain(nil))
	}
	assert.LessOrEqual(t, cap(q.slots), keptItems)

	for i := range 100 {
		q.Push(i, 1)
	}
	assert.Len(t, q.Drain(nil), 100)
	assert.Nil(t, q.slots, "a large array is released")
	assert.Zero(t, q.Bytes())
}

// A consumer taking turns keeps the emptied queue's array, however large,
// for the producer's next pushes; Trim gives it back once the turns end,
// and keeps what an emptied queue keeps anyway.
func TestTakeBatchKeepsTheArrayUntilTrim(t *testing.T) {
	q := New[int](0)
	for i := range 100 {
		q.Push(i, 1)
	}
	got := q.TakeBatch(nil, 1<<30)
	assert.Len(t, got, 100)
	assert.Zero(t, q.Len())
	assert.Zero(t, q.Bytes())
	kept := cap(q.slots)
	assert.GreaterOrEqual(t, kept, 100, "the emptied array is kept")
	for i := range 50 {
		q.Push(i, 1)
	}
	assert.Equal(t, kept, cap(q.slots), "pushes write into the kept array")
	assert.Equal(t, []int{0, 1, 2}, q.TakeBatch(nil, 3), "a batch stops at its bytes")
	q.Trim(0)
	assert.Equal(t, 47, q.Len(), "Trim leaves a queue with items alone")
	assert.Equal(t, 47, len(q.TakeBatch(nil, 1<<30)))
	q.Trim(kept)
	assert.Equal(t, kept, cap(q.slots), "an array of up to keep slots stays")
	q.Trim(kept - 1)
	assert.Nil(t, q.slots, "a larger emptied array is given back")

	q.Push(1, 1)
	assert.Equal(t, []int{1}, q.TakeBatch(nil, 10))
	q.Trim(0)
	assert.Positive(t, cap(q.slots), "a small one is kept, as an emptied queue keeps it")
}
