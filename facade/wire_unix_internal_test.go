//go:build unix

package facade

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server *net.TCPConn, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	sc, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { _ = sc.Close() })
	return sc.(*net.TCPConn), client
}

func rawOf(t *testing.T, c *net.TCPConn) syscall.RawConn {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	return rc
}

// The client's first frame can arrive before the parked reader reaches the
// poller (the reader goroutine is scheduled late on a loaded machine): the
// poller has already reported the socket readable by then, and no further
// edge comes. waitReadable must see the waiting bytes, not wait for an edge
// (it did, until the read deadline: a client's close was unanswered for
// PongTimeout).
func TestWaitReadableSeesBytesThatArrivedBeforeIt(t *testing.T) {
	server, client := tcpPair(t)
	_, err := client.Write([]byte{0x88, 0x80})
	require.NoError(t, err)
	// Let the poller report the readiness edge before waitReadable runs,
	// the worst moment: the runtime polls at least every 10 ms.
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, server.SetReadDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, waitReadable(rawOf(t, server)), "waitReadable missed bytes already in the socket")
	buf := make([]byte, 2)
	n, err := server.Read(buf)
	require.NoError(t, err)
	require.Equal(t, 2, n, "waitReadable consumed bytes")
}

// A peer that closed before the wait is seen as readable (EOF) too.
func TestWaitReadableSeesAnEarlierClose(t *testing.T) {
	server, client := tcpPair(t)
	require.NoError(t, client.Close())
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, server.SetReadDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, waitReadable(rawOf(t, server)))
}

// With nothing to read, it waits: until bytes arrive, or the deadline.
func TestWaitReadableWaitsForBytesOrTheDeadline(t *testing.T) {
	server, client := tcpPair(t)
	require.NoError(t, server.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	err := waitReadable(rawOf(t, server))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "got %v", err)

	require.NoError(t, server.SetReadDeadline(time.Now().Add(10*time.Second)))
	done := make(chan error, 1)
	go func() { done <- waitReadable(rawOf(t, server)) }()
	select {
	case err := <-done:
		t.Fatalf("waitReadable returned %v with nothing to read", err)
	case <-time.After(50 * time.Millisecond):
	}
	_, err = client.Write([]byte{1})
	require.NoError(t, err)
	require.NoError(t, <-done)
}
