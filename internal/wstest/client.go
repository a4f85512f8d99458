package wstest

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure [Dial]; nil means the defaults.
type Options struct {
	// Subprotocols are offered in Sec-WebSocket-Protocol. When some are
	// offered, a 101 that selects none fails the handshake, as it does in
	// browsers.
	Subprotocols []string
	// Header is added to the upgrade request (Origin, Authorization, ...).
	Header http.Header
	// TLS configures a wss:// connection.
	TLS *tls.Config
	// ReadRate caps how fast the client reads the socket, in bytes per
	// second; zero reads as fast as the data comes. [Client.SetReadRate]
	// changes it later.
	ReadRate int
	// ReadBuffer sets the socket's receive buffer (SO_RCVBUF) before the
	// handshake; a smaller one fills the server's send buffer sooner. Zero
	// leaves the system's default. Keep it above 256 KiB on loopback:
	// Linux announces no receive window smaller than one segment (64 KiB
	// there), so below that a paused stream resumes at the pace of TCP's
	// zero-window probes, seconds apart.
	ReadBuffer int
	// NoAutoPong stops the client from answering the server's pings. By
	// default it answers each, as browsers do.
	NoAutoPong bool
	// Parser relaxes the checks; the zero value is the strictest.
	Parser ParserOptions
}

// Message is a text or binary message the server sent.
type Message struct {
	Op     Opcode // OpText or OpBinary
	Data   []byte
	Offset int64 // of its first frame in the server's stream
}

// CloseError is the server's close frame. Code is 1005 (no status) when
// the frame had no payload.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("wstest: the server closed the connection: %d %q", e.Code, e.Reason)
}

// HandshakeError is an upgrade response the client refuses.
type HandshakeError struct {
	StatusCode int
	Header     http.Header
	Body       string // the first KiB of the response body
	Reason     string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("wstest: handshake refused (HTTP %d): %s", e.StatusCode, e.Reason)
}

// Stats count what the client has seen of the server.
type Stats struct {
	Bytes    int64 // read from the socket after the handshake
	Messages int   // text and binary messages
	Pings    int   // the server's pings
	Pongs    int   // the server's pongs
}

// ErrEnded is returned by reads once the connection has ended without a
// close frame from the server.
var ErrEnded = errors.New("wstest: the connection ended without a close frame")

// Client is a WebSocket client that checks every byte the server sends; see
// the package doc. Its methods may be called concurrently. One goroutine,
// started by [Dial] and ended by [Client.Close], reads the socket; writes
// (the test's and the automatic pongs and close echo) are serialised.
type Client struct {
	conn   net.Conn
	br     *bufio.Reader
	proto  string
	parser *Parser // owned by the reader goroutine
	o      Options

	wsem    chan struct{} // one writer at a time
	wbroken error         // a write ended part-way; guarded by wsem

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change below
	msgs       []Message
	closeFrame *CloseError
	sentClose  bool
	violation  *Violation
	readErr    error
	ended      bool
	paused     bool
	rate       int
	stats      Stats

	quit chan struct{} // closed by Close
	done chan struct{} // closed when the reader goroutine returns
}

