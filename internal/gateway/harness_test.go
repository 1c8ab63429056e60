package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/event"
)

// memorySink keeps events for assertions.
type memorySink struct {
	mu     sync.Mutex
	events []map[string]any
}

func (s *memorySink) Name() string { return "memory" }
func (s *memorySink) Write(e *event.Event) error {
	var m map[string]any
	if err := json.Unmarshal(e.AppendJSON(nil), &m); err != nil {
		return err
	}
	s.mu.Lock()
	s.events = append(s.events, m)
	s.mu.Unlock()
	return nil
}
func (s *memorySink) Flush() error { return nil }
func (s *memorySink) Close() error { return nil }

func (s *memorySink) all() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.events...)
}

// testGateway is a running gateway on loopback.
type testGateway struct {
	t       *testing.T
	srv     *Server
	url     string
	addr    string
	admin   string
	sink    *memorySink
	logs    *syncBuffer
	cfgPath string
	cfgText string
	cancel  context.CancelFunc
	done    chan error
	stopped sync.Once
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startGateway writes cfgYAML to a temp file (the listener and admin
// addresses are filled in with free loopback ports) and runs a Server on
// it. The config must contain the placeholders LISTEN and ADMIN.
func startGateway(t *testing.T, cfgYAML string, opts ...func(*Options)) *testGateway {
	t.Helper()
	dir := t.TempDir()
	listen, admin := freeAddr(t), freeAddr(t)
	cfgYAML = strings.ReplaceAll(cfgYAML, "LISTEN", listen)
	cfgYAML = strings.ReplaceAll(cfgYAML, "ADMIN", admin)
	path := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(path, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sink := &memorySink{}
	bus := event.NewBus(4096, []event.Sink{sink}, logger, nil)
	o := Options{Logger: logger, Version: "test", Events: bus}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(cfg, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &testGateway{t: t, srv: srv, sink: sink, logs: logs, cfgPath: path, cfgText: cfgYAML, cancel: cancel, done: make(chan error, 1)}
	go func() { g.done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-g.done:
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("gateway did not start within 5s")
	}
	g.addr = srv.Addrs()[0].String()
	g.url = "http://" + g.addr
	if a := srv.AdminAddr(); a != nil {
		g.admin = "http://" + a.String()
	}
	t.Cleanup(func() {
		g.stop()
		_ = bus.Close(context.Background())
	})
	return g
}

func (g *testGateway) stop() {
	g.stopped.Do(func() {
		g.cancel()
		select {
		case <-g.done:
		case <-time.After(40 * time.Second):
			g.t.Error("gateway did not stop within 40s")
		}
	})
}

// waitEvents waits until at least n events were written.
func (g *testGateway) waitEvents(n int) []map[string]any {
	g.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := g.sink.all()
		if len(evs) >= n || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// rawRequest sends request bytes as they are, because Go's HTTP client
// cleans paths and headers that the tests must send unchanged.
func rawRequest(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading response to %q: %v", firstLine(req), err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func firstLine(s string) string {
	if i := strings.Index(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// recordingUpstream is an upstream that records the paths it served.
type recordingUpstream struct {
	mu    sync.Mutex
	paths []string
	hdrs  []http.Header
	srv   *http.Server
	url   string
}

func newRecordingUpstream(t *testing.T, handler http.HandlerFunc) *recordingUpstream {
	t.Helper()
	u := &recordingUpstream{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.url = "http://" + l.Addr().String()
	u.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.paths = append(u.paths, r.URL.EscapedPath())
		u.hdrs = append(u.hdrs, r.Header.Clone())
		u.mu.Unlock()
		if handler != nil {
			handler(w, r)
			return
		}
		fmt.Fprintf(w, "path=%s", r.URL.Path)
	})}
	go u.srv.Serve(l)
	t.Cleanup(func() { u.srv.Close() })
	return u
}

func (u *recordingUpstream) served() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.paths...)
}

func (u *recordingUpstream) lastHeader() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.hdrs) == 0 {
		return nil
	}
	return u.hdrs[len(u.hdrs)-1]
}
