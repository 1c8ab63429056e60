package listener

import (
	"bufio"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// benchRequests are typical requests: a browser-like GET, a JSON POST and a
// chunked upload.
var benchRequests = []struct {
	name, method, target, raw string
}{
	{name: "get", method: "GET", target: "/api/v1/orders?limit=20&cursor=abc", raw: crlf("GET /api/v1/orders?limit=20&cursor=abc HTTP/1.1\n" +
		"Host: api.example.com\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\n" +
		"Accept: application/json\nAccept-Encoding: gzip, deflate, br\nAccept-Language: en-US,en;q=0.9\n" +
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnopqrstuvwxyz\n" +
		"Cookie: session=0123456789abcdef; theme=dark\nX-Request-Id: 5f0c6a1e-8a57-4b8e-9d53-2f1c0b6a7e11\n\n")},
	{name: "post", method: "POST", target: "/api/v1/orders", raw: crlf("POST /api/v1/orders HTTP/1.1\nHost: api.example.com\n"+
		"Content-Type: application/json\nAuthorization: Bearer token\nContent-Length: 1024\n\n") + strings.Repeat("x", 1024)},
	{name: "chunked", method: "PUT", target: "/upload", raw: crlf("PUT /upload HTTP/1.1\nHost: api.example.com\nTransfer-Encoding: chunked\n\n") +
		strings.Repeat("400\r\n"+strings.Repeat("y", 1024)+"\r\n", 4) + "0\r\n\r\n"},
}

// BenchmarkTracker measures the tracker's cost per request: tracking its
// bytes and taking its verdict as Check does.
func BenchmarkTracker(b *testing.B) {
	seed := maphash.MakeSeed()
	for _, br := range benchRequests {
		b.Run(br.name, func(b *testing.B) {
			raw := []byte(br.raw)
			tr := newTestTracker(seed, testMaxHead)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				tr.feed(raw)
				if reason := tr.take(requestKey(seed, br.method, br.target)); reason != "" {
					b.Fatalf("verdict %q", reason)
				}
			}
		})
	}
}

// BenchmarkServer measures a keep-alive request through http.Server over
// loopback, with and without Wrap, so the tracker's share is visible against
// the whole request.
func BenchmarkServer(b *testing.B) {
	for _, wrapped := range []bool{false, true} {
		for _, br := range benchRequests {
			b.Run(fmt.Sprintf("wrapped=%v/%s", wrapped, br.name), func(b *testing.B) {
				addr := benchServer(b, wrapped)
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatalf("dialing %s: %v", addr, err)
				}
				defer c.Close()
				reader := bufio.NewReader(c)
				raw := []byte(br.raw)
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Write(raw); err != nil {
						b.Fatalf("writing request: %v", err)
					}
					resp, err := http.ReadResponse(reader, nil)
					if err != nil {
						b.Fatalf("reading response: %v", err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
		}
	}
}

func benchServer(b *testing.B, wrapped bool) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("listening on 127.0.0.1: %v", err)
	}
	srv := &http.Server{Handler: checkHandler(true), ReadHeaderTimeout: 5 * time.Second}
	var l net.Listener = ln
	if wrapped {
		srv.ConnContext = ConnContext
		l = Wrap(ln, Options{})
	}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestTrackerDoesNotAllocate checks that tracking requests and taking their
// verdicts allocates nothing while at most four verdicts wait.
func TestTrackerDoesNotAllocate(t *testing.T) {
	seed := maphash.MakeSeed()
	tr := newTestTracker(seed, testMaxHead)
	var stream []byte
	for _, br := range benchRequests {
		stream = append(stream, br.raw...)
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := 0; i < len(stream); i += 7 {
			tr.feed(stream[i:min(i+7, len(stream))])
		}
		for _, br := range benchRequests {
			if reason := tr.take(requestKey(seed, br.method, br.target)); reason != "" {
				t.Fatalf("verdict %q for %s", reason, br.name)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per run = %v, want 0", allocs)
	}
}
