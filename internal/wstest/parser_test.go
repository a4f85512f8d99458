package wstest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frame encodes a server frame (unmasked, minimal length).
func frame(fin bool, op Opcode, payload []byte) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
	return append(b, payload...)
}

func text(s string) []byte { return frame(true, OpText, []byte(s)) }

func closeFrame(code int, reason string) []byte {
	return frame(true, OpClose, append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// feed parses stream in chunks of size n (0: all at once) and returns the
// frames and the violation.
func feed(t *testing.T, o *ParserOptions, stream []byte, n int) ([]Frame, *Violation) {
	t.Helper()
	p := NewParser(o)
	if n == 0 {
		n = len(stream) + 1
	}
	var frames []Frame
	for i := 0; i < len(stream); i += n {
		fs, err := p.Feed(stream[i:min(i+n, len(stream))])
		frames = append(frames, fs...)
		if err != nil {
			v, ok := err.(*Violation)
			require.True(t, ok, "%T %v", err, err)
			return frames, v
		}
	}
	return frames, nil
}

// A pong written while a text frame is partly on the wire: its bytes are
// read as the frame's payload.
func pongInsideText() ([]byte, int64) {
	payload := []byte(`{"type":"tool_executing","seq":42}`)
	head := frame(true, OpText, payload)[:2+10] // header and 10 bytes of payload
	pong := frame(true, OpPong, []byte("hb"))
	rest := payload[10:]
	// The frame's length still counts its own payload only: the pong's
	// bytes take the place of the payload's last ones, which then follow
	// as garbage.
	return cat(head, pong, rest), int64(len(head))
}

func TestParserRejects(t *testing.T) {
	t.Parallel()
	pongInText, pongAt := pongInsideText()
	big := bytes.Repeat([]byte("x"), 200)
	cases := []struct {
		name   string
		stream []byte
		at     int64  // offset of the violation
		rule   string // part of its rule
		o      *ParserOptions
	}{
		{"pong inside a text frame", pongInText, pongAt, "invalid UTF-8", nil},
		{"invalid UTF-8", cat(text("ok"), text("a\xffb")), 4 + 3, "invalid UTF-8", nil},
		{"overlong UTF-8", text("\xc0\xaf"), 2, "invalid UTF-8", nil},
		{"surrogate in UTF-8", text("\xed\xa0\x80"), 2, "invalid UTF-8", nil},
		{"text ends inside a UTF-8 sequence", text("ab\xc3"), 4, "ends inside a UTF-8 sequence", nil},
		{"fragment ends inside a UTF-8 sequence, message ends with it",
			cat(frame(false, OpText, []byte("a\xe2\x82")), frame(true, OpContinuation, []byte("b"))), 3, "invalid UTF-8", nil},
		{"masked server frame", []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}, 1, "masked", nil},
		{"16-bit length that fits in 7", cat([]byte{0x81, 126, 0, 5}, []byte("hello")), 2, "16-bit length 5", nil},
		{"64-bit length that fits in 16", cat([]byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 200}, big), 2, "64-bit length 200", nil},
		{"64-bit length with the top bit set", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, 2, "most significant bit", nil},
		{"control frame over 125 bytes", cat([]byte{0x89, 126, 0, 126}, big[:126]), 1, "at most 125", nil},
		{"fragmented control frame", frame(false, OpPing, nil), 0, "FIN not set", nil},
		{"reserved data opcode", frame(true, 0x3, nil), 0, "reserved opcode 0x3", nil},
		{"reserved control opcode", frame(true, 0xB, nil), 0, "reserved opcode 0xb", nil},
		{"RSV1 without an extension", []byte{0xc1, 0x01, 'x'}, 0, "RSV bits 100", nil},
		{"RSV3 without an extension", cat(text("a"), []byte{0x91, 0x01, 'x'}), 3, "RSV bits 001", nil},
		{"continuation with no message", frame(true, OpContinuation, []byte("x")), 0, "no message to continue", nil},
		{"text inside a fragmented message", cat(frame(false, OpText, []byte("a")), text("b")), 3, "starts inside a fragmented", nil},
		{"pong between fragments", cat(frame(false, OpText, []byte("a")), frame(true, OpPong, nil), frame(true, OpContinuation, []byte("b"))), 3, "pong frame inside a fragmented text message", nil},
		{"close between fragments", cat(frame(false, OpBinary, []byte("a")), closeFrame(1000, "")), 3, "close frame inside", nil},
		{"close with a 1-byte payload", frame(true, OpClose, []byte{3}), 2, "1-byte payload", nil},
		{"close code 1005", closeFrame(1005, ""), 2, "close code 1005", nil},
		{"close code 1006", closeFrame(1006, ""), 2, "close code 1006", nil},
		{"close code 1004", closeFrame(1004, ""), 2, "close code 1004", nil},
		{"close code 999", closeFrame(999, ""), 2, "close code 999", nil},
		{"close code 1015", closeFrame(1015, ""), 2, "close code 1015", nil},
		{"close code 2999", closeFrame(2999, ""), 2, "close code 2999", nil},
		{"close code 5000", closeFrame(5000, ""), 2, "close code 5000", nil},
		{"close reason not UTF-8", closeFrame(1000, "ok\xfe"), 6, "reason is not valid UTF-8", nil},
		{"a frame after the close", cat(closeFrame(1000, "bye"), text("late")), 7, "after the close frame", nil},
		{"a byte after an empty close", cat(frame(true, OpClose, nil), []byte{0}), 2, "after the close frame", nil},
		{"message over the bound", cat(frame(false, OpBinary, big[:100]), frame(true, OpContinuation, big[:100])), 103, "longer than 150", &ParserOptions{MaxMessage: 150}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, n := range []int{0, 1, 2, 3, 7} {
				_, v := feed(t, tc.o, tc.stream, n)
				require.NotNil(t, v, "chunks of %d: accepted", n)
				assert.Equal(t, tc.at, v.Offset, "chunks of %d: %v", n, v)
				assert.Contains(t, v.Rule, tc.rule, "chunks of %d", n)
				assert.Contains(t, v.Error(), "> ", "the dump marks the offending line")
			}
		})
	}
}

