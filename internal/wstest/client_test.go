package wstest

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testTimeout bounds every wait of these tests; none should come near it.
const testTimeout = 20 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws" }

// gorillaServer runs handle on each upgraded connection (offering
// subprotocols) and waits for it when the test ends.
func gorillaServer(t *testing.T, subprotocols []string, handle func(ws *websocket.Conn)) *httptest.Server {
	t.Helper()
	up := websocket.Upgrader{Subprotocols: subprotocols}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		handle(ws)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A gorilla server's traffic is valid: messages of every length encoding,
// fragmented messages, pings, the answers to the client's pings, a close.
func TestClientAcceptsAGorillaServer(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	big := strings.Repeat("é", 40000) // gorilla fragments it: bigger than its write buffer
	srv := gorillaServer(t, []string{"chat"}, func(ws *websocket.Conn) {
		// The handlers run on the reading goroutine, the only writer.
		ws.SetPongHandler(func(p string) error { return ws.WriteMessage(websocket.TextMessage, []byte("pong:"+p)) })
		_ = ws.WriteMessage(websocket.TextMessage, []byte("hello"))
		_ = ws.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("a", 300)))
		_ = ws.WriteMessage(websocket.TextMessage, []byte(big))
		_ = ws.WriteMessage(websocket.BinaryMessage, []byte{0xff, 0})
		_ = ws.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(5*time.Second))
		for {
			typ, b, err := ws.ReadMessage() // answers the client's pings; delivers the pong
			if err != nil {
				return
			}
			_ = ws.WriteMessage(typ, append([]byte("echo:"), b...))
			if string(b) == "bye" {
				_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done"))
			}
		}
	})
	c, err := Dial(ctx, wsURL(srv), &Options{Subprotocols: []string{"other", "chat"}})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "chat", c.Subprotocol())

	want := []string{"hello", strings.Repeat("a", 300), big, "\xff\x00"}
	for i, w := range want {
		m, err := c.ReadMessage(ctx)
		require.NoError(t, err, "message %d", i)
		assert.Equal(t, w, string(m.Data), "message %d", i)
	}
	require.NoError(t, c.WritePing(ctx, []byte("ping payload")))
	require.NoError(t, c.WriteText(ctx, "one"))
	var got []string
	for range 2 { // the client's pong and "one" race to the server
		m, err := c.ReadMessage(ctx)
		require.NoError(t, err)
		got = append(got, string(m.Data))
	}
	assert.ElementsMatch(t, []string{"pong:are you there", "echo:one"}, got, "the client answers the server's ping with its payload")
	long := strings.Repeat("x", 70000) // a 64-bit length, masked
	require.NoError(t, c.WriteText(ctx, long))
	m, err := c.ReadMessage(ctx)
	require.NoError(t, err)
	assert.Equal(t, "echo:"+long, string(m.Data))
	require.NoError(t, c.WriteText(ctx, "bye"))
	m, err = c.ReadMessage(ctx)
	require.NoError(t, err)
	assert.Equal(t, "echo:bye", string(m.Data))

	ce, err := c.WaitClose(ctx)
	require.NoError(t, err)
	assert.Equal(t, &CloseError{Code: 1000, Reason: "done"}, ce)
	_, err = c.ReadMessage(ctx)
	assert.Equal(t, ce, err, "reads after the last message return the close")
	require.NoError(t, c.Wait(ctx))
	st := c.Stats()
	assert.Equal(t, 1, st.Pings)
	assert.Equal(t, 1, st.Pongs, "gorilla answered the client's ping")
	assert.Equal(t, 8, st.Messages)
	require.NoError(t, c.Close())
}

// The client's close frames, with and without a code, are what a server
// reads.
func TestClientWritesClose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   int
		reason string
		want   int
	}{{0, "", websocket.CloseNoStatusReceived}, {1000, "bye", 1000}, {4001, "app", 4001}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			got := make(chan error, 1)
			srv := gorillaServer(t, nil, func(ws *websocket.Conn) {
				_, _, err := ws.ReadMessage()
				got <- err
			})
			c, err := Dial(ctx, wsURL(srv), nil)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.WriteClose(ctx, tc.code, tc.reason))
			select {
			case err := <-got:
				var ce *websocket.CloseError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tc.want, ce.Code)
				assert.Equal(t, tc.reason, ce.Text)
			case <-ctx.Done():
				t.Fatal("the server read nothing")
			}
			// gorilla echoes the close and ends the connection.
			ce, err := c.WaitClose(ctx)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ce.Code)
			require.NoError(t, c.Wait(ctx))
		})
	}
}

