package http1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// parse reads one response to a request with method from raw, and its
// whole body.
func parse(t testing.TB, raw, method string) (*Response, string, error) {
	t.Helper()
	c1, c2 := net.Pipe()
	t.Cleanup(func() { c1.Close(); c2.Close() })
	cn := newConn(NewClient(Options{Addr: "upstream.test:80"}), c1)
	cn.br = bufio.NewReaderSize(strings.NewReader(raw), readBufferSize)
	cn.ctx = context.Background()
	resp, err := cn.readResponse(&Request{Method: method})
	if err != nil {
		return nil, "", err
	}
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		raw        string
		wantStatus int
		wantBody   string
		wantLength int64
		keepAlive  bool
	}{
		{"content length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello", 5, true},
		{"repeated equal lengths", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello", 200, "hello", 5, true},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 200, "hello world", -1, true},
		{"chunked upper case", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", 200, "0123456789", -1, true},
		{"until close", "GET", "HTTP/1.1 200 OK\r\n\r\nstream until close", 200, "stream until close", -1, false},
		{"http/1.0", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", 2, false},
		{"http/1.0 keep-alive", "GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 200, "ok", 2, true},
		{"connection close", "GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 200, "ok", 2, false},
		{"head", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 200, "", 1000, true},
		{"no content", "GET", "HTTP/1.1 204 No Content\r\n\r\n", 204, "", 0, true},
		{"not modified", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 304, "", 50, true},
		{"interim responses", "GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 201, "", 0, true},
		{"bare LF", "GET", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 200, "ok", 2, true},
		{"no reason", "GET", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 404, "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, err := parse(t, tc.raw, tc.method)
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if body != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
			if resp.ContentLength != tc.wantLength {
				t.Errorf("content length = %d, want %d", resp.ContentLength, tc.wantLength)
			}
			if got := resp.Body.cn.keepAlive; got != tc.keepAlive {
				t.Errorf("keep-alive = %v, want %v", got, tc.keepAlive)
			}
		})
	}
}

func TestReadResponseHeaderFields(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Empty:\r\nX-Space:  padded \t\r\nContent-Length: 0\r\n\r\n"
	resp, _, err := parse(t, raw, "GET")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key  string
		want []string
	}{
		{"Content-Type", []string{"text/plain"}},
		{"Set-Cookie", []string{"a=1", "b=2"}},
		{"X-Empty", []string{""}},
		{"X-Space", []string{"padded"}},
	}
	for _, c := range checks {
		got := resp.Header[c.key]
		if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("%s = %q, want %q", c.key, got, c.want)
		}
	}
}

func TestReadResponseTrailers(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n"
	resp, body, err := parse(t, raw, "GET")
	if err != nil {
		t.Fatal(err)
	}
	if body != "abc" {
		t.Errorf("body = %q, want abc", body)
	}
	if got := resp.Trailer.Get("X-Sum"); got != "42" {
		t.Errorf("trailer X-Sum = %q, want 42", got)
	}
}

func TestReadResponseRejects(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"},
		{"conflicting length list", "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd"},
		{"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc"},
		{"huge length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"},
		{"gzip coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
		{"chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"chunked in 1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\nContent-Length: 0\r\n\r\n"},
		{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"},
		{"no colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n"},
		{"nul in value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n"},
		{"bare CR in value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n"},
		{"http/2 status line", "HTTP/2.0 200 OK\r\n\r\n"},
		{"short status", "HTTP/1.1 20 OK\r\n\r\n"},
		{"letters in status", "HTTP/1.1 2x0 OK\r\n\r\n"},
		{"status below 100", "HTTP/1.1 099 Odd\r\n\r\n"},
		{"upgrade", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"},
		{"leading empty line", "\r\nHTTP/1.1 200 OK\r\n\r\n"},
		{"too many interim", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 10) + "HTTP/1.1 200 OK\r\n\r\n"},
		{"header too large", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n"},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
		{"chunk size overflow", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n"},
		{"missing chunk CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n"},
		{"truncated length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
		{"truncated chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"},
		{"truncated head", "HTTP/1.1 200 OK\r\nContent-Le"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parse(t, tc.raw, "GET")
			if err == nil {
				t.Fatal("response accepted, want an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				t.Errorf("error = %v, want ErrMalformed or an unexpected EOF", err)
			}
		})
	}
}

// FuzzReadResponse checks that the parser never panics or hangs, that a
// body with a Content-Length has exactly that length, and that whenever
// net/http also accepts the input, both read the same status and body.
func FuzzReadResponse(f *testing.F) {
	seeds := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nclose delimited",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3;x=y\nabc\n0\n\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		resp, body, err := parse(t, string(data), method)
		if err != nil {
			return
		}
		if resp.Body.mode == bodyLength && int64(len(body)) != resp.ContentLength {
			t.Fatalf("body has %d bytes, Content-Length %d", len(body), resp.ContentLength)
		}

		std, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), &http.Request{Method: method})
		if err != nil || std.StatusCode < 200 {
			return
		}
		stdBody, err := io.ReadAll(std.Body)
		if err != nil {
			return
		}
		if std.StatusCode != resp.StatusCode {
			t.Fatalf("status = %d, net/http read %d", resp.StatusCode, std.StatusCode)
		}
		if string(stdBody) != body {
			t.Fatalf("body = %q, net/http read %q", body, stdBody)
		}
	})
}
