package proxy

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"

	"github.com/warden-api/warden/internal/config"
)

// discardWriter is a ResponseWriter that keeps only the header, so that
// a benchmark measures the proxy and not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) Flush()                      {}

// cannedUpstream is a loopback HTTP/1.1 server that sends the same
// response to every bodiless request and allocates nothing per
// request, so that allocations counted by a benchmark are the proxy's.
func cannedUpstream(b *testing.B, response string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveCanned(c, response)
		}
	}()
	return "http://" + ln.Addr().String()
}

func serveCanned(c net.Conn, response string) {
	defer c.Close()
	br := bufio.NewReader(c)
	out := []byte(response)
	for {
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// BenchmarkForward forwards GET requests to a loopback upstream that
// responds with a small body, over both transports. Run it with
// -benchmem to see allocations per request.
func BenchmarkForward(b *testing.B) {
	body := `{"id":42,"name":"warden","tags":["a","b","c"],"ok":true}`
	upstream := cannedUpstream(b, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"+
		"Date: Fri, 04 Dec 2026 20:00:00 GMT\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)

	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			u, err := NewUpstream(config.Upstream{Name: "bench", Targets: []string{upstream}},
				Options{UseNetHTTP: tr.useNetHTTP, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer u.Stop()
			fw := Forwarding{
				Path:      "/items/42",
				ClientIP:  netip.MustParseAddr("192.0.2.1"),
				Proto:     "https",
				Host:      "api.example.com",
				RequestID: "0123456789abcdef",
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest("GET", "http://api.example.com/items/42", nil)
				r.Header.Set("User-Agent", "bench/1.0")
				r.Header.Set("Accept", "application/json")
				r.Header.Set("Authorization", "Bearer abc")
				w := &discardWriter{h: make(http.Header, 8)}
				for pb.Next() {
					clear(w.h)
					res := u.Forward(w, r, fw)
					if res.Err != nil || w.status != http.StatusOK {
						b.Fatalf("forward failed: %v (status %d)", res.Err, w.status)
					}
				}
			})
		})
	}
}

// BenchmarkForwardLargeBody streams a 1 MiB response.
func BenchmarkForwardLargeBody(b *testing.B) {
	body := make([]byte, 1<<20)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(body)
	}))
	defer upstream.Close()
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			u, err := NewUpstream(config.Upstream{Name: "bench", Targets: []string{upstream.URL}},
				Options{UseNetHTTP: tr.useNetHTTP, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer u.Stop()
			r := httptest.NewRequest("GET", "/big", nil)
			w := &discardWriter{h: make(http.Header)}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				if res := u.Forward(w, r, Forwarding{Path: "/big"}); res.Err != nil {
					b.Fatal(res.Err)
				}
			}
		})
	}
}