// The client reads nothing while paused, reads everything in order when
// resumed, and its stream stays valid while it floods pings meanwhile.
func TestClientPauseWhileFloodingPings(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	const n = 400
	payload := strings.Repeat("p", 2000) // below gorilla's write buffer: one frame a message
	start := make(chan struct{})
	srv := gorillaServer(t, nil, func(ws *websocket.Conn) {
		// gorilla's own ping handler gives a pong 1 s, then breaks the
		// connection; this one waits as long as the test.
		ws.SetPingHandler(func(p string) error {
			return ws.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(testTimeout))
		})
		done := make(chan struct{})
		go func() { // the reader answers pings
			defer close(done)
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
		<-start
		for i := range n {
			if err := ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "%d:%s", i, payload)); err != nil {
				t.Logf("server: message %d: %v", i, err)
				return
			}
		}
		<-done
	})
	c, err := Dial(ctx, wsURL(srv), nil)
	require.NoError(t, err)
	defer c.Close()
	c.Pause()
	close(start)
	for i := range 100 {
		require.NoError(t, c.WritePing(ctx, fmt.Appendf(nil, "hb-%d", i)))
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = c.ReadMessage(short)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "a paused client read a message")
	before := c.Stats().Bytes
	c.Resume()
	for i := range n {
		m, err := c.ReadMessage(ctx)
		require.NoError(t, err, "message %d (%+v)", i, c.Stats())
		require.Equal(t, fmt.Sprintf("%d:%s", i, payload), string(m.Data))
	}
	assert.Greater(t, c.Stats().Bytes, before)
	require.NoError(t, c.Err())
	require.Eventually(t, func() bool { return c.Stats().Pongs == 100 }, testTimeout, time.Millisecond, "every ping is answered")
}

// ReadRate slows the reader down.
func TestClientReadRate(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	const size, rate = 64 << 10, 256 << 10 // a quarter of a second at the rate
	srv := gorillaServer(t, nil, func(ws *websocket.Conn) {
		_ = ws.WriteMessage(websocket.BinaryMessage, make([]byte, size))
		_, _, _ = ws.ReadMessage()
	})
	began := time.Now() // before the reader starts: a true lower bound
	c, err := Dial(ctx, wsURL(srv), &Options{ReadRate: rate})
	require.NoError(t, err)
	defer c.Close()
	m, err := c.ReadMessage(ctx)
	require.NoError(t, err)
	assert.Len(t, m.Data, size)
	// A lower bound only: a loaded machine makes it slower, never faster.
	assert.GreaterOrEqual(t, time.Since(began), 150*time.Millisecond)
}

// upgradeByHand hijacks the request's connection and writes a valid 101.
func upgradeByHand(t *testing.T, w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.ReadWriter) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return nil, nil
	}
	sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + acceptGUID))
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]))
	if err := brw.Flush(); err != nil {
		t.Errorf("upgrade: %v", err)
	}
	return conn, brw
}

// rawServer completes the handshake by hand, writes stream as is, and
// then neither reads nor writes until the test ends.
func rawServer(t *testing.T, stream []byte) *httptest.Server {
	t.Helper()
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw := upgradeByHand(t, w, r)
		if conn == nil {
			return
		}
		defer conn.Close()
		_, _ = brw.Write(stream)
		_ = brw.Flush()
		<-hold
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hold) })
	return srv
}

