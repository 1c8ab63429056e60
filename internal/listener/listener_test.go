package listener

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkHandler responds 400 with the reason when Check rejects the request,
// closing the connection when closeOnReject is set, and otherwise echoes the
// method, path and body length.
func checkHandler(closeOnReject bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason, ok := Check(r); !ok {
			if closeOnReject {
				w.Header().Set("Connection", "close")
			}
			http.Error(w, reason, http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, len(body))
	})
}

// startServer serves h on 127.0.0.1 through a listener from Wrap and returns
// its address.
func startServer(t *testing.T, opt Options, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.1: %v", err)
	}
	srv := &http.Server{
		Handler:           h,
		ConnContext:       ConnContext,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	go srv.Serve(Wrap(ln, opt))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// exchange sends raw on a new connection, half-closes it so that the server
// ends the connection after its last response, and returns each response as
// "status body".
func exchange(t *testing.T, addr, raw string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatalf("writing request: %v", err)
	}
	c.(*net.TCPConn).CloseWrite()

	var got []string
	br := bufio.NewReader(c)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
				t.Fatalf("reading response %d: %v", len(got)+1, err)
			}
			return got
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, body)))
	}
}

func isReset(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && strings.Contains(opErr.Err.Error(), "connection reset")
}

func TestServerRejectsAmbiguousFraming(t *testing.T) {
	addr := startServer(t, Options{}, checkHandler(true))
	get := crlf("GET /next HTTP/1.1\nHost: a\n\n")
	post := crlf("POST /cl HTTP/1.1\nHost: a\nContent-Length: 5\n\nhello")
	chunked := crlf("POST /chunked HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n")
	clte := crlf("POST /smuggle HTTP/1.1\nHost: a\nContent-Length: 6\nTransfer-Encoding: chunked\n\n0\n\nG")
	tecl := crlf("POST /smuggle HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nContent-Length: 6\n\n0\n\nG")
	bad400 := func(reason string) string { return "400 " + reason }
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{name: "valid cl", raw: post, want: []string{"200 POST /cl 5"}},
		{name: "valid chunked", raw: chunked, want: []string{"200 POST /chunked 5"}},
		{name: "chunk extensions", raw: crlf("POST /ext HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n5;a=b;c=\"d e\"\nhello\n0;z\nX-T: 1\n\n"), want: []string{"200 POST /ext 5"}},
		{name: "cl te", raw: clte, want: []string{bad400(ReasonContentLengthWithTransferEncoding)}},
		{name: "te cl", raw: tecl, want: []string{bad400(ReasonContentLengthWithTransferEncoding)}},
		{name: "two te", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n0\n\n"), want: []string{"501 Unsupported transfer encoding"}},
		{name: "te list", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked, identity\n\n0\n\n"), want: []string{"501 Unsupported transfer encoding"}},
		{name: "te xchunked", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: xchunked\n\n0\n\n"), want: []string{"501 Unsupported transfer encoding"}},
		{name: "te extra space", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding:  chunked\n\n0\n\n"), want: []string{bad400(ReasonInvalidTransferEncoding)}},
		{name: "te tab", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding:\tchunked\n\n0\n\n"), want: []string{bad400(ReasonInvalidTransferEncoding)}},
		{name: "te uppercase", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: CHUNKED\n\n0\n\n"), want: []string{bad400(ReasonInvalidTransferEncoding)}},
		{name: "te space before colon", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding : chunked\n\n0\n\n"), want: []string{"400 400 Bad Request: invalid header name"}},
		{name: "te in http10", raw: crlf("POST / HTTP/1.0\nHost: a\nTransfer-Encoding: chunked\nContent-Length: 3\n\nabc"), want: []string{bad400(ReasonTransferEncodingInHTTP10)}},
		{name: "duplicate cl", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 3\nContent-Length: 3\n\nabc"), want: []string{bad400(ReasonDuplicateContentLength)}},
		{name: "obs fold", raw: crlf("GET / HTTP/1.1\nHost: a\nX-A: b\n c\n\n"), want: []string{bad400(ReasonObsFold)}},
		{name: "obs fold te", raw: crlf("POST / HTTP/1.1\nHost: a\nX-A: b\n Transfer-Encoding: chunked\n\n0\n\n"), want: []string{bad400(ReasonObsFold)}},
		{name: "bare lf", raw: "GET / HTTP/1.1\nHost: a\n\n", want: []string{bad400(ReasonBareLF)}},
		{name: "bare lf in header", raw: "GET / HTTP/1.1\r\nHost: a\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", want: []string{bad400(ReasonBareLF)}},

		{name: "good then bad", raw: get + post + clte + get, want: []string{"200 GET /next 0", "200 POST /cl 5", bad400(ReasonContentLengthWithTransferEncoding)}},
		{name: "bad then good", raw: clte + get, want: []string{bad400(ReasonContentLengthWithTransferEncoding)}},
		{name: "pipelined", raw: get + chunked + post + get, want: []string{"200 GET /next 0", "200 POST /chunked 5", "200 POST /cl 5", "200 GET /next 0"}},
		{name: "deep pipeline", raw: strings.Repeat(get, 600), want: slices.Repeat([]string{"200 GET /next 0"}, 600)},
		{name: "cl body looks like head", raw: withLength("POST /fake HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", fakeHead) + get, want: []string{fmt.Sprintf("200 POST /fake %d", len(fakeHead)), "200 GET /next 0"}},
		{name: "chunk looks like request", raw: "POST /fake HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + withLength("%x\r\n", fakeRequest) + "\r\n0\r\n\r\n" + get, want: []string{fmt.Sprintf("200 POST /fake %d", len(fakeRequest)), "200 GET /next 0"}},
		{name: "crlf after post", raw: post + "\r\n" + get, want: []string{"200 POST /cl 5", "200 GET /next 0"}},
		{name: "options star", raw: crlf("OPTIONS * HTTP/1.1\nHost: a\n\n") + get, want: []string{"200", "200 GET /next 0"}},
		{name: "upgrade declined", raw: crlf("GET /ws HTTP/1.1\nHost: a\nConnection: Upgrade\nUpgrade: websocket\n\n") + get, want: []string{"200 GET /ws 0", "200 GET /next 0"}},
		{name: "connect", raw: crlf("CONNECT a:443 HTTP/1.1\nHost: a:443\n\n") + get, want: []string{"200 CONNECT  0", "200 GET /next 0"}},
		{name: "http10", raw: crlf("POST /old HTTP/1.0\nConnection: keep-alive\nContent-Length: 2\n\nhi") + crlf("GET /next HTTP/1.0\n\n"), want: []string{"200 POST /old 2", "200 GET /next 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, addr, tc.raw)
			if !slices.Equal(got, tc.want) {
				t.Errorf("responses = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestServerKeepsRejectingAfterReject uses a handler that leaves the
// connection open after a rejected request: every later request on it is
// rejected as untracked, and the debug log records the cause.
func TestServerKeepsRejectingAfterReject(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	addr := startServer(t, Options{Logger: logger}, checkHandler(false))
	get := crlf("GET /next HTTP/1.1\nHost: a\n\n")
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{name: "after cl te", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 6\nTransfer-Encoding: chunked\n\n0\n\n") + get,
			want: []string{"400 " + ReasonContentLengthWithTransferEncoding, "400 " + ReasonUntrackedRequest}},
		{name: "after trailer bare lf", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n0\n") + "\n" + get,
			want: []string{"200 POST / 0", "400 " + ReasonUntrackedRequest}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, addr, tc.raw)
			if !slices.Equal(got, tc.want) {
				t.Errorf("responses = %q, want %q", got, tc.want)
			}
		})
	}
	if !strings.Contains(logs.String(), "cause="+ReasonContentLengthWithTransferEncoding) {
		t.Errorf("debug log lacks the stop cause; log:\n%s", logs.String())
	}
}

// TestServerReadBoundaries writes a pipelined stream in pieces of every size
// from 1 to 16 bytes, so that the server's reads end at every position.
func TestServerReadBoundaries(t *testing.T) {
	addr := startServer(t, Options{}, checkHandler(true))
	raw := crlf("POST /a HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n3;x=y\nabc\n0\nT: 1\n\n") +
		crlf("POST /b HTTP/1.1\nHost: a\nContent-Length: 2\n\nhi\n") +
		crlf("GET /c HTTP/1.1\nHost: a\nContent-Length: 6\nTransfer-Encoding: chunked\n\n0\n\n")
	want := []string{"200 POST /a 3", "200 POST /b 2", "400 " + ReasonContentLengthWithTransferEncoding}
	for size := 1; size <= 16; size++ {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("dialing: %v", err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.(*net.TCPConn).SetNoDelay(true)
			go func() {
				for i := 0; i < len(raw); i += size {
					c.Write([]byte(raw[i:min(i+size, len(raw))]))
					time.Sleep(50 * time.Microsecond)
				}
				c.(*net.TCPConn).CloseWrite()
			}()
			var got []string
			br := bufio.NewReader(c)
			for range want {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("reading response %d: %v", len(got)+1, err)
				}
				body, _ := io.ReadAll(resp.Body)
				got = append(got, fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body))))
			}
			if !slices.Equal(got, want) {
				t.Errorf("responses = %q, want %q", got, want)
			}
		})
	}
}

func TestCheckUnwrapped(t *testing.T) {
	srv := httptest.NewServer(checkHandler(true))
	defer srv.Close()
	raw := crlf("POST /x HTTP/1.1\nHost: a\nContent-Length: 3\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n")
	got := exchange(t, srv.Listener.Addr().String(), raw)
	// Without Wrap the conflict is invisible: Go drops Content-Length.
	want := []string{"200 POST /x 3"}
	if !slices.Equal(got, want) {
		t.Errorf("responses = %q, want %q", got, want)
	}
}

// TestCheckTLS wraps the TCP listener under TLS, as the gateway does for the
// connection limit: Check accepts every request, HTTP/1.1 and HTTP/2.
func TestCheckTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(checkHandler(true))
	srv.Listener = Wrap(srv.Listener, Options{MaxConnections: 4})
	srv.Config.ConnContext = ConnContext
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/h2")
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Errorf("got %d over HTTP/%d (%q), want 200 over HTTP/2", resp.StatusCode, resp.ProtoMajor, body)
	}

	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tlsConfig.NextProtos = []string{"http/1.1"}
	c, err := tls.Dial("tcp", srv.Listener.Addr().String(), tlsConfig)
	if err != nil {
		t.Fatalf("dialing TLS: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, crlf("POST /x HTTP/1.1\nHost: a\nContent-Length: 3\nTransfer-Encoding: chunked\nConnection: close\n\n3\nabc\n0\n\n"))
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading response over TLS: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	// The documented gap: over TLS Go drops Content-Length unseen.
	if got, want := fmt.Sprintf("%d %s", resp.StatusCode, body), "200 POST /x 3"; got != want {
		t.Errorf("response over TLS = %q, want %q", got, want)
	}
}

// syncBuffer is a bytes.Buffer that the server's goroutines can write to
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