// Dial connects to a ws:// or wss:// URL and performs the opening
// handshake. ctx bounds the dial and the handshake only.
func Dial(ctx context.Context, rawURL string, o *Options) (*Client, error) {
	c := &Client{wsem: make(chan struct{}, 1), changed: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{})}
	if o != nil {
		c.o = *o
	}
	c.rate = c.o.ReadRate
	c.parser = NewParser(&c.o.Parser)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("wstest: dial: %w", err)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"ws": "80", "wss": "443"}[u.Scheme])
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("wstest: dial: %w", err)
	}
	if tc, ok := conn.(*net.TCPConn); ok && c.o.ReadBuffer > 0 {
		if err := tc.SetReadBuffer(c.o.ReadBuffer); err != nil {
			conn.Close()
			return nil, fmt.Errorf("wstest: dial: %w", err)
		}
	}
	switch u.Scheme {
	case "ws":
	case "wss":
		cfg := c.o.TLS.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("wstest: dial: %w", err)
		}
		conn = tc
	default:
		conn.Close()
		return nil, fmt.Errorf("wstest: dial: scheme %q is not ws or wss", u.Scheme)
	}
	c.conn = conn
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	err = c.handshake(u)
	if !stop() || err != nil {
		conn.Close()
		if err == nil || ctx.Err() != nil {
			err = fmt.Errorf("wstest: handshake: %w", context.Cause(ctx))
		}
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

// acceptGUID is the GUID of RFC 6455 §1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// handshake sends the upgrade request and checks the response.
func (c *Client) handshake(u *url.URL) error {
	var nonce [16]byte
	_, _ = crand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	for k, vs := range c.o.Header {
		req.Header[k] = slices.Clone(vs)
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	if len(c.o.Subprotocols) > 0 {
		req.Header.Set("Sec-WebSocket-Protocol", strings.Join(c.o.Subprotocols, ", "))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	if err := req.Header.Write(&b); err != nil {
		return err
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c.conn, b.String()); err != nil {
		return fmt.Errorf("wstest: handshake: %w", err)
	}
	c.br = bufio.NewReader(c.conn)
	res, err := http.ReadResponse(c.br, req)
	if err != nil {
		return fmt.Errorf("wstest: handshake: %w", err)
	}
	refuse := func(format string, args ...any) error {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		return &HandshakeError{StatusCode: res.StatusCode, Header: res.Header, Body: string(body), Reason: fmt.Sprintf(format, args...)}
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		return refuse("status %s, want 101", res.Status)
	}
	if !strings.EqualFold(res.Header.Get("Upgrade"), "websocket") {
		return refuse("Upgrade: %q", res.Header.Get("Upgrade"))
	}
	if !hasToken(res.Header.Values("Connection"), "upgrade") {
		return refuse("Connection: %q", res.Header.Values("Connection"))
	}
	sum := sha1.Sum([]byte(key + acceptGUID))
	if got, want := res.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		return refuse("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	if ext := res.Header.Values("Sec-WebSocket-Extensions"); len(ext) > 0 {
		return refuse("extensions %q that the client did not offer", ext)
	}
	protos := res.Header.Values("Sec-WebSocket-Protocol")
	switch {
	case len(protos) > 1 || strings.Contains(res.Header.Get("Sec-WebSocket-Protocol"), ","):
		return refuse("more than one subprotocol selected: %q", protos)
	case len(protos) == 1 && !slices.Contains(c.o.Subprotocols, protos[0]):
		return refuse("subprotocol %q was not offered (offered %q)", protos[0], c.o.Subprotocols)
	case len(protos) == 0 && len(c.o.Subprotocols) > 0:
		return refuse("no subprotocol selected of the offered %q", c.o.Subprotocols)
	}
	if len(protos) == 1 {
		c.proto = protos[0]
	}
	return nil
}

func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Subprotocol is the subprotocol the server selected, "" for none.
func (c *Client) Subprotocol() string { return c.proto }

// signal wakes the waiters; c.mu must be held.
func (c *Client) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// readLoop is the reader goroutine: it reads the socket (at the set rate,
// not while paused), checks what it reads and answers the server's control
// frames. It ends at the end of the stream, on a violation (closing the
// socket, as a client fails a connection) or when Close is called.
func (c *Client) readLoop() {
	defer close(c.done)
	buf := make([]byte, 32<<10)
	for {
		rate, ok := c.waitRunnable()
		if !ok {
			return
		}
		n := len(buf)
		if rate > 0 {
			n = min(n, max(rate/50, 1)) // about 50 reads a second
		}
		k, err := c.br.Read(buf[:n])
		if k > 0 && !c.handle(buf[:k]) {
			_ = c.conn.Close()
			c.end(nil)
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue // Pause interrupted the read
		}
		if err != nil {
			c.end(err)
			return
		}
		if rate > 0 {
			t := time.NewTimer(time.Duration(k) * time.Second / time.Duration(rate))
			select {
			case <-t.C:
			case <-c.quit:
				t.Stop()
				c.end(nil)
				return
			}
		}
	}
}

// waitRunnable waits while the client is paused; it returns the read rate,
// or false when the client is closed.
func (c *Client) waitRunnable() (int, bool) {
	for {
		c.mu.Lock()
		paused, rate, ch := c.paused, c.rate, c.changed
		c.mu.Unlock()
		if !paused {
			select {
			case <-c.quit:
				c.end(nil)
				return 0, false
			default:
				return rate, true
			}
		}
		select {
		case <-ch:
		case <-c.quit:
			c.end(nil)
			return 0, false
		}
	}
}

// end records the end of the stream.
func (c *Client) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.quit:
		err = nil // our own Close
	default:
	}
	c.ended = true
	if c.readErr == nil {
		c.readErr = err
	}
	c.signal()
}

// controlTimeout bounds the automatic pong and close echo.
const controlTimeout = 5 * time.Second

// handle checks b and acts on the frames it completes; it reports false on
// a violation.
func (c *Client) handle(b []byte) bool {
	frames, err := c.parser.Feed(b)
	var replies [][2]any // opcode, payload
	c.mu.Lock()
	c.stats.Bytes += int64(len(b))
	for _, f := range frames {
		switch f.Op {
		case OpPing:
			c.stats.Pings++
			if !c.o.NoAutoPong && !c.sentClose {
				replies = append(replies, [2]any{OpPong, f.Payload})
			}
		case OpPong:
			c.stats.Pongs++
		case OpClose:
			ce := &CloseError{Code: 1005}
			if len(f.Payload) >= 2 {
				ce.Code, ce.Reason = int(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:])
			}
			c.closeFrame = ce
			if !c.sentClose {
				c.sentClose = true
				replies = append(replies, [2]any{OpClose, f.Payload[:min(len(f.Payload), 2)]})
			}
		default:
			if f.MessageOp != 0 {
				c.stats.Messages++
				c.msgs = append(c.msgs, Message{Op: f.MessageOp, Data: append([]byte{}, f.Message...), Offset: f.Offset})
			}
		}
	}
	var v *Violation
	if errors.As(err, &v) {
		c.violation = v
	}
	c.signal()
	c.mu.Unlock()
	for _, r := range replies {
		ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
		_ = c.writeFrame(ctx, true, r[0].(Opcode), r[1].([]byte))
		cancel()
	}
	return v == nil
}