// A violation reaches the test: from reads, Err, Wait and Close, with the
// offset and the dump; the client fails the connection.
func TestClientReportsViolations(t *testing.T) {
	t.Parallel()
	pongInText, pongAt := pongInsideText()
	for _, tc := range []struct {
		name   string
		stream []byte
		at     int64
		msgs   int // valid messages before the violation
	}{
		{"pong inside a text frame", cat(text("first"), pongInText), 7 + pongAt, 1},
		{"masked frame", cat(text("a"), text("b"), []byte{0x81, 0x81, 0, 0, 0, 0, 'x'}), 7, 2},
		{"non-minimal length", []byte{0x81, 126, 0, 1, 'x'}, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			c, err := Dial(ctx, wsURL(rawServer(t, tc.stream)), nil)
			require.NoError(t, err)
			for range tc.msgs {
				_, err := c.ReadMessage(ctx)
				require.NoError(t, err)
			}
			_, err = c.ReadMessage(ctx)
			var v *Violation
			require.ErrorAs(t, err, &v)
			assert.Equal(t, tc.at, v.Offset, "%v", v)
			assert.NotEmpty(t, v.Dump)
			require.ErrorAs(t, c.Wait(ctx), &v, "the client fails the connection")
			require.ErrorAs(t, c.Close(), &v)
		})
	}
}

// The client refuses a handshake a browser refuses.
func TestClientRefusesBadHandshakes(t *testing.T) {
	t.Parallel()
	hijack := func(resp func(key string) string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			_, _ = brw.WriteString(resp(r.Header.Get("Sec-WebSocket-Key")))
			_ = brw.Flush()
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	accept := func(key string) string {
		sum := sha1.Sum([]byte(key + acceptGUID))
		return base64.StdEncoding.EncodeToString(sum[:])
	}
	upgrade := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	cases := []struct {
		name   string
		srv    *httptest.Server
		protos []string
		reason string
		status int
	}{
		{"HTTP 400", httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "supported subprotocols: wsunify.numeric", http.StatusBadRequest)
		})), nil, "want 101", 400},
		{"wrong accept", hijack(func(string) string { return upgrade + "Sec-WebSocket-Accept: bm90IGl0\r\n\r\n" }), nil, "Sec-WebSocket-Accept", 101},
		{"no upgrade header", hijack(func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(k) + "\r\n\r\n"
		}), nil, "Upgrade", 101},
		{"extension not offered", hijack(func(k string) string {
			return upgrade + "Sec-WebSocket-Accept: " + accept(k) + "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
		}), nil, "extensions", 101},
		{"subprotocol not offered", hijack(func(k string) string {
			return upgrade + "Sec-WebSocket-Accept: " + accept(k) + "\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
		}), []string{"chat"}, `subprotocol "mqtt" was not offered`, 101},
		{"no subprotocol of the offered", gorillaServer(t, []string{"chat"}, func(*websocket.Conn) {}), []string{"wsunify.other"}, "no subprotocol selected", 101},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(tc.srv.Close)
			ctx := testCtx(t)
			_, err := Dial(ctx, wsURL(tc.srv), &Options{Subprotocols: tc.protos})
			var he *HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.StatusCode)
			assert.Contains(t, he.Reason, tc.reason)
			if tc.status == 400 {
				assert.Contains(t, he.Body, "wsunify.numeric")
			}
		})
	}
}

// Every blocking call ends with its context.
func TestClientHonoursContexts(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	// A server that completes the handshake and then neither reads nor
	// writes.
	c, err := Dial(ctx, wsURL(rawServer(t, nil)), &Options{})
	require.NoError(t, err)
	defer c.Close()

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.ReadMessage(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = c.WaitClose(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, c.Wait(short), context.DeadlineExceeded)

	// A write bigger than every buffer on the way blocks until its context
	// ends; the connection cannot be written to after that.
	started := make(chan struct{})
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	reads1K := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw := upgradeByHand(t, w, r)
		if conn == nil {
			return
		}
		defer conn.Close()
		_, _ = io.ReadFull(brw, make([]byte, 1024))
		close(started)
		<-hold
	}))
	t.Cleanup(reads1K.Close)
	wc, err := Dial(ctx, wsURL(reads1K), nil)
	require.NoError(t, err)
	defer wc.Close()
	w, cancelW := context.WithCancel(ctx)
	go func() {
		select {
		case <-started: // the frame is on its way: cancel it part-way
		case <-ctx.Done():
		}
		cancelW()
	}()
	err = wc.WriteFrame(w, true, OpBinary, make([]byte, 32<<20))
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, wc.WriteText(ctx, "after"), "ended part-way")

	// A dial whose context ends during the handshake.
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(silent.Close)
	d, cancelD := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelD()
	_, err = Dial(d, wsURL(silent), nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, errors.Is(err, ErrEnded))
}
