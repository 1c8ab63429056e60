package http1

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestClient(t testing.TB, addr string) *Client {
	c := NewClient(Options{Addr: addr})
	t.Cleanup(c.Close)
	return c
}

func hostOf(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

// get sends a GET and returns the status and body.
func get(t testing.TB, c *Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: path, Host: "test"})
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body of %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

func TestConnectionReuse(t *testing.T) {
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	defer s.Close()
	c := newTestClient(t, hostOf(s))
	for i := range 20 {
		path := "/" + strings.Repeat("x", i)
		if status, body := get(t, c, path); status != 200 || body != path {
			t.Fatalf("got %d %q, want 200 %q", status, body, path)
		}
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("sequential requests used %d connections, want 1", got)
	}
	if got := c.idleCount(); got != 1 {
		t.Errorf("idle connections = %d, want 1", got)
	}
}

func TestConcurrentRequests(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	}))
	defer s.Close()
	c := newTestClient(t, hostOf(s))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				want := strings.Repeat("ab", i*j)
				var body io.Reader
				if want != "" {
					body = strings.NewReader(want)
				}
				resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/", Host: "t", Body: body, ContentLength: int64(len(want))})
				if err != nil {
					t.Errorf("POST: %v", err)
					return
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(got) != want {
					t.Errorf("echo = %q (%v), want %q", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// oneShotServer serves one request per connection with keep-alive
// promised, then closes the connection, as a server whose idle timeout
// expired would.
func oneShotServer(t *testing.T, requests *atomic.Int64) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				requests.Add(1)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	return ln.Addr().String()
}

func TestStaleConnection(t *testing.T) {
	var requests atomic.Int64
	c := newTestClient(t, oneShotServer(t, &requests))
	tests := []struct {
		name string
		req  func() *Request
	}{
		{"get is repeated", func() *Request { return &Request{Method: "GET", Host: "t"} }},
		{"post checks the connection", func() *Request {
			return &Request{Method: "POST", Host: "t", Body: strings.NewReader("data"), ContentLength: 4}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 3 {
				resp, err := c.Do(context.Background(), tc.req())
				if err != nil {
					t.Fatalf("request %d on a closed idle connection: %v", i, err)
				}
				io.ReadAll(resp.Body)
				resp.Body.Close()
				time.Sleep(50 * time.Millisecond) // let the server close
			}
		})
	}
}

func TestErrorNoResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	answers := make(chan string, 2)
	answers <- ""
	answers <- "HTTP/1.1 200 OK\r\nContent-"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			readHead(c)
			io.WriteString(c, <-answers)
			c.Close()
		}
	}()
	c := newTestClient(t, ln.Addr().String())
	for _, want := range []bool{true, false} {
		_, err := c.Do(context.Background(), &Request{Method: "GET", Host: "t"})
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error = %v, want *Error", err)
		}
		if e.NoResponse != want || e.Op != OpRead {
			t.Errorf("error %v: NoResponse = %v, Op = %s; want %v, read", err, e.NoResponse, e.Op, want)
		}
	}

	refused := NewClient(Options{Addr: ln.Addr().String()})
	ln.Close()
	_, err = refused.Do(context.Background(), &Request{Method: "GET", Host: "t"})
	var e *Error
	if !errors.As(err, &e) || e.Op != OpDial || !e.NoResponse {
		t.Errorf("error = %v, want a dial error with NoResponse", err)
	}
}

func readHead(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

func TestRequestWire(t *testing.T) {
	got := make(chan string, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				var b strings.Builder
				for {
					line, err := br.ReadString('\n')
					b.WriteString(line)
					if err != nil || line == "\r\n" {
						break
					}
				}
				if strings.Contains(b.String(), "chunked") {
					for {
						line, err := br.ReadString('\n')
						b.WriteString(line)
						if err != nil || strings.HasSuffix(b.String(), "0\r\nX-Sum: 7\r\n\r\n") {
							break
						}
					}
				}
				got <- b.String()
				io.WriteString(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			}()
		}
	}()
	c := newTestClient(t, ln.Addr().String())
	tests := []struct {
		name string
		req  *Request
		want []string
		not  []string
	}{
		{"get", &Request{Method: "GET", Path: "/a%2Fb", RawQuery: "x=1", Host: "api.test",
			Header: http.Header{"User-Agent": {""}, "X-A": {"1", "2"}}},
			[]string{"GET /a%2Fb?x=1 HTTP/1.1\r\nHost: api.test\r\n", "X-A: 1\r\nX-A: 2\r\n"},
			[]string{"User-Agent", "Content-Length"}},
		{"empty post", &Request{Method: "POST", Host: "h"}, []string{"Content-Length: 0\r\n"}, nil},
		{"chunked with trailer", &Request{Method: "PUT", Host: "h", Body: strings.NewReader("hello"), ContentLength: -1,
			Trailer: http.Header{"X-Sum": {"7"}}},
			[]string{"Transfer-Encoding: chunked\r\n", "Trailer: X-Sum\r\n", "5\r\nhello\r\n0\r\nX-Sum: 7\r\n\r\n"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Do(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			wire := <-got
			for _, w := range tc.want {
				if !strings.Contains(wire, w) {
					t.Errorf("request %q lacks %q", wire, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(wire, n) {
					t.Errorf("request %q contains %q", wire, n)
				}
			}
		})
	}
}

func TestInvalidRequestRejected(t *testing.T) {
	c := newTestClient(t, "127.0.0.1:1")
	tests := []struct {
		name string
		req  *Request
	}{
		{"method", &Request{Method: "GE T", Host: "h"}},
		{"path", &Request{Method: "GET", Path: "/a b", Host: "h"}},
		{"host", &Request{Method: "GET", Host: "h\r\nX: y"}},
		{"header value", &Request{Method: "GET", Host: "h", Header: http.Header{"X-A": {"a\r\nInjected: 1"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Do(context.Background(), tc.req); err == nil {
				t.Error("request sent, want an error")
			}
		})
	}
}

func TestTimeoutsAndCancel(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer s.Close()
	c := newTestClient(t, hostOf(s))

	start := time.Now()
	_, err := c.Do(context.Background(), &Request{Method: "GET", Host: "t", ResponseHeaderTimeout: 50 * time.Millisecond})
	if !isTimeout(err) || time.Since(start) > 2*time.Second {
		t.Errorf("header timeout: error = %v after %v, want a timeout after about 50ms", err, time.Since(start))
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	_, err = c.Do(ctx, &Request{Method: "GET", Host: "t"})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("cancel: error = %v after %v, want context.Canceled soon", err, time.Since(start))
	}
}

func TestEarlyResponseDuringUpload(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	defer s.Close()
	c := newTestClient(t, hostOf(s))
	body := io.LimitReader(zeros{}, 64<<20)
	resp, err := c.Do(context.Background(), &Request{Method: "POST", Host: "t", Body: body, ContentLength: 64 << 20})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", resp.StatusCode)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
