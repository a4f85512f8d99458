package facade

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsunify/wsunify/facade/internal/queue"
)

// writer is the one owner of a connection's socket once the handshake is
// done. Every byte written to it goes through the writer: the events of its
// queue, pings, pongs, the close frame, and the control frames gorilla's
// reader would write itself (its pong and close replies are handed over by
// the handlers readLoop installs; the close of a protocol error arrives
// through wireConn.Write). A frame the socket took only part of is finished
// before anything else starts, so control frames go between data frames,
// never inside one.
//
// The writer has two drivers, which never run at once: the hub's flusher
// (flusher.go), which writes what a socket takes at once and never waits,
// and the connection's own goroutine (loop), which takes over when a
// socket is full or the conn has no descriptor and waits, bounded by
// WriteTimeout. At most one driver holds the role (running); an idle
// connection has neither.
//
// Every field is guarded by the Conn's mu and changed only by the methods
// here, except progress, which the waiting driver stores without it.
type writer struct {
	// What every event queued reads (hasWorkLocked, claimLocked) comes
	// first, on one cache line with the queue.
	running   bool // a driver holds the role
	open      bool // events may be written: Ready, until a close that does not drain
	stopped   bool // the close frame is out or a write failed: nothing more is written
	ping      bool // a ping is owed
	pongOwed  bool // a pong is owed
	closeSet  bool // the close frame is decided: from then on no ping or pong
	closeOwed bool // it is still to be taken (not begun); once out, the writer stops

	q queue.Queue[entry] // events for the client, in Notify order
	// raw is the socket's descriptor (wireConn.raw), beside the queue the
	// flusher's take has just read, not behind the wireConn: nil means
	// none, and the conn's goroutine (loop) drives the role, else the
	// flusher does.
	raw     syscall.RawConn
	partial []byte // the rest of a frame the socket took only part of

	partialKind  pieceKind // what that frame is
	partialEntry entry     // its event, given back if the write fails: the client never had it whole

	c        *Conn
	pong     []byte // the pong's payload: the latest ping's (RFC 6455 5.5.3)
	closeMsg []byte // the close frame's payload

	overAt   time.Time    // when the queue passed MaxQueueBytes (zero: under it)
	progress atomic.Int64 // UnixNano of the socket last taking bytes, while over
	flushed  chan struct{}
	idle     chan struct{} // closed when the role is released, if someone waits
}

// entry is a queued message and the target that brought it here.
type entry struct {
	m   *message
	key Target
}

// Writer tuning.
const (
	maxBatchBytes  = 256 << 10 // one write syscall carries at most about this much
	maxPooledBytes = 1 << 20   // larger buffers are not kept for reuse
)

// newWriter returns c's writer. Its queue has no bound of its own: enqueue
// applies the rules (MaxQueueBytes, HardQueueBytes).
func newWriter(c *Conn) writer {
	return writer{c: c, q: queue.New[entry](0), flushed: make(chan struct{}), raw: c.wire.raw}
}

// hasWorkLocked reports whether a driver has something to write.
func (w *writer) hasWorkLocked() bool {
	if w.stopped {
		return false
	}
	return w.partial != nil || w.ping || w.pongOwed || w.closeOwed || (w.open && w.q.Len() > 0)
}

// kickLocked gives the role to a driver if there is work and none has it:
// the flusher when the socket has a descriptor, else the conn's goroutine.
func (w *writer) kickLocked() {
	if w.claimLocked() {
		w.c.hub.flush.add(w.c.hub, w.c)
	}
}

// claimLocked takes the role for a driver if there is work and none has
// it. It starts the conn's goroutine itself, and reports true when the
// driver is the flusher: the caller then puts the conn in its line
// (kickLocked at once; Notify's route by chunks, see schedule).
func (w *writer) claimLocked() (toFlusher bool) {
	if w.running || !w.hasWorkLocked() {
		return false
	}
	w.running = true
	if w.raw != nil && w.partial == nil {
		return true
	}
	w.c.hub.goOwned(w.loop)
	return false
}

// maxIdleSlots is the largest queue array an idle writer keeps until its
// next ping: a stream whose turns empty the queue now and then lets go of
// the role between them, and pushes into the same array when it comes
// back instead of growing one anew each time. A larger array (a burst)
// goes at once.
const maxIdleSlots = 1024

