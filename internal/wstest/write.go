package wstest

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"
)

// WriteText sends a text message in one masked frame.
func (c *Client) WriteText(ctx context.Context, text string) error {
	return c.writeFrame(ctx, true, OpText, []byte(text))
}

// WritePing sends a ping with payload (at most 125 bytes).
func (c *Client) WritePing(ctx context.Context, payload []byte) error {
	return c.writeFrame(ctx, true, OpPing, payload)
}

// WriteClose sends a close frame with code and reason; code 0 sends one
// with no payload (what browsers send for close() without a code).
func (c *Client) WriteClose(ctx context.Context, code int, reason string) error {
	var p []byte
	if code != 0 {
		p = binary.BigEndian.AppendUint16(nil, uint16(code))
		p = append(p, reason...)
	}
	c.mu.Lock()
	c.sentClose = true
	c.mu.Unlock()
	return c.writeFrame(ctx, true, OpClose, p)
}

// WriteFrame sends one masked frame as given, valid or not: a test of how
// the server treats a broken client.
func (c *Client) WriteFrame(ctx context.Context, fin bool, op Opcode, payload []byte) error {
	return c.writeFrame(ctx, fin, op, payload)
}

// writeFrame encodes and writes a masked frame. A write that ctx ends
// part-way leaves a partial frame on the wire; later writes then fail.
func (c *Client) writeFrame(ctx context.Context, fin bool, op Opcode, payload []byte) error {
	b := make([]byte, 0, len(payload)+14)
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	switch n := len(payload); {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0x80|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 0x80|127), uint64(n))
	}
	var key [maskChunk]byte
	binary.BigEndian.PutUint32(key[:], rand.Uint32())
	for i := 4; i < maskChunk; i *= 2 {
		copy(key[i:], key[:i])
	}
	b = append(b, key[:4]...)
	mask(b[len(b):len(b)+len(payload)], payload, key)
	b = b[:len(b)+len(payload)]

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wstest: write %s: %w", op, context.Cause(ctx))
	}
	select {
	case c.wsem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wstest: write %s: %w", op, context.Cause(ctx))
	}
	defer func() { <-c.wsem }()
	if c.wbroken != nil {
		return c.wbroken
	}
	// The context alone ends the write: a deadline of the socket's own
	// would race with the context's and hide which ended it.
	_ = c.conn.SetWriteDeadline(time.Time{})
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = c.conn.SetWriteDeadline(time.Unix(1, 0))
		close(fired)
	})
	n, err := c.conn.Write(b)
	if !stop() {
		<-fired
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	}
	if err != nil {
		err = fmt.Errorf("wstest: write %s: %w", op, err)
		if n > 0 && n < len(b) {
			c.wbroken = fmt.Errorf("wstest: an earlier write ended part-way: %w", err)
		}
	}
	return err
}

// mask writes payload masked with the 4-byte key (repeated in key) to dst,
// a key's length at a time: fast even under the race detector.
func mask(dst, payload []byte, key [maskChunk]byte) {
	for i := 0; i < len(payload); i += maskChunk {
		subtle.XORBytes(dst[i:], payload[i:min(i+maskChunk, len(payload))], key[:])
	}
}

// maskChunk is the length of the repeated key mask uses.
const maskChunk = 4096
