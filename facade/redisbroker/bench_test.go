package redisbroker_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsunify/wsunify/facade"
)

// Benchmarks of the Redis broker against the in-process hub, measured in
// the same run so that the ratio is meaningful:
//
//	go test -run '^$' -bench . -benchtime 20000x ./facade/redisbroker/
//
// Stream: pubs goroutines send b.N events in all to one user, as fast as
// Notify returns; the client is on the publishing hub (in-process) or on a
// second hub (Redis). It reports events per second for both and their
// ratio. Latency: the time from Notify to the client's read, one event at a
// time, and for a stream paced at a rate both sides sustain; it reports p50
// and p99 for both and the p99 ratio. (At full speed the in-process side
// outruns its reader, so its latency there is queueing, not delivery.)

// stamp is the benchmark's event: who sent it, its sequence, when.
type stamp struct {
	P int    `json:"p"`
	S int    `json:"s"`
	T int64  `json:"t"`
	X string `json:"x,omitempty"` // padding
}

// bench is a publisher and a ready client of user "u", possibly on two
// hubs.
type bench struct {
	pub     facade.Notifier
	ws      *websocket.Conn
	cleanup func()
}

// inProcess is one hub with no broker.
func inProcess(b *testing.B) *bench {
	hub := facade.NewHub(&facade.HubOptions{Logger: quiet})
	srv := readyServer(hub)
	ws := dialUser(b, srv)
	return &bench{pub: hub, ws: ws, cleanup: func() { ws.Close(); _ = hub.Close(); srv.Close() }}
}

// acrossRedis is two hubs on one Redis; the client is on the second.
func acrossRedis(b *testing.B, r *redisServer) *bench {
	a, c := newNode(b, r.Addr(), nil), newNode(b, r.Addr(), nil)
	c.HTTP.Close() // replaced by a plain handler below
	srv := readyServer(c.hub)
	ws := dialUser(b, srv)
	for c.broker.Stats().Replays == 0 {
		time.Sleep(time.Millisecond)
	}
	return &bench{pub: a.hub, ws: ws, cleanup: func() { ws.Close(); a.close(); c.close(); srv.Close() }}
}

// readyServer authenticates every connection as the user of its ?user=
// parameter, "u" by default, and makes it ready.
func readyServer(hub *facade.Hub) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := hub.Accept(w, r, nil)
		if err != nil {
			return
		}
		user := r.URL.Query().Get("user")
		if user == "" {
			user = "u"
		}
		_ = c.Authenticate(user)
		_ = c.ServicesReady()
		_ = c.Ready()
	}))
}

func dialUser(b *testing.B, srv *httptest.Server) *websocket.Conn {
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	return ws
}

// stream sends n events from pubs goroutines and returns events per second,
// measured until the client has read the last one. It checks each
// publisher's order.
func (s *bench) stream(b *testing.B, n, pubs int) float64 {
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	for p := range pubs {
		wg.Go(func() {
			for i := p; i < n; i += pubs {
				if err := s.pub.Notify(ctx, facade.ToUser("u"), facade.Raw(stamp{P: p, S: i})); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	next := make([]int, pubs)
	for p := range next {
		next[p] = p
	}
	_ = s.ws.SetReadDeadline(time.Now().Add(time.Minute))
	for range n {
		var m stamp
		if err := s.ws.ReadJSON(&m); err != nil {
			b.Fatal(err)
		}
		if m.S != next[m.P] {
			b.Fatalf("publisher %d: got %d, want %d", m.P, m.S, next[m.P])
		}
		next[m.P] += pubs
	}
	elapsed := time.Since(start)
	wg.Wait()
	return float64(n) / elapsed.Seconds()
}

// latency sends n events and returns the p50 and p99 of Notify-to-read:
// one at a time when rate is 0, else paced at rate events per second.
func (s *bench) latency(b *testing.B, n, rate int) (p50, p99 time.Duration) {
	ctx := context.Background()
	ds := make([]time.Duration, n)
	_ = s.ws.SetReadDeadline(time.Now().Add(time.Minute))
	read := func(i int) {
		var m stamp
		if err := s.ws.ReadJSON(&m); err != nil {
			b.Fatal(err)
		}
		ds[i] = time.Duration(time.Now().UnixNano() - m.T)
		if m.S != i {
			b.Fatalf("got seq %d, want %d", m.S, i)
		}
	}
	send := func(i int) error {
		return s.pub.Notify(ctx, facade.ToUser("u"), facade.Raw(stamp{S: i, T: time.Now().UnixNano()}))
	}
	if rate == 0 {
		for i := range n {
			if err := send(i); err != nil {
				b.Fatal(err)
			}
			read(i)
		}
	} else {
		var wg sync.WaitGroup
		wg.Go(func() {
			start, every := time.Now(), time.Second/time.Duration(rate)
			for i := range n {
				time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
				if err := send(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
		for i := range n {
			read(i)
		}
		wg.Wait()
	}
	slices.Sort(ds)
	return ds[n/2], ds[min(n-1, n*99/100)]
}

func BenchmarkStream(b *testing.B) {
	r := startRedis(b)
	for _, pubs := range []int{1, 8} {
		b.Run(fmt.Sprintf("publishers=%d", pubs), func(b *testing.B) {
			in, rd := inProcess(b), acrossRedis(b, r)
			defer in.cleanup()
			defer rd.cleanup()
			b.ResetTimer()
			inRate := in.stream(b, b.N, pubs)
			rdRate := rd.stream(b, b.N, pubs)
			b.StopTimer()
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(inRate, "inproc-ev/s")
			b.ReportMetric(rdRate, "redis-ev/s")
			b.ReportMetric(inRate/rdRate, "inproc/redis")
		})
	}
}

func BenchmarkLatency(b *testing.B) {
	r := startRedis(b)
	for _, rate := range []int{0, 5000} {
		name := "one-at-a-time"
		if rate > 0 {
			name = fmt.Sprintf("paced-%d/s", rate)
		}
		b.Run(name, func(b *testing.B) {
			in, rd := inProcess(b), acrossRedis(b, r)
			defer in.cleanup()
			defer rd.cleanup()
			b.ResetTimer()
			in50, in99 := in.latency(b, b.N, rate)
			rd50, rd99 := rd.latency(b, b.N, rate)
			b.StopTimer()
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(in50.Microseconds()), "inproc-p50-µs")
			b.ReportMetric(float64(in99.Microseconds()), "inproc-p99-µs")
			b.ReportMetric(float64(rd50.Microseconds()), "redis-p50-µs")
			b.ReportMetric(float64(rd99.Microseconds()), "redis-p99-µs")
			b.ReportMetric(float64(rd99)/float64(in99), "p99-redis/inproc")
		})
	}
}
