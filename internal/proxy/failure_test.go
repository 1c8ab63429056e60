package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/problem"
)

// rawServer accepts connections on loopback and hands each to handle.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
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
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// readRequestHead reads a request head from c before a raw server
// responds.
func readRequestHead(c net.Conn) *bufio.Reader {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return br
		}
	}
}

func TestFailureStatuses(t *testing.T) {
	sleepy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer sleepy.Close()
	smuggler := rawServer(t, func(c net.Conn) {
		readRequestHead(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
	})
	silentTLS := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })

	tests := []struct {
		name       string
		target     string
		timeouts   config.UpstreamTimeouts
		wantStatus int
		wantKind   ErrorKind
		wantType   string
	}{
		{"refused", "http://" + refusedAddr(t), config.UpstreamTimeouts{}, 502, KindConnect, problem.BadGateway.Type},
		{"header timeout", sleepy.URL, config.UpstreamTimeouts{ResponseHeader: config.Duration(100 * time.Millisecond)}, 504, KindTimeout, problem.GatewayTimeout.Type},
		{"total timeout", sleepy.URL, config.UpstreamTimeouts{Total: config.Duration(100 * time.Millisecond)}, 504, KindTimeout, problem.GatewayTimeout.Type},
		{"smuggling", "http://" + smuggler, config.UpstreamTimeouts{}, 502, KindProtocol, problem.BadGateway.Type},
		{"tls handshake stall", "https://" + silentTLS, config.UpstreamTimeouts{Connect: config.Duration(100 * time.Millisecond)}, 504, KindTimeout, problem.GatewayTimeout.Type},
	}
	for _, tr := range transports {
		for _, tc := range tests {
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
				if tr.useNetHTTP && tc.name == "smuggling" {
					t.Skip("net/http's Transport drops Content-Length in favour of chunked framing (RFC 9112 section 6.3), which is safe too")
				}
				u := newTestUpstream(t, config.Upstream{
					Targets:  []string{tc.target},
					Timeouts: tc.timeouts,
					Retries:  config.Retries{Attempts: intp(0)},
				}, Options{UseNetHTTP: tr.useNetHTTP})
				g := newGateway(t, u, nil)
				start := time.Now()
				status, body := g.do(t, "GET", "/x", nil)
				if status != tc.wantStatus {
					t.Errorf("status = %d, want %d", status, tc.wantStatus)
				}
				if !strings.Contains(body, tc.wantType) || !strings.Contains(body, `"request_id":"req-1"`) {
					t.Errorf("body = %s, want problem %s with the request id", body, tc.wantType)
				}
				if strings.Contains(body, "127.0.0.1") {
					t.Errorf("body %s leaks the upstream address", body)
				}
				res := g.lastResult()
				if res.Kind != tc.wantKind {
					t.Errorf("kind = %v, want %v (error: %v)", res.Kind, tc.wantKind, res.Err)
				}
				if elapsed := time.Since(start); elapsed > 2*time.Second {
					t.Errorf("took %v, want the timeout to cut it short", elapsed)
				}
			})
		}
	}
}

func TestConnectTimeout(t *testing.T) {
	addr := blackholeAddr(t)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			u := newTestUpstream(t, config.Upstream{
				Targets:  []string{"http://" + addr},
				Timeouts: config.UpstreamTimeouts{Connect: config.Duration(150 * time.Millisecond)},
				Retries:  config.Retries{Attempts: intp(0)},
			}, Options{UseNetHTTP: tr.useNetHTTP})
			g := newGateway(t, u, nil)
			start := time.Now()
			status, _ := g.do(t, "GET", "/", nil)
			elapsed := time.Since(start)
			if status != http.StatusGatewayTimeout {
				t.Errorf("status = %d, want 504", status)
			}
			if res := g.lastResult(); res.Kind != KindTimeout {
				t.Errorf("kind = %v, want timeout (error: %v)", res.Kind, res.Err)
			}
			if elapsed < 100*time.Millisecond || elapsed > 2*time.Second {
				t.Errorf("took %v, want about the 150ms connect timeout", elapsed)
			}
		})
	}
}

func TestAbortedResponse(t *testing.T) {
	short := rawServer(t, func(c net.Conn) {
		readRequestHead(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
	})
	chunkedCut := rawServer(t, func(c net.Conn) {
		readRequestHead(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nonly part\r\n")
	})
	for _, tr := range transports {
		for _, addr := range []string{short, chunkedCut} {
			t.Run(tr.name, func(t *testing.T) {
				u := newTestUpstream(t, config.Upstream{Targets: []string{"http://" + addr}},
					Options{UseNetHTTP: tr.useNetHTTP})
				g := newGateway(t, u, nil)
				// The client sees the cut either before the header, which
				// was still buffered, or in the body.
				resp, err := g.client.Get(g.URL + "/")
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err == nil {
					t.Error("client read the truncated answer without an error")
				}
				res := g.lastResult()
				if !res.Aborted || res.Kind != KindReset {
					t.Errorf("result = %+v, want aborted with kind reset", res)
				}
			})
		}
	}
}

func TestMaxInFlight(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer slow.Close()
	u := newTestUpstream(t, config.Upstream{Targets: []string{slow.URL}, MaxInFlight: 1}, Options{})
	g := newGateway(t, u, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.do(t, "GET", "/", nil)
	}()
	waitFor(t, "one request in flight", func() bool { return u.inFlight.Load() == 1 })
	status, _ := g.do(t, "GET", "/", nil)
	close(release)
	<-done
	if status != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", status)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.results[0].Kind != KindOverloaded {
		t.Errorf("first finished result = %+v, want kind overloaded", g.results[0])
	}
}

func TestBodyTooLarge(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	}))
	defer echo.Close()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			obs := &recorder{}
			u := newTestUpstream(t, config.Upstream{Targets: []string{echo.URL}}, Options{Observer: obs, UseNetHTTP: tr.useNetHTTP})
			g := newGateway(t, u, func(r *http.Request, fw *Forwarding) {
				r.Body = http.MaxBytesReader(nil, r.Body, 1024)
			})
			// A chunked body of unknown length is checked only while it
			// streams.
			status, body := g.do(t, "POST", "/", io.MultiReader(strings.NewReader(strings.Repeat("x", 64<<10))))
			if status != http.StatusRequestEntityTooLarge {
				t.Errorf("status = %d, want 413 (body %s)", status, body)
			}
			if res := g.lastResult(); res.Kind != KindClient {
				t.Errorf("kind = %v, want client", res.Kind)
			}
			if u.targets[0].breaker.failures.Load() != 0 {
				t.Error("a client failure counted against the target")
			}
		})
	}
}

func TestClientGoneIsNotTargetFailure(t *testing.T) {
	started := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	}))
	defer slow.Close()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			u := newTestUpstream(t, config.Upstream{Targets: []string{slow.URL}}, Options{UseNetHTTP: tr.useNetHTTP})
			g := newGateway(t, u, nil)
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", g.URL+"/", nil)
			go func() {
				<-started
				cancel()
			}()
			if _, err := g.client.Do(req); err == nil {
				t.Fatal("canceled request succeeded")
			}
			waitFor(t, "the result", func() bool { return g.lastResult().Kind != KindNone })
			res := g.lastResult()
			if res.Kind != KindClient || res.Status != StatusClientClosed {
				t.Errorf("result = %+v, want kind client and status 499", res)
			}
			if got := u.targets[0].breaker.failures.Load(); got != 0 {
				t.Errorf("breaker counted %d failures, want 0", got)
			}
		})
	}
}
