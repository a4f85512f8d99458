package facade

import (
	"slices"
	"testing"
)

// The flusher's line reuses its array: a connection added when the array
// is full and its front already taken slides the rest down, in order,
// instead of growing it.
func TestFlusherLineSlidesInsteadOfGrowing(t *testing.T) {
	h := &Hub{}
	f := &flusher{max: 0} // starts no goroutine: the line is only filled
	conns := make([]*Conn, 6)
	for i := range conns {
		conns[i] = &Conn{id: string(rune('a' + i))}
	}
	f.pending = make([]*Conn, 0, 4)
	for _, c := range conns[:4] {
		f.add(h, c)
	}
	f.head = 2 // a flusher took a and b
	clear(f.pending[:2])
	f.add(h, conns[4])
	f.add(h, conns[5])
	if cap(f.pending) != 4 {
		t.Fatalf("the line grew to %d", cap(f.pending))
	}
	if !slices.Equal(f.pending[f.head:], conns[2:]) {
		t.Fatalf("line %v, want c d e f in order", f.pending[f.head:])
	}
}
