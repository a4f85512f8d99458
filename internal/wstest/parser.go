package wstest

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"unicode/utf8"
)

// Opcode is a frame's opcode.
type Opcode byte

// The opcodes of RFC 6455.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode %#x", byte(op))
}

// IsControl reports whether op is a control opcode (close, ping, pong).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// Frame is one frame the server sent.
type Frame struct {
	Offset  int64 // of the frame's first byte in the server's stream
	Fin     bool
	Op      Opcode
	Payload []byte
	// Message is set on the frame that ends a text or binary message: the
	// whole message, its fragments joined. MessageOp is its opcode.
	Message   []byte
	MessageOp Opcode
}

// Violation is a byte of the server's stream that breaks RFC 6455 (or the
// stricter rules of [ParserOptions]).
type Violation struct {
	Offset int64  // of the offending byte in the server's stream, 0 = the first byte after the handshake
	Rule   string // what is wrong
	Dump   string // hex dump of the bytes around it; the offsets in it are the stream's
}

func (v *Violation) Error() string {
	return fmt.Sprintf("wstest: protocol violation at byte %d of the server's stream: %s\n%s", v.Offset, v.Rule, v.Dump)
}

// ParserOptions relax the parser's rules; the zero value is the strictest.
type ParserOptions struct {
	// AllowInterleavedControl accepts control frames between the fragments
	// of a message, as RFC 6455 §5.4 does. Off by default: the facade
	// writes a message as one unit.
	AllowInterleavedControl bool
	// MaxMessage bounds a message's size in bytes; a longer one is a
	// violation rather than memory exhaustion. Zero means 64 MiB.
	MaxMessage int64
}

// Parser checks a server's byte stream and splits it into frames. Feed it
// the stream in chunks of any size. It is not safe for concurrent use.
type Parser struct {
	o ParserOptions

	buf  []byte // bytes kept: the last few parsed (for dumps) and those not yet parsed
	base int64  // stream offset of buf[0]
	pos  int    // index in buf of the first byte not yet parsed
	err  *Violation

	// The message being assembled.
	inMessage bool
	msgOp     Opcode
	msg       []byte
	utf8Carry []byte // an incomplete UTF-8 sequence at the end of the last fragment
	carryOff  int64  // its stream offset

	closed bool // a close frame was parsed
}

// NewParser returns a parser; o may be nil.
func NewParser(o *ParserOptions) *Parser {
	p := &Parser{}
	if o != nil {
		p.o = *o
	}
	if p.o.MaxMessage <= 0 {
		p.o.MaxMessage = 64 << 20
	}
	return p
}

// dumpContext is how many bytes a violation's dump shows on each side.
const dumpContext = 48

// Offset is the number of bytes fed so far.
func (p *Parser) Offset() int64 { return p.base + int64(len(p.buf)) }

// Closed reports whether the server's close frame was parsed.
func (p *Parser) Closed() bool { return p.closed }

// Feed parses b, which continues the stream, and returns the frames it
// completes. The first violation is returned, with the frames before it,
// and again by every later call.
func (p *Parser) Feed(b []byte) ([]Frame, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.buf = append(p.buf, b...)
	var frames []Frame
	for {
		f, ok := p.next()
		if p.err != nil {
			return frames, p.err
		}
		if !ok {
			break
		}
		frames = append(frames, f)
	}
	// Keep the tail of what was parsed, for the dump of a later violation.
	if drop := p.pos - dumpContext; drop > 0 {
		p.buf = append(p.buf[:0], p.buf[drop:]...)
		p.base += int64(drop)
		p.pos -= drop
	}
	return frames, nil
}

// fail records a violation at stream offset off.
func (p *Parser) fail(off int64, format string, args ...any) {
	lo := max(off-dumpContext, p.base)
	lo -= lo % 16 // align the dump's lines on the stream's offsets
	lo = max(lo, p.base)
	hi := min(off+dumpContext, p.base+int64(len(p.buf)))
	p.err = &Violation{Offset: off, Rule: fmt.Sprintf(format, args...), Dump: dump(p.buf[lo-p.base:hi-p.base], lo, off)}
}

// dump is a hex dump of b, which starts at stream offset base, marking the
// line of offset at.
func dump(b []byte, base, at int64) string {
	var out []byte
	for i := 0; i < len(b); i += 16 {
		line := b[i:min(i+16, len(b))]
		mark := "  "
		if at >= base+int64(i) && at < base+int64(i+16) {
			mark = "> "
		}
		out = fmt.Appendf(out, "%s%08x  %-47s  |", mark, base+int64(i), spaced(line))
		for _, c := range line {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			out = append(out, c)
		}
		out = append(out, "|\n"...)
	}
	return string(out)
}

func spaced(b []byte) string {
	s := hex.EncodeToString(b)
	var out []byte
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, s[i:i+2]...)
	}
	return string(out)
}

