package proxy

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
)

// transports lists the two ways of reaching plain-http targets; most tests
// run against both.
var transports = []struct {
	name       string
	useNetHTTP bool
}{
	{"http1", false},
	{"nethttp", true},
}

// fakeClock is an injected clock for the breaker and the retry budget.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// recorder is an Observer that stores the calls it receives.
type recorder struct {
	mu       sync.Mutex
	requests []observed
	health   []healthEvent
	retries  int
}

type observed struct {
	target string
	status int
	kind   ErrorKind
}

type healthEvent struct {
	target  string
	healthy bool
}

func (r *recorder) UpstreamRequest(_, target string, status int, kind ErrorKind, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, observed{target, status, kind})
}

func (r *recorder) TargetHealth(_, target string, healthy bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.health = append(r.health, healthEvent{target, healthy})
}

func (r *recorder) Retry(string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries++
}

func (r *recorder) retryCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retries
}

func (r *recorder) healthEvents() []healthEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]healthEvent(nil), r.health...)
}

// testLogger writes to the test log at debug level.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// newTestUpstream builds an upstream that is stopped when the test ends.
func newTestUpstream(t testing.TB, cfg config.Upstream, opt Options) *Upstream {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "api"
	}
	if opt.Logger == nil {
		opt.Logger = testLogger(t)
	}
	u, err := NewUpstream(cfg, opt)
	if err != nil {
		t.Fatalf("NewUpstream: %v", err)
	}
	t.Cleanup(u.Stop)
	return u
}

// gateway is a front server that forwards every request through u, as
// the gateway does, and keeps the Results.
type gateway struct {
	*httptest.Server
	mu      sync.Mutex
	results []Result
	client  *http.Client
}

func newGateway(t testing.TB, u *Upstream, adjust func(*http.Request, *Forwarding)) *gateway {
	t.Helper()
	g := &gateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fw := Forwarding{
			Path:      r.URL.EscapedPath(),
			RawQuery:  r.URL.RawQuery,
			ClientIP:  netip.MustParseAddr("192.0.2.10"),
			Proto:     "http",
			Host:      r.Host,
			RequestID: "req-1",
		}
		if adjust != nil {
			adjust(r, &fw)
		}
		res := u.Forward(w, r, fw)
		g.mu.Lock()
		g.results = append(g.results, res)
		g.mu.Unlock()
		if res.Aborted {
			panic(http.ErrAbortHandler)
		}
	}))
	g.client = &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	t.Cleanup(func() {
		g.client.CloseIdleConnections()
		g.Close()
	})
	return g
}

func (g *gateway) lastResult() Result {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.results) == 0 {
		return Result{}
	}
	return g.results[len(g.results)-1]
}

// do sends a request to the gateway and returns the status and body.
func (g *gateway) do(t testing.TB, method, path string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body of %s %s: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}

// refusedAddr returns a loopback address where nothing listens.
func refusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// namedServer is an upstream that responds with its name.
func namedServer(t testing.TB, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

func intp(v int) *int { return &v }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
