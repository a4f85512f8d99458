package redisbroker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wsunify/wsunify/facade"
	"github.com/wsunify/wsunify/facade/redisbroker"
	"github.com/wsunify/wsunify/internal/wstest"
)

// quiet discards logs of tests that provoke warnings on purpose.
var quiet = slog.New(slog.DiscardHandler)

// redisServer is a real redis-server on a free loopback port, with no
// persistence, in a temporary directory. It is stopped on cleanup.
type redisServer struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	args []string // more arguments, kept across restarts
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis starts a redis-server. It fails the test, with the way to fix
// it, when redis-server is not installed: these tests never skip.
func startRedis(tb testing.TB) *redisServer {
	tb.Helper()
	return startRedisOn(tb, freePort(tb))
}

// startRedisOn starts a redis-server on port with the extra arguments.
func startRedisOn(tb testing.TB, port int, args ...string) *redisServer {
	tb.Helper()
	s := &redisServer{tb: tb, bin: lookPath(tb, "redis-server"), dir: tb.TempDir(), port: port, args: args}
	s.start()
	tb.Cleanup(s.stop)
	return s
}

// lookPath finds a program of Debian's redis-server package. The tests fail,
// with the way to fix it, when it is not installed: they never skip.
func lookPath(tb testing.TB, name string) string {
	tb.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("%s is required by the redisbroker tests and was not found in PATH (install the Debian package: apt-get install -y redis-server): %v", name, err)
	}
	return bin
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Addr returns host:port.
func (s *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start runs the server and waits until it answers PING.
func (s *redisServer) start() {
	s.tb.Helper()
	logf, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(s.tb, err)
	defer logf.Close()
	s.cmd = exec.Command(s.bin, append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir}, s.args...)...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	require.NoError(s.tb, s.cmd.Start(), "start redis-server")
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if pingRaw(s.Addr()) {
			return
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.tb.Fatalf("redis-server exited at start:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.tb.Fatalf("redis-server on port %d did not answer PING in 10s", s.port)
}

// stop kills the server (as a crash would) and waits for it to exit. A
// later start on the same port is a Redis that lost every key.
func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// cluster is a real Redis Cluster of three masters on loopback, without
// replicas or persistence, made by redis-cli --cluster create.
type cluster struct {
	nodes []*redisServer
}

// startCluster starts the three servers, with the extra arguments if any,
// creates the cluster and waits until every node reports cluster_state:ok
// and knows all 16384 slots.
func startCluster(tb testing.TB, args ...string) *cluster {
	tb.Helper()
	c := &cluster{}
	var addrs []string
	for range 3 {
		// A node restarted by a test keeps its identity and its slots
		// (nodes.conf in its directory); while it is away, the others
		// must not declare it failed, which would stop the whole cluster.
		n := startRedisOn(tb, freeClusterPort(tb), append([]string{"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "10000"}, args...)...)
		c.nodes = append(c.nodes, n)
		addrs = append(addrs, n.Addr())
	}
	out, err := exec.Command(lookPath(tb, "redis-cli"), append(append([]string{"--cluster", "create"}, addrs...),
		"--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	require.NoError(tb, err, "redis-cli --cluster create:\n%s", out)
	c.waitOK(tb)
	return c
}

// freeClusterPort returns a free port whose cluster bus port (+10000) is
// free too.
func freeClusterPort(tb testing.TB) int {
	tb.Helper()
	for {
		p := freePort(tb)
		if p+10000 > 65535 {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		_ = ln.Close()
		return p
	}
}

// waitOK waits until every node reports cluster_state:ok and all slots.
func (c *cluster) waitOK(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range c.nodes {
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1})
		for {
			info, err := rdb.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_slots_ok:16384") {
				break
			}
			if time.Now().After(deadline) {
				_ = rdb.Close()
				tb.Fatalf("cluster node %s not ok in 20s: %v\n%s", n.Addr(), err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = rdb.Close()
	}
}

// client returns a cluster client configured as the package documents,
// with short timeouts for the fault tests.
func (c *cluster) client(tb testing.TB) *redis.ClusterClient {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:        addrs,
		MaxRetries:   -1,
		DialTimeout:  500 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
	})
	tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// usersOnEveryShard returns per users on each master, in master order:
// users whose keys live on every shard of the cluster.
func (c *cluster) usersOnEveryShard(tb testing.TB, per int) [][]string {
	tb.Helper()
	cc := c.client(tb)
	byAddr := make(map[string][]string)
	for i := 0; ; i++ {
		u := "u" + strconv.Itoa(i)
		node, err := cc.MasterForKey(context.Background(), "{user:"+u+"}")
		require.NoError(tb, err)
		addr := node.Options().Addr
		if len(byAddr[addr]) < per {
			byAddr[addr] = append(byAddr[addr], u)
		}
		full := 0
		for _, us := range byAddr {
			if len(us) == per {
				full++
			}
		}
		if full == len(c.nodes) {
			break
		}
	}
	out := make([][]string, 0, len(c.nodes))
	for _, n := range c.nodes {
		require.Len(tb, byAddr[n.Addr()], per, "node %s", n.Addr())
		out = append(out, byAddr[n.Addr()])
	}
	return out
}

// freeze stops the server with SIGSTOP: connections stay open, the kernel
// still accepts new ones, nothing is answered. thaw resumes it; cleanup
// thaws a frozen server before stopping it.
func (s *redisServer) freeze() {
	s.tb.Helper()
	require.NoError(s.tb, s.cmd.Process.Signal(syscall.SIGSTOP))
	s.tb.Cleanup(s.thaw)
}

func (s *redisServer) thaw() {
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// pingRaw reports whether a Redis answers PING at addr.
func pingRaw(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// newClient returns a go-redis client for addr, configured as the package
// documents (no retries), with short timeouts for the fault tests.
func newClient(tb testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr:         addr,
		MaxRetries:   -1,
		DialTimeout:  500 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
	})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// testOptions are broker options with short timeouts, so faults are found
// and recovered from quickly.
func testOptions() *redisbroker.Options {
	return &redisbroker.Options{
		OpTimeout:      500 * time.Millisecond,
		HealthInterval: 200 * time.Millisecond,
		MaxBackoff:     200 * time.Millisecond,
		PresenceTTL:    time.Second,
		Logger:         quiet,
	}
}

// node is one instance: a hub with a Redis broker behind wstest's server
// on loopback. A client that dials with a user is authenticated and made
// ready by the handler; ids opts in to event IDs.
type node struct {
	*wstest.Server
	hub    *facade.Hub
	broker *redisbroker.Broker
	rdb    redis.UniversalClient
}

func newNode(tb testing.TB, addr string, o *redisbroker.Options) *node {
	tb.Helper()
	return newNodeOn(tb, newClient(tb, addr), o)
}

// newNodeOn is newNode on a client of the test's choosing.
func newNodeOn(tb testing.TB, rdb redis.UniversalClient, o *redisbroker.Options) *node {
	tb.Helper()
	return newNodeWith(tb, rdb, o, nil)
}

// newNodeWith is newNodeOn with the hub's options (nil: defaults); the
// broker and the logger are the node's.
func newNodeWith(tb testing.TB, rdb redis.UniversalClient, o *redisbroker.Options, ho *facade.HubOptions) *node {
	tb.Helper()
	if o == nil {
		o = testOptions()
	}
	var hubOpts facade.HubOptions
	if ho != nil {
		hubOpts = *ho
	}
	n := &node{rdb: rdb}
	n.broker = redisbroker.New(n.rdb, o)
	hubOpts.Broker, hubOpts.Logger = n.broker, quiet
	n.hub = facade.NewHub(&hubOpts)
	n.Server = wstest.NewServer(tb, n.hub, nil)
	return n
}

// close ends the instance as a crash would for its clients: their sockets
// drop first, with no close frame; then the hub (and its broker) and the
// server close.
func (n *node) close() {
	n.HTTP.CloseClientConnections()
	_ = n.Close()
}

// client is a real gorilla client. One goroutine reads it, so that tests
// can wait for messages, or for silence, without breaking the connection.
type client struct {
	tb   testing.TB
	ws   *websocket.Conn
	c    *facade.Conn // the server side
	msgs chan event
	end  chan struct{} // closed when the connection ends
}

// dialOpts are a client's query parameters.
type dialOpts struct {
	user, id, lastEventID string
	ids                   bool
	subprotocols          []string
}

func (n *node) dial(tb testing.TB, o dialOpts) *client {
	tb.Helper()
	ws, c := n.Gorilla(tb, wstest.Query{ID: o.id, EventIDs: o.ids, LastEventID: o.lastEventID, User: o.user}, o.subprotocols...)
	cl := &client{tb: tb, ws: ws, c: c, msgs: make(chan event, 1<<16), end: make(chan struct{})}
	go cl.readLoop()
	tb.Cleanup(func() { ws.Close(); <-cl.end })
	return cl
}

func (c *client) readLoop() {
	defer close(c.end)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		e := event{raw: string(data)}
		if len(data) > 0 && data[0] == '{' {
			if err := json.Unmarshal(data, &e); err != nil {
				e.Seq = -1
			}
		}
		c.msgs <- e
	}
}

// event is a received message, decoded.
type event struct {
	ID  string `json:"event_id"`
	Seq int    `json:"seq"`
	raw string
}

// read waits for n messages, failing after a generous deadline.
func (c *client) read(n int) []event {
	c.tb.Helper()
	out := make([]event, 0, n)
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case e := <-c.msgs:
			out = append(out, e)
		case <-c.end:
			if len(c.msgs) == 0 {
				c.tb.Fatalf("connection ended after %d of %d messages", len(out), n)
			}
		case <-timeout:
			last := "none"
			if len(out) > 0 {
				last = out[len(out)-1].raw
			}
			c.tb.Fatalf("timed out after %d of %d messages (seqs %v, last %s)", len(out), n, seqs(out), last)
		}
	}
	return out
}

// readUntilEnd returns every message until the connection ends.
func (c *client) readUntilEnd() []event {
	c.tb.Helper()
	select {
	case <-c.end:
	case <-time.After(10 * time.Second):
		c.tb.Fatal("the connection never ended")
	}
	var out []event
	for len(c.msgs) > 0 {
		out = append(out, <-c.msgs)
	}
	return out
}

// silent asserts that nothing arrives for d.
func (c *client) silent(d time.Duration) {
	c.tb.Helper()
	select {
	case e := <-c.msgs:
		c.tb.Fatalf("unexpected message %s", e.raw)
	case <-time.After(d):
	}
}

func seqEvent(i int) facade.Event { return facade.Raw(map[string]any{"seq": i}) }

func notify(tb testing.TB, n *node, to facade.Target, ev facade.Event) {
	tb.Helper()
	require.NoError(tb, n.hub.Notify(context.Background(), to, ev))
}

// seqs returns the sequence numbers of events.
func seqs(es []event) []int {
	out := make([]int, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

// span returns [from, from+1, ..., to].
func span(from, to int) []int {
	out := make([]int, 0, to-from+1)
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// proxy is a TCP proxy in front of Redis whose network can be cut (every
// connection reset, new ones refused) or paused (connections stay open,
// nothing flows) for the fault tests. It can also pause only what Redis
// sends on subscriptions, to make a hub's live feed lag behind Redis.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	cut      bool
	paused   chan struct{} // non-nil while paused; closed on resume
	subsOnly bool          // the pause holds subscriptions' replies only
	command  string        // the pause holds what clients send from this command on
	loseOne  string        // the next command of this name reaches Redis, its reply is lost
	refuse   string        // a command holding this text breaks its connection before it reaches Redis
}

// link is one proxied connection; it knows whether it carries a
// subscription, and whether it is held for a command it sent.
type link struct{ subscriber, held atomic.Bool }

func newProxy(tb testing.TB, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	p := &proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Go(p.accept)
	tb.Cleanup(p.close)
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		l := &link{}
		p.wg.Go(func() { p.pipe(up, c, l, true) })
		p.wg.Go(func() { p.pipe(c, up, l, false) })
	}
}

// pipe copies src to dst, holding each chunk while the proxy is paused.
func (p *proxy) pipe(dst, src net.Conn, l *link, fromClient bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := strings.ToLower(string(buf[:n]))
			if fromClient && strings.Contains(chunk, "subscribe") {
				l.subscriber.Store(true)
			}
			p.mu.Lock()
			if fromClient && p.refuse != "" && strings.Contains(chunk, p.refuse) {
				p.mu.Unlock()
				return // closes both: the command never reaches Redis
			}
			if fromClient && p.loseOne != "" && strings.Contains(chunk, p.loseOne) {
				p.loseOne = ""
				p.mu.Unlock()
				_ = src.Close() // first, so that no reply gets back
				_, _ = dst.Write(buf[:n])
				return // closes Redis's side too, after the command
			}
			gate := p.paused
			switch {
			case p.command != "":
				if fromClient && strings.Contains(chunk, p.command) {
					l.held.Store(true)
				}
				if !fromClient || !l.held.Load() {
					gate = nil
				}
			case p.subsOnly && (fromClient || !l.subscriber.Load()):
				gate = nil
			}
			p.mu.Unlock()
			if gate != nil {
				<-gate
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Cut resets every connection and refuses new ones until Restore.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Pause stops every byte, leaving connections open, until Restore.
func (p *proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused == nil {
		p.paused = make(chan struct{})
	}
}

// PauseSubscriptions holds what Redis sends on subscriptions until
// Restore; commands flow.
func (p *proxy) PauseSubscriptions() {
	p.Pause()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.subsOnly = true
}

// PauseCommand holds every command named cmd (lower case) that clients
// send, and what follows it on its connection, until Restore; the rest
// flows.
func (p *proxy) PauseCommand(cmd string) {
	p.Pause()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.command = cmd
}

// LoseReply lets the next command named cmd (lower case) reach Redis and
// then breaks its connection, so that its reply is lost.
func (p *proxy) LoseReply(cmd string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loseOne = cmd
}

// Refuse breaks the connection of every command that holds text (lower
// case) before it reaches Redis, until Restore; the rest flows.
func (p *proxy) Refuse(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = text
}

// RefuseMarks keeps the delivered marks of the hubs behind p from reaching
// Redis until Restore: what a hub writes within one mark batch lasts as
// long as the test needs. It refuses the text of the script that raises a
// mark.
func (p *proxy) RefuseMarks() { p.Refuse("local cur = redis.call('get'") }

// Restore ends a cut, a pause or a refusal.
func (p *proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	p.refuse = ""
	p.subsOnly = false
	p.command = ""
	if p.paused != nil {
		close(p.paused)
		p.paused = nil
	}
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.Restore()
	p.Cut()
	p.wg.Wait()
}
