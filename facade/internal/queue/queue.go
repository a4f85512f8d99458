// Package queue is a FIFO bounded by the bytes it holds, not by a slot count.
//
// It knows nothing about the network: the caller decides what an overflow
// means (hold, reject, disconnect). A queue that never held an item has no
// backing array; an emptied one keeps its array only while it is small
// (keptItems), so the next push allocates nothing and an idle connection
// pays at most for those few slots.
//
// A Queue is not safe for concurrent use; its owner guards it with a lock.
package queue

// Queue is a byte-bounded FIFO of T. The zero value is an unbounded, empty
// queue; use New to set a bound.
type Queue[T any] struct {
	slots []slot[T] // an item beside its size: a push writes one array
	head  int
	bytes int
	max   int
}

type slot[T any] struct {
	v T
	n int
}

// New returns an empty queue that refuses a push which would take it above
// maxBytes. maxBytes <= 0 means no bound.
func New[T any](maxBytes int) Queue[T] {
	return Queue[T]{max: maxBytes}
}

// Len reports the number of items queued.
func (q *Queue[T]) Len() int { return len(q.slots) - q.head }

// Cap reports how many items the queue's array holds without growing.
func (q *Queue[T]) Cap() int { return cap(q.slots) - q.head }

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
	q.slots = append(q.slots, slot[T]{v, n})
	q.bytes += n
	return true
}

// Front returns the oldest item and its size without removing it.
func (q *Queue[T]) Front() (v T, n int, ok bool) {
	if q.Len() == 0 {
		return v, 0, false
	}
	return q.slots[q.head].v, q.slots[q.head].n, true
}

// Pop removes and returns the oldest item.
func (q *Queue[T]) Pop() (v T, ok bool) {
	if q.Len() == 0 {
		return v, false
	}
	s := q.slots[q.head]
	q.slots[q.head] = slot[T]{}
	q.bytes -= s.n
	q.head++
	q.compact()
	return s.v, true
}

// PopBatch moves items, oldest first, onto dst until their sizes sum past
// maxBytes; it always moves at least one item when any is queued, so an item
// larger than maxBytes is not stuck. It returns the extended dst.
func (q *Queue[T]) PopBatch(dst []T, maxBytes int) []T {
	dst = q.take(dst, maxBytes)
	q.compact()
	return dst
}

// take moves PopBatch's items onto dst, zeroing their slots, and leaves
// the array as it is.
func (q *Queue[T]) take(dst []T, maxBytes int) []T {
	taken := 0
	for q.head < len(q.slots) {
		s := &q.slots[q.head]
		if taken > 0 && taken+s.n > maxBytes {
			break
		}
		dst = append(dst, s.v)
		q.bytes -= s.n
		taken += s.n
		*s = slot[T]{}
		q.head++
	}
	return dst
}

// TakeBatch is PopBatch for a consumer that takes turns while its
// producer pushes: a queue it empties keeps its array, however large, so
// the pushes of the next turn write into it instead of growing a new one
// from nothing. The consumer calls Trim once it stops taking turns.
func (q *Queue[T]) TakeBatch(dst []T, maxBytes int) []T {
	dst = q.take(dst, maxBytes)
	if q.head == len(q.slots) {
		q.slots, q.head = q.slots[:0], 0 // consumed slots are zeroed already
		return dst
	}
	q.compact()
	return dst
}

// Trim gives back the array of an emptied queue that TakeBatch kept, if
// it has more than keep slots, or than an emptied queue keeps anyway
// (keptItems), whichever is more.
func (q *Queue[T]) Trim(keep int) {
	if q.Len() == 0 && cap(q.slots) > max(keep, keptItems) {
		q.slots, q.head = nil, 0
	}
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
	slots := make([]slot[T], 0, len(vs)+q.Len())
	for i, v := range vs {
		slots = append(slots, slot[T]{v, ns[i]})
		q.bytes += ns[i]
	}
	q.slots, q.head = append(slots, q.slots[q.head:]...), 0
}

// DropWhile removes items from the front while drop reports true for them,
// and returns how many it removed and their bytes.
func (q *Queue[T]) DropWhile(drop func(T) bool) (count, bytes int) {
	for q.head < len(q.slots) && drop(q.slots[q.head].v) {
		bytes += q.slots[q.head].n
		q.slots[q.head] = slot[T]{}
		q.head++
		count++
	}
	q.bytes -= bytes
	q.compact()
	return count, bytes
}

// keptItems is the most slots an emptied queue keeps for its next push.
const keptItems = 4

// compact empties the queue once its items are consumed, keeping a small
// array for reuse and releasing a larger one, and slides the live part down
// once the consumed head dominates, so memory follows what is queued.
func (q *Queue[T]) compact() {
	switch {
	case q.head == len(q.slots) && cap(q.slots) <= keptItems:
		q.slots, q.head = q.slots[:0], 0 // consumed slots are zeroed already
	case q.head == len(q.slots):
		q.slots, q.head = nil, 0
	case q.head > 32 && q.head*2 >= len(q.slots):
		n := copy(q.slots, q.slots[q.head:])
		clear(q.slots[n:])
		q.slots, q.head = q.slots[:n], 0
	}
}