// releaseLocked gives the role up, and with it the queue's array if a
// burst made it large (takeLocked keeps it while the role is held).
func (w *writer) releaseLocked() {
	w.running = false
	w.q.Trim(maxIdleSlots)
	if w.idle != nil {
		close(w.idle)
		w.idle = nil
	}
}

// openLocked lets events flow (Ready).
func (w *writer) openLocked() {
	w.open = true
	w.kickLocked()
}

// pingLocked owes a ping. An idle writer gives back the queue's array
// first: what a stream left is kept for at most one PingInterval.
func (w *writer) pingLocked() {
	if w.closeSet || w.stopped {
		return
	}
	if !w.running {
		w.q.Trim(0)
	}
	w.ping = true
	w.kickLocked()
}

// pongLocked owes a pong with payload; only the latest ping is answered.
func (w *writer) pongLocked(payload []byte) {
	if w.closeSet || w.stopped {
		return
	}
	w.pongOwed, w.pong = true, append(w.pong[:0], payload...)
	w.kickLocked()
}

// closeLocked owes the close frame with payload, after what is queued if
// the writer is still open. The first close owed wins; nothing but the rest
// of a partly written frame goes before it once events are shut.
func (w *writer) closeLocked(payload []byte) {
	if w.closeSet || w.stopped {
		return
	}
	w.closeSet, w.closeOwed, w.closeMsg = true, true, payload
	w.ping, w.pongOwed = false, false
	w.kickLocked()
}

// shutLocked stops events for good and returns those queued, for the
// caller to give back.
func (w *writer) shutLocked() []entry {
	w.open = false
	w.overAt = time.Time{}
	return w.q.Drain(nil)
}

// control accepts a control frame gorilla wrote through wireConn.Write (a
// close after a protocol error): one complete, unmasked server frame.
func (w *writer) control(frame []byte) {
	if len(frame) < 2 || frame[1]&0x7f > 125 {
		return
	}
	payload := append([]byte(nil), frame[2:2+int(frame[1]&0x7f)]...)
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch int(frame[0] & 0x0f) {
	case websocket.CloseMessage:
		w.closeLocked(payload)
	case websocket.PongMessage:
		w.pongLocked(payload)
	}
}

// owesCloseLocked reports whether a close frame is still to go out, whole
// or its rest.
func (w *writer) owesCloseLocked() bool {
	return !w.stopped && (w.closeOwed || (w.partial != nil && w.partialKind == pieceClose))
}

// waitIdleLocked stops the writer for good and returns a channel closed
// once no driver holds the role. The caller unlocks before waiting.
func (w *writer) waitIdleLocked() <-chan struct{} {
	w.stopLocked()
	ch := make(chan struct{})
	if !w.running {
		close(ch)
		return ch
	}
	w.idle = ch
	return ch
}

// stopLocked ends the writer: nothing more is written.
func (w *writer) stopLocked() {
	if !w.stopped {
		w.stopped = true
		close(w.flushed)
	}
}

// piece is one frame of a pass's buffer, ending at end.
type piece struct {
	end   int
	kind  pieceKind
	entry int  // index in the batch, for events
	begun bool // the rest of a frame begun in an earlier pass
}

type pieceKind uint8

const (
	pieceEvent pieceKind = iota
	piecePing
	piecePong
	pieceClose
)

// pass is one write of a driver: what to write, taken under the lock
// (takeLocked), its frames built without it (build), written without it,
// and settled under the lock again. The frames are built outside the lock
// because an event's bytes are read-only once encoded: a Notify waiting
// for the connection's lock waits for the take, not for the copy.
type pass struct {
	buf    []byte
	batch  []entry
	pieces []piece
	pong   []byte

	// What takeLocked took, for build.
	rest      []byte    // the rest of a frame begun in an earlier pass (nil: none)
	restKind  pieceKind // what that frame is; an event's entry is batch[0]
	ping      bool
	pongOwed  bool   // a pong, with payload pong
	events    int    // batch[events:] are the queued events taken
	closeMsg  []byte // the close frame's payload, when closeOwed
	closeOwed bool
}

var passPool = sync.Pool{New: func() any { return &pass{buf: make([]byte, 0, 4096)} }}

func getPass() *pass { return passPool.Get().(*pass) }

func putPass(p *pass) {
	if cap(p.buf) > maxPooledBytes {
		p.buf = make([]byte, 0, 4096)
	}
	p.reset()
	passPool.Put(p)
}

