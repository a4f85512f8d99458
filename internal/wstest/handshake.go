package wstest

import (
	"bufio"
	crand "crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

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
