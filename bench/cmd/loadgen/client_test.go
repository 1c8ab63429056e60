package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestReadHead(t *testing.T) {
	tests := []struct {
		name          string
		response      string
		wantStatus    int
		wantLength    int
		wantKeepAlive bool
		wantErr       bool
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, 5, true, false},
		{"close", "HTTP/1.1 401 Unauthorized\r\nconnection: Close\r\ncontent-length: 0\r\n\r\n", 401, 0, false, false},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", 204, 0, true, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0, false, true},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, false, true},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", 0, 0, false, true},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", 0, 0, false, true},
		{"truncated", "HTTP/1.1 200 OK\r\nContent-Le", 0, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, length, keepAlive, err := readHead(bufio.NewReader(strings.NewReader(tt.response)))
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("readHead error = %v, want error: %v", err, tt.wantErr)
			}
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if length != tt.wantLength {
				t.Errorf("length = %d, want %d", length, tt.wantLength)
			}
			if keepAlive != tt.wantKeepAlive {
				t.Errorf("keepAlive = %v, want %v", keepAlive, tt.wantKeepAlive)
			}
		})
	}
}

func FuzzReadHead(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	f.Add("HTTP/1.0 404 Not Found\r\nConnection: close\r\n\r\n")
	f.Fuzz(func(t *testing.T, response string) {
		status, length, _, err := readHead(bufio.NewReader(strings.NewReader(response)))
		if err == nil && (status < 0 || status > 999 || length < 0) {
			t.Errorf("readHead(%q) = status %d, length %d without an error", response, status, length)
		}
	})
}

// newTestServer starts a loopback server that returns body for every request
// carrying the X-Bench header the tests send, and returns its URL.
func newTestServer(t *testing.T, body string) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Bench") != "1" {
			http.Error(w, "missing X-Bench", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/books/1")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestConnReusesConnection(t *testing.T) {
	u := newTestServer(t, `{"id":1}`)
	c := newConn(u, []byte("X-Bench: 1\r\n"), time.Second)
	defer c.close()
	var first any
	for i := range 3 {
		status, err := c.do(context.Background())
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if status != http.StatusOK {
			t.Fatalf("request %d: status = %d, want 200", i, status)
		}
		if i == 0 {
			first = c.nc
		} else if c.nc != first {
			t.Errorf("request %d used a new connection, want the first one reused", i)
		}
	}
}

func TestRunCountsRequests(t *testing.T) {
	u := newTestServer(t, `{"id":1}`)
	cfg := loadConfig{
		url: u, header: []byte("X-Bench: 1\r\n"), rate: 200, duration: 250 * time.Millisecond,
		connections: 2, maxRequests: 1000, timeout: time.Second, tick: 100 * time.Microsecond,
	}
	conns := []*conn{newConn(u, cfg.header, cfg.timeout), newConn(u, cfg.header, cfg.timeout)}
	res := run(context.Background(), cfg, conns)
	for _, c := range conns {
		c.close()
	}
	if res.ok != 50 {
		t.Errorf("ok = %d, want 50 (200/s for 250ms); errors %d, last error %v", res.ok, res.errors, res.lastError)
	}
	if res.unsent != 0 {
		t.Errorf("unsent = %d, want 0", res.unsent)
	}
	if res.latency.total != res.ok {
		t.Errorf("latencies recorded = %d, want one per response (%d)", res.latency.total, res.ok)
	}
}

func TestParseLoopbackURL(t *testing.T) {
	tests := []struct {
		raw     string
		wantErr bool
	}{
		{"http://127.0.0.1:38004/books/1", false},
		{"http://[::1]:38004/", false},
		{"http://localhost/", false},
		{"https://127.0.0.1/", true},
		{"http://10.0.0.1:80/", true},
		{"http://example.com/", true},
		{"127.0.0.1:80", true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := parseLoopbackURL(tt.raw)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("parseLoopbackURL(%q) error = %v, want error: %v", tt.raw, err, tt.wantErr)
			}
		})
	}
}