// reset empties p for the next take.
func (p *pass) reset() {
	clear(p.batch)
	*p = pass{buf: p.buf[:0], batch: p.batch[:0], pieces: p.pieces[:0], pong: p.pong[:0]}
}

func (p *pass) add(k pieceKind, entry int) {
	p.pieces = append(p.pieces, piece{end: len(p.buf), kind: k, entry: entry})
}

// takeLocked takes what to write next into p, in wire order: the rest of a
// partly written frame, owed control frames, a batch of events (while
// open), and the close frame once no event is left to go before it. It
// reports false, and releases the role, when there is nothing. The caller
// builds the frames (p.build) once it has released the lock.
func (w *writer) takeLocked(p *pass) bool {
	p.reset()
	if !w.hasWorkLocked() {
		w.releaseLocked()
		return false
	}
	if w.partial != nil {
		p.rest, p.restKind = w.partial, w.partialKind // the writer lets go of it
		if w.partialKind == pieceEvent {
			p.batch = append(p.batch, w.partialEntry)
		}
		w.partial, w.partialEntry = nil, entry{}
	}
	p.ping, w.ping = w.ping, false
	if w.pongOwed {
		p.pongOwed, p.pong = true, append(p.pong[:0], w.pong...)
		w.pongOwed = false
	}
	p.events = len(p.batch)
	if w.open {
		// The queue keeps its array while the role is held: a stream's
		// next events are pushed into it, not into one grown anew.
		p.batch = w.q.TakeBatch(p.batch, maxBatchBytes)
		if w.q.Bytes() <= w.c.hub.o.MaxQueueBytes {
			w.overAt = time.Time{}
		}
	}
	if w.closeOwed && (w.q.Len() == 0 || !w.open) {
		p.closeOwed, p.closeMsg = true, w.closeMsg // set once, never changed
	}
	return true
}

// build writes the frames takeLocked took into p.buf, in wire order, and
// notes where each ends (p.pieces). It reads only p and c's fixed fields
// (encoding, event IDs), so it runs without the lock.
func (p *pass) build(c *Conn) {
	if p.rest != nil {
		p.buf = append(p.buf, p.rest...)
		entry := -1
		if p.restKind == pieceEvent {
			entry = 0
		}
		p.pieces = append(p.pieces, piece{end: len(p.buf), kind: p.restKind, entry: entry, begun: true})
	}
	if p.ping {
		p.buf = appendFrame(p.buf, websocket.PingMessage, "", nil)
		p.add(piecePing, -1)
	}
	if p.pongOwed {
		p.buf = appendFrame(p.buf, websocket.PongMessage, "", p.pong)
		p.add(piecePong, -1)
	}
	for i := p.events; i < len(p.batch); i++ {
		p.buf = c.appendEvent(p.buf, p.batch[i].m)
		p.add(pieceEvent, i)
	}
	if p.closeOwed {
		p.buf = appendFrame(p.buf, websocket.CloseMessage, "", p.closeMsg)
		p.add(pieceClose, -1)
	}
}

// settleLocked accounts for a write of p that put n bytes on the wire and
// ended with err: the frames written whole are done (events counted
// written; the close frame stops the writer); the rest of a frame written in
// part is kept to go first next time; frames not started go back — events
// to the front of the queue, control frames to be owed again. After a write
// error the writer stops and the connection is failed; an event written in
// part goes back too (the client never had it whole), so the close gives
// it back to its hold.
func (w *writer) settleLocked(p *pass, n int, err error) {
	h := w.c.hub
	var written uint64
	var back []entry
	start := 0
	for _, pc := range p.pieces {
		isEvent := pc.kind == pieceEvent
		switch {
		case pc.end <= n:
			if isEvent {
				written++
			}
			if pc.kind == pieceClose {
				w.closeOwed = false
				w.stopLocked()
			}
		case start < n || pc.begun: // begun on the wire, now or in an earlier pass
			if err != nil {
				if isEvent {
					back = append(back, p.batch[pc.entry])
				}
				break
			}
			w.partial = append([]byte(nil), p.buf[max(start, n):pc.end]...)
			w.partialKind = pc.kind
			if isEvent {
				w.partialEntry = p.batch[pc.entry]
			}
			if pc.kind == pieceClose {
				w.closeOwed = false // what is owed of it is its rest
			}
		default: // not started
			switch pc.kind {
			case pieceEvent:
				back = append(back, p.batch[pc.entry])
			case piecePing:
				w.ping = w.ping || !w.closeSet
			case piecePong:
				if !w.pongOwed && !w.closeSet {
					w.pongOwed, w.pong = true, append(w.pong[:0], p.pong...)
				}
			}
		}
		start = pc.end
	}
	if len(back) > 0 {
		sizes := make([]int, len(back))
		for i, e := range back {
			sizes[i] = e.m.size()
		}
		w.q.PushFront(back, sizes)
	}
	w.c.reportWrittenLocked(p.batch[:written]) // the events written whole lead the batch
	clear(p.batch)
	if n > 0 && !w.overAt.IsZero() {
		w.progress.Store(time.Now().UnixNano())
	}
	h.written.Add(written)
	if err != nil && !w.stopped {
		w.stopLocked()
		c := w.c
		h.goOwned(func() {
			c.terminate(closeCause{final: Failed, why: "write: " + err.Error()})
		})
	}
}