// The dump shows the bytes around the violation with the stream's offsets.
func TestViolationDump(t *testing.T) {
	t.Parallel()
	stream, at := pongInsideText()
	stream = cat(bytes.Repeat(text("padding"), 20), stream)
	at += 20 * 9
	_, v := feed(t, nil, stream, 5)
	require.NotNil(t, v)
	assert.Equal(t, at, v.Offset)
	line := (at / 16) * 16
	assert.Contains(t, v.Dump, fmt.Sprintf("> %08x  ", line), v.Dump)
	assert.Contains(t, v.Dump, "8a 02 68 62", "the pong's bytes are in the dump:\n%s", v.Dump)
	assert.Contains(t, v.Error(), "byte 192 of the server's stream")
}

func TestParserAccepts(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte("é"), 40000) // 80,000 bytes: a 64-bit length
	mid := bytes.Repeat([]byte("a"), 126)    // the smallest 16-bit length
	stream := cat(
		text(""),
		text(`{"type":"agent_started"}`),
		frame(true, OpPing, []byte("server ping")),
		frame(true, OpPong, nil),
		frame(true, OpText, mid),
		frame(true, OpText, long),
		frame(true, OpBinary, []byte{0xff, 0xfe, 0}),
		frame(false, OpText, []byte("caf\xc3")), // é split between fragments
		frame(false, OpContinuation, []byte("\xa9 ")),
		frame(true, OpContinuation, []byte("au lait")),
		frame(false, OpBinary, []byte{1}),
		frame(true, OpContinuation, []byte{2}),
		closeFrame(4008, "slow consumer"),
	)
	for _, n := range []int{0, 1, 5, 4096} {
		frames, v := feed(t, nil, stream, n)
		require.Nil(t, v, "chunks of %d", n)
		var msgs []string
		var ops []Opcode
		for _, f := range frames {
			ops = append(ops, f.Op)
			if f.MessageOp != 0 {
				msgs = append(msgs, string(f.Message))
			}
		}
		assert.Equal(t, []Opcode{OpText, OpText, OpPing, OpPong, OpText, OpText, OpBinary, OpText, OpContinuation, OpContinuation, OpBinary, OpContinuation, OpClose}, ops)
		assert.Equal(t, []string{"", `{"type":"agent_started"}`, string(mid), string(long), "\xff\xfe\x00", "café au lait", "\x01\x02"}, msgs)
		assert.Equal(t, int64(0), frames[0].Offset)
		assert.Equal(t, int64(2), frames[1].Offset)
	}

	// RFC 6455 allows control frames between fragments; the option does too.
	interleaved := cat(frame(false, OpText, []byte("a")), frame(true, OpPing, nil), frame(true, OpContinuation, []byte("b")))
	frames, v := feed(t, &ParserOptions{AllowInterleavedControl: true}, interleaved, 1)
	require.Nil(t, v)
	require.Len(t, frames, 3)
	assert.Equal(t, "ab", string(frames[2].Message))

	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4009, 4999} {
		_, v := feed(t, nil, closeFrame(code, "why"), 0)
		assert.Nil(t, v, "close code %d", code)
	}
	_, v = feed(t, nil, frame(true, OpClose, nil), 0)
	assert.Nil(t, v, "a close frame with no code")
}
