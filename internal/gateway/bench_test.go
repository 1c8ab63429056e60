package gateway

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/event"
	"github.com/warden-api/warden/internal/metrics"
	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/sqlite"
)

// cannedUpstream responds to every request on a keep-alive connection with a
// fixed small response, without net/http, so the benchmark measures the
// gateway rather than the upstream.
func cannedUpstream(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	const resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n{\"id\":42,\"title\":\"A book\"}"
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if _, err := io.WriteString(c, resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// BenchmarkServe measures one request through the pipeline (client
// address, path canonicalization, routing, forwarding, metrics and the
// event) with the client side replaced by an in-memory recorder.
func BenchmarkServe(b *testing.B) {
	up := cannedUpstream(b)
	dir := b.TempDir()
	path := filepath.Join(dir, "warden.yaml")
	cfgText := strings.NewReplacer("UPSTREAM", up, "LISTEN", "127.0.0.1:1", "ADMIN", "off").Replace(publicOnlyConfig)
	cfgText = strings.Replace(cfgText, "address: off", "address: \"off\"", 1)
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus := event.NewBus(1<<16, []event.Sink{event.NewLineSink("discard", io.Discard, nil)}, logger, nil)
	defer bus.Close(context.Background())
	p, err := Build(cfg, Deps{Logger: logger, Metrics: metrics.New(nil), Events: bus})
	if err != nil {
		b.Fatal(err)
	}
	p.Start(context.Background())
	defer p.Stop()

	req := httptest.NewRequest("GET", "/public/books/42", nil)
	req.RemoteAddr = "127.0.0.1:50000"
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := req.Clone(context.Background())
		p.serve(w, r, "bench", false)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
}

// BenchmarkServeKeyAuth is BenchmarkServe on a route that requires an API
// key, with the stages that come with it (brute-force check,
// authentication, the consumer's plan).
func BenchmarkServeKeyAuth(b *testing.B) {
	up := cannedUpstream(b)
	dir := b.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(filepath.Join(dir, "warden.db"), logger)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now().UTC()
	st.CreateConsumer(ctx, &store.Consumer{ID: "acme", Name: "Acme", Status: store.StatusActive, CreatedAt: now, UpdatedAt: now})
	plain, k, _ := apikey.Generate()
	st.CreateKey(ctx, &store.Key{ID: k.ID, ConsumerID: "acme", Hash: k.Hash(), CreatedAt: now})

	cfgText := strings.NewReplacer("UPSTREAM", up, "LISTEN", "127.0.0.1:1").Replace(publicOnlyConfig)
	cfgText = strings.Replace(cfgText, "address: ADMIN", "address: \"off\"", 1)
	cfgText = strings.Replace(cfgText, "    upstream: app\n", "    upstream: app\n    auth: {methods: [api_key]}\n", 1)
	path := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	bus := event.NewBus(1<<16, []event.Sink{event.NewLineSink("discard", io.Discard, nil)}, logger, nil)
	defer bus.Close(context.Background())
	m := metrics.New(nil)
	stages := NewStages(st, logger)
	sb, err := stages.Build(cfg, m)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Build(cfg, Deps{Logger: logger, Metrics: m, Events: bus, Stages: sb})
	if err != nil {
		b.Fatal(err)
	}
	p.Start(context.Background())
	defer p.Stop()
	defer stages.Close()

	req := httptest.NewRequest("GET", "/public/books/42", nil)
	req.RemoteAddr = "127.0.0.1:50000"
	req.Header.Set("X-API-Key", plain)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := req.Clone(context.Background())
		p.serve(w, r, "bench", false)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
}