// stalledLocked reports whether the queue is over MaxQueueBytes and the
// socket has taken nothing for SlowConsumerAfter: the slow-consumer rule.
// It is asked when an event is queued; the first time the queue is seen
// past the bound starts the clock.
func (w *writer) stalledLocked() bool {
	o := &w.c.hub.o
	if w.q.Bytes() <= o.MaxQueueBytes {
		if !w.overAt.IsZero() {
			w.overAt = time.Time{}
		}
		return false
	}
	now := time.Now()
	if w.overAt.IsZero() {
		w.overAt = now
		w.progress.Store(now.UnixNano())
		return false
	}
	last := time.Unix(0, w.progress.Load())
	return now.Sub(last) > o.SlowConsumerAfter
}

// loop is the driver that waits: it holds the role until there is nothing
// to write, each pass one write call of a batch bounded by WriteTimeout.
func (w *writer) loop() {
	p := getPass()
	defer putPass(p)
	c := w.c
	for {
		c.mu.Lock()
		ok := w.takeLocked(p)
		c.mu.Unlock()
		if !ok {
			return
		}
		p.build(c)
		n, err := c.wire.writeWait(p.buf, &w.progress)
		c.mu.Lock()
		w.settleLocked(p, n, err)
		c.mu.Unlock()
	}
}

// flushTake is the start of the flusher's turn at the writer (batch.flush):
// it takes one batch into p and builds its frames, or reports false, the
// role released, when there is nothing to write.
func (w *writer) flushTake(p *pass) bool {
	c := w.c
	c.mu.Lock()
	ok := w.takeLocked(p)
	c.mu.Unlock()
	if ok {
		p.build(c)
	}
	return ok
}

// flushSettle ends the turn: p was written without waiting, the socket
// taking n bytes. What it did not take moves to the conn's own goroutine
// (loop), which waits for room: the rest of a frame, or frames not begun
// when the socket took nothing. Back in the flusher's line, a full socket
// would be taken and its frames built again and again with nothing
// written: the flusher spinning on it, the other connections waiting for
// their turns behind it. More work puts the conn back in the line.
func (w *writer) flushSettle(p *pass, n int, err error) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	w.settleLocked(p, n, err)
	switch {
	case w.stopped:
		w.releaseLocked()
	case n < len(p.buf): // a frame's rest (partial), or frames not begun
		c.hub.goOwned(w.loop) // the role moves with what the socket did not take
	case w.hasWorkLocked():
		c.hub.flush.add(c.hub, c) // more came: back of the line
	default:
		w.releaseLocked()
	}
}

// appendEvent appends the text frame of m for c's encoding, with the
// broker's event ID when c asked for IDs.
func (c *Conn) appendEvent(buf []byte, m *message) []byte {
	if c.eventIDs && m.id != "" {
		return appendWithID(buf, m, m.id, c.enc)
	}
	return appendFrame(buf, websocket.TextMessage, m.prefix(c.enc), m.body)
}

// appendFrame appends one unmasked, final server frame.
func appendFrame(b []byte, op int, prefix string, payload []byte) []byte {
	b = appendHeader(b, op, len(prefix)+len(payload))
	b = append(b, prefix...)
	return append(b, payload...)
}

// appendHeader appends the header of an unmasked, final server frame of n
// payload bytes.
func appendHeader(b []byte, op int, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return b
}
