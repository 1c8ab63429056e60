package event

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendJSONFields(t *testing.T) {
	e := &Event{
		Timestamp: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC),
		ID:        "req-1",
		Dataset:   DatasetRequest,
		Outcome:   "failure",
		Duration:  1500 * time.Microsecond,
		Method:    "GET",
		Path:      "/users/\"alice\"\n",
		Status:    401,
		SourceIP:  "127.0.0.1",
		UserAgent: "curl/8\x00\xff",
		Route:     "users",
		Decision:  "deny",
		Stage:     "authn",
		Reason:    "key_revoked",
		Stages:    []Stage{{Name: "authn", Decision: "deny", Reason: "key_revoked"}},
		Attrs:     map[string]any{"authn.method": "api_key", "ratelimit.remaining": int64(3), "x": []string{"a"}, "flag": true},
	}
	var got map[string]any
	if err := json.Unmarshal(e.AppendJSON(nil), &got); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	want := map[string]any{
		"@timestamp":                 "2026-12-04T10:00:00Z",
		"event.id":                   "req-1",
		"event.dataset":              "warden.request",
		"event.outcome":              "failure",
		"event.duration":             float64(1500000),
		"http.request.method":        "GET",
		"url.path":                   "/users/\"alice\"\n",
		"http.response.status_code":  float64(401),
		"source.ip":                  "127.0.0.1",
		"user_agent.original":        "curl/8\x00\ufffd",
		"warden.route":               "users",
		"warden.decision":            "deny",
		"warden.reason":              "key_revoked",
		"warden.authn.method":        "api_key",
		"warden.ratelimit.remaining": float64(3),
		"warden.flag":                true,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if _, ok := got["user.id"]; ok {
		t.Error("empty user.id was written")
	}
}

type memorySink struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	block  chan struct{}
	closed bool
}

func (s *memorySink) Name() string { return "memory" }
func (s *memorySink) Write(e *Event) error {
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(e.AppendJSON(nil))
	s.buf.WriteByte('\n')
	return nil
}
func (s *memorySink) Flush() error { return nil }
func (s *memorySink) Close() error { s.closed = true; return nil }

func TestBusDeliversAllOnClose(t *testing.T) {
	sink := &memorySink{}
	bus := NewBus(1000, []Sink{sink}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	for i := 0; i < 500; i++ {
		bus.Publish(&Event{ID: "e", Dataset: DatasetRequest})
	}
	if err := bus.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := strings.Count(sink.buf.String(), "\n"); got != 500 {
		t.Errorf("delivered %d events, want 500", got)
	}
	if !sink.closed {
		t.Error("sink not closed")
	}
}

func TestBusDropsWhenFull(t *testing.T) {
	sink := &memorySink{block: make(chan struct{})}
	var logs bytes.Buffer
	bus := NewBus(4, []Sink{sink}, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	accepted := 0
	for i := 0; i < 100; i++ {
		if bus.Publish(&Event{ID: "e"}) {
			accepted++
		}
	}
	close(sink.block)
	if err := bus.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := bus.Dropped(), int64(100-accepted); got != want {
		t.Errorf("dropped = %d, want %d", got, want)
	}
	if accepted > 5 {
		t.Errorf("accepted %d events into a queue of 4 with a blocked sink", accepted)
	}
	if got := strings.Count(logs.String(), "event queue full"); got != 1 {
		t.Errorf("drop warnings logged %d times, want 1 (rate-limited)", got)
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("plain")
	f.Add("\x00\x1f\"\\\u2028\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON for %q: %s: %v", s, b, err)
		}
		if bytes.IndexByte(b, '\n') >= 0 {
			t.Fatalf("raw newline in %q", b)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	e := &Event{Timestamp: time.Now(), ID: "01HZX", Dataset: DatasetRequest, Method: "GET", Path: "/books/42",
		Status: 200, SourceIP: "127.0.0.1", UserAgent: "wrk", Route: "books", Decision: "allow", Upstream: "http://127.0.0.1:9000"}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
}
