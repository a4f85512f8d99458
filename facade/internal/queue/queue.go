// Package queue is a FIFO bounded by the bytes it holds, not by a slot count.
//
// It knows nothing about the network: the caller decides what an overflow
// means (hold, reject, disconnect). A queue that never held an item has no
// backing array; an emptied one keeps its arrays only while they are small
// (keptItems), so the next push allocates nothing and an idle connection
// pays at most for those few slots.
//
// A Queue is not safe for concurrent use; its owner guards it with a lock.
package queue

// Queue is a byte-bounded FIFO of T. The zero value is an unbounded, empty
// queue; use New to set a bound.
type Queue[T any] struct {
	items []T
	sizes []int
	head  int
	bytes int
	max   int
}

// New returns an empty queue that refuses a push which would take it above
// maxBytes. maxBytes <= 0 means no bound.
func New[T any](maxBytes int) Queue[T] {
	return Queue[T]{max: maxBytes}
}

// Len reports the number of items queued.
func (q *Queue[T]) Len() int { return len(q.items) - q.head }

// Bytes reports the bytes queued, as given to Push.
func (q *Queue[T]) Bytes() int { return q.bytes }

// Max reports the byte bound (0: none).
func (q *Queue[T]) Max() int { return q.max }

// Fits reports whether an item of n bytes can be pushed now.
func (q *Queue[T]) Fits(n int) bool {
	return q.max <= 0 || q.bytes+n <= q.max
}

// Push appends v, accounted as n bytes. It reports false, and queues nothing,
// if v does not fit under the bound. An item larger than the bound never fits.
func (q *Queue[T]) Push(v T, n int) bool {
	if !q.Fits(n) {
		return false
	}
	q.items = append(q.items, v)
	q.sizes = append(q.sizes, n)
	q.bytes += n
	return true
}

// Front returns the oldest item and its size without removing it.
func (q *Queue[T]) Front() (v T, n int, ok bool) {
	if q.Len() == 0 {
		return v, 0, false
	}
	return q.items[q.head], q.sizes[q.head], true
}

// Pop removes and returns the oldest item.
func (q *Queue[T]) Pop() (v T, ok bool) {
	if q.Len() == 0 {
		return v, false
	}
	v = q.items[q.head]
	var zero T
	q.items[q.head] = zero
	q.bytes -= q.sizes[q.head]
	q.head++
	q.compact()
	return v, true
}

// PopBatch moves items, oldest first, onto dst until their sizes sum past
// maxBytes; it always moves at least one item when any is queued, so an item
// larger than maxBytes is not stuck. It returns the extended dst.
func (q *Queue[T]) PopBatch(dst []T, maxBytes int) []T {
	var zero T
	taken := 0
	for q.head < len(q.items) {
		n := q.sizes[q.head]
		if taken > 0 && taken+n > maxBytes {
			break
		}
		dst = append(dst, q.items[q.head])
		q.items[q.head] = zero
		q.bytes -= n
		taken += n
		q.head++
	}
	q.compact()
	return dst
}

// Drain removes every item, oldest first, onto dst and returns it.
func (q *Queue[T]) Drain(dst []T) []T {
	return q.PopBatch(dst, int(^uint(0)>>1))
}

// PushFront puts vs (with sizes ns) before everything queued, keeping their
// order. It ignores the bound: it gives back items that were already
// accounted for elsewhere, and losing them is worse than exceeding it.
func (q *Queue[T]) PushFront(vs []T, ns []int) {
	if len(vs) == 0 {
		return
	}
	items := make([]T, 0, len(vs)+q.Len())
	sizes := make([]int, 0, len(vs)+q.Len())
	items = append(append(items, vs...), q.items[q.head:]...)
	sizes = append(append(sizes, ns...), q.sizes[q.head:]...)
	for _, n := range ns {
		q.bytes += n
	}
	q.items, q.sizes, q.head = items, sizes, 0
}

// DropWhile removes items from the front while drop reports true for them,
// and returns how many it removed and their bytes.
func (q *Queue[T]) DropWhile(drop func(T) bool) (count, bytes int) {
	var zero T
	for q.head < len(q.items) && drop(q.items[q.head]) {
		bytes += q.sizes[q.head]
		q.items[q.head] = zero
		q.head++
		count++
	}
	q.bytes -= bytes
	q.compact()
	return count, bytes
}

// keptItems is the most slots an emptied queue keeps for its next push.
const keptItems = 4

// compact empties the queue once its items are consumed, keeping small
// arrays for reuse and releasing larger ones, and slides the live part down
// once the consumed head dominates, so memory follows what is queued.
func (q *Queue[T]) compact() {
	switch {
	case q.head == len(q.items) && cap(q.items) <= keptItems && cap(q.sizes) <= keptItems:
		q.items, q.sizes, q.head = q.items[:0], q.sizes[:0], 0 // consumed slots are zeroed already
	case q.head == len(q.items):
		q.items, q.sizes, q.head = nil, nil, 0
	case q.head > 32 && q.head*2 >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		copy(q.sizes, q.sizes[q.head:])
		var zero T
		for i := n; i < len(q.items); i++ {
			q.items[i] = zero
		}
		q.items, q.sizes, q.head = q.items[:n], q.sizes[:n], 0
	}
}
