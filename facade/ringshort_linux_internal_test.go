//go:build linux && (amd64 || arm64)

package facade

import (
	"bytes"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A batch's send to a socket that has room for part of it (small buffers,
// a client not reading) comes back short: ns is what the socket took, no
// more and no less, so the writer knows where the frame it cut resumes;
// and a send to a socket with no room at all reports 0, not an error. The
// client then reads exactly the bytes reported, in order.
func TestRingReportsShortSendsExactly(t *testing.T) {
	r := getRing()
	if r == nil {
		t.Skip("io_uring is refused on this machine: the flusher writes each socket")
	}
	defer putRing(r)
	server, client := tcpPair(t)
	require.NoError(t, server.SetWriteBuffer(4096))
	require.NoError(t, client.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4096))
	buf := make([]byte, 4<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	raws := []syscall.RawConn{rawOf(t, server)}
	ns, errs := []int{0}, []error{nil}
	var sent []byte
	for range 2 {
		ns[0], errs[0] = 0, nil
		require.True(t, r.sendPinned(raws, [][]byte{buf}, ns, errs), "the ring failed as a whole")
		require.NoError(t, errs[0])
		require.GreaterOrEqual(t, ns[0], 0)
		require.Less(t, ns[0], len(buf), "a 4 MB send to a client that reads nothing is short")
		sent = append(sent, buf[:ns[0]]...)
		if ns[0] == 0 {
			break
		}
		buf = buf[ns[0]:] // what the writer sends next: the rest
	}
	require.NotEmpty(t, sent)
	require.NoError(t, server.CloseWrite())
	require.NoError(t, client.SetReadDeadline(time.Now().Add(30*time.Second)))
	got, err := io.ReadAll(client)
	require.NoError(t, err)
	require.Equal(t, len(sent), len(got), "the client read what the ring reported sent")
	require.True(t, bytes.Equal(sent, got), "and those bytes, in order")
}