// ReadMessage returns the server's next text or binary message. After the
// last message it returns the server's close as a [*CloseError], a
// [*Violation] if the stream broke the protocol, or [ErrEnded].
func (c *Client) ReadMessage(ctx context.Context) (Message, error) {
	for {
		c.mu.Lock()
		if len(c.msgs) > 0 {
			m := c.msgs[0]
			c.msgs = c.msgs[1:]
			c.mu.Unlock()
			return m, nil
		}
		err, ch := c.terminalLocked(), c.changed
		c.mu.Unlock()
		if err != nil {
			return Message{}, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("wstest: read: %w", context.Cause(ctx))
		}
	}
}

// terminalLocked is what reads return once the queue is empty, nil while
// more may come; c.mu must be held.
func (c *Client) terminalLocked() error {
	switch {
	case c.violation != nil:
		return c.violation
	case c.closeFrame != nil:
		return c.closeFrame
	case c.ended && c.readErr != nil:
		return fmt.Errorf("%w: %w", ErrEnded, c.readErr)
	case c.ended:
		return ErrEnded
	}
	return nil
}

// WaitClose waits for the server's close frame and returns it, leaving
// the messages before it to ReadMessage. It fails if the stream ends
// without one or breaks the protocol.
func (c *Client) WaitClose(ctx context.Context) (*CloseError, error) {
	for {
		c.mu.Lock()
		ce, v, ended, ch := c.closeFrame, c.violation, c.ended, c.changed
		c.mu.Unlock()
		switch {
		case v != nil:
			return nil, v
		case ce != nil:
			return ce, nil
		case ended:
			return nil, ErrEnded
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("wstest: waiting for the close frame: %w", context.Cause(ctx))
		}
	}
}

// Wait waits until the server ends the connection (or the client fails
// it) and returns the violation found in the stream, nil if none.
func (c *Client) Wait(ctx context.Context) error {
	select {
	case <-c.done:
		return c.Err()
	case <-ctx.Done():
		return fmt.Errorf("wstest: waiting for the end of the connection: %w", context.Cause(ctx))
	}
}

// Err returns the violation found so far, nil if none.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.violation != nil {
		return c.violation
	}
	return nil
}

// Done is closed when the reader goroutine has returned: the stream ended,
// broke the protocol, or Close was called.
func (c *Client) Done() <-chan struct{} { return c.done }

// Stats returns what the client has seen so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Pause stops reading the socket, at once (a read in progress is
// interrupted), until Resume. What the server sends meanwhile fills the
// socket's buffers.
func (c *Client) Pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused = true
	_ = c.conn.SetReadDeadline(time.Unix(1, 0))
	c.signal()
}

// Resume ends a Pause.
func (c *Client) Resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused = false
	_ = c.conn.SetReadDeadline(time.Time{})
	c.signal()
}

// SetReadRate caps the read rate in bytes per second; zero removes the cap.
func (c *Client) SetReadRate(bytesPerSecond int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rate = bytesPerSecond
	c.signal()
}

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

// Close closes the socket at once (no closing handshake: use WriteClose
// for one) and waits for the reader goroutine. It returns the violation
// found in the stream, nil if none. It may be called more than once.
func (c *Client) Close() error {
	c.mu.Lock()
	select {
	case <-c.quit:
	default:
		close(c.quit)
	}
	c.mu.Unlock()
	_ = c.conn.Close()
	<-c.done
	return c.Err()
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
