package listener

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPlainServerBaseline records which ambiguous requests net/http's server
// hands to a handler on its own, without Wrap. The package doc relies on
// these facts: the tracker exists for the ones that get through. If a Go
// release starts rejecting one of them, this test fails and the doc needs
// updating.
func TestPlainServerBaseline(t *testing.T) {
	srv := httptest.NewServer(checkHandler(true))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	tests := []struct {
		name    string
		raw     string
		reaches bool
	}{
		{name: "cl te", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 5\nTransfer-Encoding: chunked\n\n0\n\n"), reaches: true},
		{name: "te extra space", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding:  chunked \n\n0\n\n"), reaches: true},
		{name: "te tab", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding:\tchunked\n\n0\n\n"), reaches: true},
		{name: "te uppercase", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: CHUNKED\n\n0\n\n"), reaches: true},
		{name: "te in http10", raw: crlf("POST / HTTP/1.0\nTransfer-Encoding: chunked\nContent-Length: 3\n\nabc"), reaches: true},
		{name: "obs fold", raw: crlf("GET / HTTP/1.1\nHost: a\nX-A: b\n c\n\n"), reaches: true},
		{name: "obs fold te", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding:\n chunked\n\n0\n\n"), reaches: true},
		{name: "bare lf", raw: "GET / HTTP/1.1\nHost: a\n\n", reaches: true},
		{name: "duplicate cl", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 3\nContent-Length: 3\n\nabc"), reaches: true},

		{name: "two te", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n0\n\n")},
		{name: "te list", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked, identity\n\n0\n\n")},
		{name: "te xchunked", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: xchunked\n\n0\n\n")},
		{name: "te space before colon", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding : chunked\n\n0\n\n")},
		{name: "space first header", raw: crlf("GET / HTTP/1.1\n Host: a\n\n")},
		{name: "bare cr", raw: "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n"},
		{name: "different cl", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 3\nContent-Length: 4\n\nabcd")},
		{name: "cl list", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 3, 3\n\nabc")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, addr, tc.raw)
			reached := len(got) > 0 && strings.HasPrefix(got[0], "200 ")
			if reached != tc.reaches {
				t.Errorf("handler reached = %v, want %v; responses %q", reached, tc.reaches, got)
			}
		})
	}
}