// next parses one frame if the buffer holds it whole; it checks the header
// as soon as the header's bytes are there.
func (p *Parser) next() (Frame, bool) {
	b := p.buf[p.pos:]
	at := p.base + int64(p.pos)
	if len(b) == 0 {
		return Frame{}, false
	}
	if p.closed {
		p.fail(at, "%d bytes after the close frame", len(b))
		return Frame{}, false
	}
	fin, rsv, op := b[0]&0x80 != 0, b[0]&0x70, Opcode(b[0]&0x0f)
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		p.fail(at, "reserved opcode %#x", byte(op))
		return Frame{}, false
	}
	if rsv != 0 {
		p.fail(at, "RSV bits %03b set on a %s frame, and no extension was negotiated", rsv>>4, op)
		return Frame{}, false
	}
	if op.IsControl() {
		if !fin {
			p.fail(at, "fragmented %s frame (FIN not set)", op)
			return Frame{}, false
		}
		if p.inMessage && !p.o.AllowInterleavedControl {
			p.fail(at, "%s frame inside a fragmented %s message", op, p.msgOp)
			return Frame{}, false
		}
	} else if op == OpContinuation && !p.inMessage {
		p.fail(at, "continuation frame with no message to continue")
		return Frame{}, false
	} else if op != OpContinuation && p.inMessage {
		p.fail(at, "%s frame starts inside a fragmented %s message", op, p.msgOp)
		return Frame{}, false
	}
	if len(b) < 2 {
		return Frame{}, false
	}
	if b[1]&0x80 != 0 {
		p.fail(at+1, "masked %s frame from the server", op)
		return Frame{}, false
	}
	n, hdr := uint64(b[1]&0x7f), 2
	if op.IsControl() && n > 125 {
		p.fail(at+1, "%s frame with a %d-bit length (a control frame's payload is at most 125 bytes)", op, map[uint64]int{126: 16, 127: 64}[n])
		return Frame{}, false
	}
	switch n {
	case 126:
		if len(b) < 4 {
			return Frame{}, false
		}
		n, hdr = uint64(binary.BigEndian.Uint16(b[2:4])), 4
		if n < 126 {
			p.fail(at+2, "16-bit length %d that fits in 7 bits", n)
			return Frame{}, false
		}
	case 127:
		if len(b) < 10 {
			return Frame{}, false
		}
		n, hdr = binary.BigEndian.Uint64(b[2:10]), 10
		if n>>63 != 0 {
			p.fail(at+2, "64-bit length with its most significant bit set")
			return Frame{}, false
		}
		if n <= 0xffff {
			p.fail(at+2, "64-bit length %d that fits in 16 bits", n)
			return Frame{}, false
		}
	}
	if !op.IsControl() && int64(len(p.msg))+int64(n) > p.o.MaxMessage {
		p.fail(at+1, "message longer than %d bytes", p.o.MaxMessage)
		return Frame{}, false
	}
	if uint64(len(b)-hdr) < n {
		return Frame{}, false
	}
	payload := append([]byte(nil), b[hdr:hdr+int(n)]...)
	payloadAt := at + int64(hdr)
	p.pos += hdr + int(n)
	f := Frame{Offset: at, Fin: fin, Op: op, Payload: payload}

	switch op {
	case OpClose:
		p.checkClose(payload, payloadAt)
		p.closed = true
	case OpText, OpBinary, OpContinuation:
		if op != OpContinuation {
			p.inMessage, p.msgOp, p.msg = true, op, nil
		}
		if p.msgOp == OpText && !p.checkUTF8(payload, payloadAt, fin) {
			return Frame{}, false
		}
		p.msg = append(p.msg, payload...)
		if fin {
			f.Message, f.MessageOp = p.msg, p.msgOp
			p.inMessage, p.msg = false, nil
		}
	}
	return f, p.err == nil
}

// checkUTF8 checks a fragment of a text message, which starts at stream
// offset at; a code point may span fragments, not the end of the message.
func (p *Parser) checkUTF8(b []byte, at int64, fin bool) bool {
	data, dataAt := b, at
	if len(p.utf8Carry) > 0 {
		data = append(p.utf8Carry, b...)
		dataAt = p.carryOff
		p.utf8Carry = nil
	}
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(data[i:]) {
			if fin {
				p.fail(dataAt+int64(i), "text message ends inside a UTF-8 sequence")
				return false
			}
			p.utf8Carry = append([]byte(nil), data[i:]...)
			p.carryOff = dataAt + int64(i)
			return true
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			p.fail(dataAt+int64(i), "invalid UTF-8 in a text message (byte %#02x)", data[i])
			return false
		}
		i += size
	}
	return true
}

// checkClose checks a close frame's payload, which starts at at.
func (p *Parser) checkClose(b []byte, at int64) {
	switch {
	case len(b) == 0:
		return
	case len(b) == 1:
		p.fail(at, "close frame with a 1-byte payload (a code takes 2)")
		return
	}
	if code := int(binary.BigEndian.Uint16(b)); !ValidCloseCode(code) {
		p.fail(at, "close code %d may not be sent", code)
		return
	}
	if r := b[2:]; !utf8.Valid(r) {
		i := 0
		for i < len(r) {
			c, size := utf8.DecodeRune(r[i:])
			if c == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		p.fail(at+2+int64(i), "close reason is not valid UTF-8")
	}
}

// ValidCloseCode reports whether an endpoint may send code in a close frame
// (RFC 6455 §7.4 and the IANA registry): 1000–1003, 1007–1014, 3000–4999.
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
