package listener

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"testing"
)

type trackerCase struct {
	name      string
	raw       string
	reasons   []string // want, "ok" for an accepted request
	completed int
	cause     string // want stop cause, "" while tracking
}

func trackerCases() []trackerCase {
	get := crlf("GET /next HTTP/1.1\nHost: a\n\n")
	chunkedHead := crlf("POST /c HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n")
	teWith := func(value string) string {
		return crlf("POST /te HTTP/1.1\nHost: a\nTransfer-Encoding:") + value + crlf("\n\n3\nabc\n0\n\n")
	}
	clWith := func(value string) string {
		return crlf("POST /cl HTTP/1.1\nHost: a\nContent-Length:") + value + crlf("\n\nabc")
	}
	return []trackerCase{
		{name: "get", raw: get, reasons: []string{"ok"}, completed: 1},
		{name: "content length", raw: crlf("POST /p HTTP/1.1\nHost: a\nContent-Length: 5\n\nhello"), reasons: []string{"ok"}, completed: 1},
		{name: "chunked", raw: chunkedHead + crlf("5\nhello\n6\n world\n0\n\n"), reasons: []string{"ok"}, completed: 1},
		{name: "chunk extensions", raw: chunkedHead + crlf("3;name=value;q=\"a b\"\nabc\n0;last\n\n"), reasons: []string{"ok"}, completed: 1},
		{name: "chunk size whitespace", raw: chunkedHead + "3 \t\r\nabc\r\n0\r\n\r\n", reasons: []string{"ok"}, completed: 1},
		{name: "chunk size leading zeros", raw: chunkedHead + crlf("0003\nabc\n000\n\n"), reasons: []string{"ok"}, completed: 1},
		{name: "trailers", raw: chunkedHead + crlf("3\nabc\n0\nX-Sum: 1\nY: 2\n\n"), reasons: []string{"ok"}, completed: 1},
		{name: "te no space", raw: teWith("chunked"), reasons: []string{"ok"}, completed: 1},
		{name: "te lowercase name", raw: strings.Replace(teWith(" chunked"), "Transfer-Encoding", "transfer-encoding", 1), reasons: []string{"ok"}, completed: 1},

		{name: "cl then te", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 5\nTransfer-Encoding: chunked\n\n0\n\n"), reasons: []string{ReasonContentLengthWithTransferEncoding}, cause: ReasonContentLengthWithTransferEncoding},
		{name: "te then cl", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nContent-Length: 5\n\n0\n\n"), reasons: []string{ReasonContentLengthWithTransferEncoding}, cause: ReasonContentLengthWithTransferEncoding},
		{name: "two te", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n0\n\n"), reasons: []string{ReasonInvalidTransferEncoding}, cause: ReasonInvalidTransferEncoding},
		{name: "te list", raw: teWith(" chunked, identity"), reasons: []string{ReasonInvalidTransferEncoding}, cause: ReasonInvalidTransferEncoding},
		{name: "te xchunked", raw: teWith(" xchunked"), reasons: []string{ReasonInvalidTransferEncoding}, cause: ReasonInvalidTransferEncoding},
		{name: "te two spaces", raw: teWith("  chunked"), reasons: []string{ReasonInvalidTransferEncoding}, cause: ReasonInvalidTransferEncoding},
		{name: "te tab", raw: teWith("\tchunked"), reasons: []string{ReasonInvalidTransferEncoding}, cause: ReasonInvalidTransferEncoding},
		{name: "te trailing space", raw: teWith(" chunked "), reasons: []string{ReasonInvalidTransferEncoding}, cause: ReasonInvalidTransferEncoding},
		{name: "te uppercase", raw: teWith(" Chunked"), reasons: []string{ReasonInvalidTransferEncoding}, cause: ReasonInvalidTransferEncoding},
		{name: "te empty", raw: teWith(""), reasons: []string{ReasonInvalidTransferEncoding}, cause: ReasonInvalidTransferEncoding},
		{name: "te space before colon", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding : chunked\n\n0\n\n"), cause: causeHeaderName},
		{name: "te in http10", raw: crlf("POST / HTTP/1.0\nTransfer-Encoding: chunked\nContent-Length: 3\n\nabc"), reasons: []string{ReasonTransferEncodingInHTTP10}, cause: ReasonTransferEncodingInHTTP10},

		{name: "cl leading zeros", raw: clWith(" 003"), reasons: []string{"ok"}, completed: 1},
		{name: "cl whitespace", raw: clWith("\t 3 \t"), reasons: []string{"ok"}, completed: 1},
		{name: "cl duplicate", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 3\nContent-Length: 3\n\nabc"), reasons: []string{ReasonDuplicateContentLength}, cause: ReasonDuplicateContentLength},
		{name: "cl plus", raw: clWith(" +3"), reasons: []string{ReasonInvalidContentLength}, cause: ReasonInvalidContentLength},
		{name: "cl list", raw: clWith(" 3, 3"), reasons: []string{ReasonInvalidContentLength}, cause: ReasonInvalidContentLength},
		{name: "cl empty", raw: clWith(""), reasons: []string{ReasonInvalidContentLength}, cause: ReasonInvalidContentLength},
		{name: "cl overflow", raw: clWith(" 9223372036854775808"), reasons: []string{ReasonInvalidContentLength}, cause: ReasonInvalidContentLength},
		{name: "cl max", raw: clWith(" 9223372036854775807"), reasons: []string{"ok"}},

		{name: "obs fold", raw: crlf("GET / HTTP/1.1\nHost: a\nX-A: b\n c\n\n"), reasons: []string{ReasonObsFold}, cause: ReasonObsFold},
		{name: "obs fold tab", raw: crlf("GET / HTTP/1.1\nHost: a\nX-A: b\n\tc\n\n"), reasons: []string{ReasonObsFold}, cause: ReasonObsFold},
		{name: "obs fold te", raw: crlf("POST / HTTP/1.1\nHost: a\nTransfer-Encoding:\n chunked\n\n0\n\n"), reasons: []string{ReasonInvalidTransferEncoding}, cause: ReasonInvalidTransferEncoding},
		{name: "space first header", raw: crlf("GET / HTTP/1.1\n Host: a\n\n"), reasons: []string{ReasonObsFold}, cause: ReasonObsFold},
		{name: "bare lf request line", raw: "GET / HTTP/1.1\nHost: a\r\n\r\n", reasons: []string{ReasonBareLF}, cause: ReasonBareLF},
		{name: "bare lf header", raw: "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", reasons: []string{ReasonBareLF}, cause: ReasonBareLF},
		{name: "bare lf te", raw: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\n\r\n0\r\n\r\n", reasons: []string{ReasonBareLF}, cause: ReasonBareLF},
		{name: "bare lf end", raw: "GET / HTTP/1.1\r\nHost: a\r\n\n", reasons: []string{ReasonBareLF}, cause: ReasonBareLF},
		{name: "bare lf everywhere", raw: "GET / HTTP/1.1\nHost: a\n\n", reasons: []string{ReasonBareLF}, cause: ReasonBareLF},
		{name: "bare cr in value", raw: "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", reasons: []string{"ok"}, completed: 1}, // http.Server rejects the CR itself
		{name: "bare cr in cl", raw: "POST / HTTP/1.1\r\nContent-Length: 3\rX: y\r\n\r\nabc", reasons: []string{ReasonInvalidContentLength}, cause: ReasonInvalidContentLength},
		{name: "bare cr ends head", raw: "GET / HTTP/1.1\r\nHost: a\r\n\rX", cause: causeBareCR},

		{name: "pipelined", raw: crlf("POST /1 HTTP/1.1\nHost: a\nContent-Length: 3\n\nabc") + chunkedHead + crlf("1\nx\n0\n\n") + get, reasons: []string{"ok", "ok", "ok"}, completed: 3},
		{name: "pipelined bad last", raw: get + get + crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 5\nTransfer-Encoding: chunked\n\n0\n\n") + get, reasons: []string{"ok", "ok", ReasonContentLengthWithTransferEncoding}, completed: 2, cause: ReasonContentLengthWithTransferEncoding},
		{name: "crlf after post", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 1\n\nx\n\n") + get, reasons: []string{"ok", "ok"}, completed: 2},
		{name: "five crlf after post", raw: crlf("POST / HTTP/1.1\nHost: a\nContent-Length: 1\n\nx\n\n\n") + get, reasons: []string{"ok"}, completed: 1, cause: causeNotHTTP},
		{name: "crlf after get", raw: get + "\r\n" + get, reasons: []string{"ok"}, completed: 1, cause: causeNotHTTP},
		{name: "cl body looks like head", raw: withLength("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", fakeHead) + get, reasons: []string{"ok", "ok"}, completed: 2},
		{name: "chunk looks like request", raw: chunkedHead + withLength("%x\r\n", fakeRequest) + crlf("\n0\n\n") + get, reasons: []string{"ok", "ok"}, completed: 2},
		{name: "options star", raw: crlf("OPTIONS * HTTP/1.1\nHost: a\n\n") + get, reasons: []string{"ok", "ok"}, completed: 2},
		{name: "connect", raw: crlf("CONNECT a:443 HTTP/1.1\nHost: a:443\n\n"), reasons: []string{"ok"}, completed: 1},
		{name: "upgrade then frames", raw: crlf("GET /ws HTTP/1.1\nHost: a\nConnection: Upgrade\nUpgrade: websocket\n\n") + "\x81\x85abcd", reasons: []string{"ok"}, completed: 1, cause: causeNotHTTP},
		{name: "http10", raw: crlf("POST / HTTP/1.0\nContent-Length: 3\n\nabc"), reasons: []string{"ok"}, completed: 1},

		{name: "tls handshake", raw: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", cause: causeNotHTTP},
		{name: "http2 preface", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", cause: causeVersion},
		{name: "http09", raw: "GET /\r\n\r\n", cause: causeRequestLine},
		{name: "version suffix", raw: crlf("GET / HTTP/1.1 \nHost: a\n\n"), cause: causeVersion},
		{name: "chunk bare lf", raw: chunkedHead + "3\nabc\r\n0\r\n\r\n", reasons: []string{"ok"}, cause: causeChunkLine},
		{name: "chunk size too long", raw: chunkedHead + crlf("00000000000000003\nabc\n0\n\n"), reasons: []string{"ok"}, cause: causeChunkLine},
		{name: "chunk size space semicolon", raw: chunkedHead + crlf("3 ;x\nabc\n0\n\n"), reasons: []string{"ok"}, cause: causeChunkLine},
		{name: "chunk size missing", raw: chunkedHead + crlf(";x\nabc\n0\n\n"), reasons: []string{"ok"}, cause: causeChunkLine},
		{name: "chunk ext bare cr", raw: chunkedHead + "3;a\rb\r\nabc\r\n0\r\n\r\n", reasons: []string{"ok"}, cause: causeChunkLine},
		{name: "chunk data too long", raw: chunkedHead + crlf("3\nabcd\n0\n\n"), reasons: []string{"ok"}, cause: causeChunkData},
		{name: "trailer bare lf", raw: chunkedHead + "0\r\nX: y\n\r\n" + get, reasons: []string{"ok"}, cause: causeTrailer},
		{name: "trailer bare lf end", raw: chunkedHead + "0\r\n\n" + get, reasons: []string{"ok"}, cause: causeTrailer},
		{name: "trailer obs fold", raw: chunkedHead + crlf("0\nX: y\n z\n\n"), reasons: []string{"ok"}, cause: causeTrailer},
	}
}

// Bodies that contain what looks like framing.
const (
	fakeHead    = "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	fakeRequest = "GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
)

// withLength formats the length of body into head and appends body.
func withLength(head, body string) string {
	return fmt.Sprintf(head, len(body)) + body
}

func TestTrackerVerdicts(t *testing.T) {
	seed := maphash.MakeSeed()
	for _, tc := range trackerCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := trackSplit(seed, testMaxHead, []byte(tc.raw))
			if !slices.Equal(got.reasons, tc.reasons) {
				t.Errorf("verdicts = %q, want %q", got.reasons, tc.reasons)
			}
			if got.completed != tc.completed {
				t.Errorf("completed = %d, want %d", got.completed, tc.completed)
			}
			if got.cause != tc.cause {
				t.Errorf("stop cause = %q, want %q", got.cause, tc.cause)
			}
		})
	}
}

// TestTrackerSplits feeds every case cut at every position, cut twice at
// pseudo-random positions, and one byte at a time.
func TestTrackerSplits(t *testing.T) {
	seed := maphash.MakeSeed()
	for _, tc := range trackerCases() {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			want := trackSplit(seed, testMaxHead, data)
			for cut := range len(data) + 1 {
				if got := trackSplit(seed, testMaxHead, data, cut); !got.equal(want) {
					t.Fatalf("cut at %d: got %+v, want %+v", cut, got, want)
				}
			}
			for a := 0; a < len(data); a += 7 {
				b := a + (len(data)-a)/3
				if got := trackSplit(seed, testMaxHead, data, a, b); !got.equal(want) {
					t.Fatalf("cuts at %d and %d: got %+v, want %+v", a, b, got, want)
				}
			}
			if _, got := trackBytes(seed, testMaxHead, data); !got.equal(want) {
				t.Fatalf("byte by byte: got %+v, want %+v", got, want)
			}
		})
	}
}

func TestTrackerFramingMatchesGo(t *testing.T) {
	seed := maphash.MakeSeed()
	for _, tc := range trackerCases() {
		t.Run(tc.name, func(t *testing.T) {
			compareWithGo(t, seed, []byte(tc.raw))
		})
	}
}

func TestTrackerKeys(t *testing.T) {
	seed := maphash.MakeSeed()
	raw := crlf("GET /a?x=1 HTTP/1.1\nHost: a\n\nPOST /b HTTP/1.1\nHost: a\nContent-Length: 1\n\nx")
	got := trackSplit(seed, testMaxHead, []byte(raw))
	want := []uint64{requestKey(seed, "GET", "/a?x=1"), requestKey(seed, "POST", "/b")}
	if !slices.Equal(got.keys, want) {
		t.Errorf("keys = %x, want %x", got.keys, want)
	}
}

func TestTrackerHeaderTooLarge(t *testing.T) {
	seed := maphash.MakeSeed()
	const maxHead = 64 // "GET / HTTP/1.1", "Host: a", a field of 32 bytes and CRLFs
	tests := []struct {
		name    string
		raw     string
		reasons []string
		cause   string
	}{
		{name: "exactly the limit", raw: crlf("GET / HTTP/1.1\nHost: a\nX: " + strings.Repeat("v", 32) + "\n\n"), reasons: []string{"ok"}},
		{name: "header block", raw: crlf("GET / HTTP/1.1\nHost: a\nX: " + strings.Repeat("v", 33) + "\n\n"), reasons: []string{ReasonHeaderTooLarge}, cause: ReasonHeaderTooLarge},
		{name: "request line", raw: "GET /" + strings.Repeat("a", 80) + " HTTP/1.1\r\n\r\n", cause: causeHeaderTooLarge},
		{name: "limit per request", raw: strings.Repeat(crlf("GET / HTTP/1.1\nHost: a\nX: "+strings.Repeat("v", 32)+"\n\n"), 3), reasons: []string{"ok", "ok", "ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			got := trackSplit(seed, maxHead, data)
			if !slices.Equal(got.reasons, tc.reasons) {
				t.Errorf("verdicts = %q, want %q", got.reasons, tc.reasons)
			}
			if got.cause != tc.cause {
				t.Errorf("stop cause = %q, want %q", got.cause, tc.cause)
			}
			for cut := range len(data) + 1 {
				if split := trackSplit(seed, maxHead, data, cut); !split.equal(got) {
					t.Fatalf("cut at %d: got %+v, want %+v", cut, split, got)
				}
			}
		})
	}
}

func TestTrackerTake(t *testing.T) {
	seed := maphash.MakeSeed()
	get := crlf("GET /a HTTP/1.1\nHost: a\n\n")
	options := crlf("OPTIONS * HTTP/1.1\nHost: a\n\n")
	bad := crlf("GET /bad HTTP/1.1\nHost: a\nX: a\n b\n\n")
	type call struct{ method, target, want string }
	tests := []struct {
		name  string
		raw   string
		calls []call
	}{
		{name: "in order", raw: get + crlf("GET /b HTTP/1.1\nHost: a\n\n"), calls: []call{{"GET", "/a", ""}, {"GET", "/b", ""}}},
		{name: "rejected then untracked", raw: get + bad + get, calls: []call{{"GET", "/a", ""}, {"GET", "/bad", ReasonObsFold}, {"GET", "/a", ReasonUntrackedRequest}}},
		{name: "options star skipped", raw: options + get, calls: []call{{"GET", "/a", ""}}},
		{name: "options star handled", raw: options + get, calls: []call{{"OPTIONS", "*", ""}, {"GET", "/a", ""}}},
		{name: "other request", raw: get, calls: []call{{"GET", "/other", ReasonFramingMismatch}, {"GET", "/a", ReasonUntrackedRequest}}},
		{name: "no request seen", raw: "GET /a HTTP/1.1\r\nHo", calls: []call{{"GET", "/a", ReasonFramingMismatch}}},
		{name: "checked twice", raw: get + crlf("GET /b HTTP/1.1\nHost: a\n\n"), calls: []call{{"GET", "/a", ""}, {"GET", "/a", ReasonFramingMismatch}, {"GET", "/b", ReasonUntrackedRequest}}},
		{name: "tls", raw: "\x16\x03\x01", calls: []call{{"GET", "/a", ReasonUntrackedRequest}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestTracker(seed, testMaxHead)
			tr.feed([]byte(tc.raw))
			for i, c := range tc.calls {
				if got := tr.take(requestKey(seed, c.method, c.target)); got != c.want {
					t.Errorf("call %d (%s %s) = %q, want %q", i, c.method, c.target, got, c.want)
				}
			}
		})
	}
}

func TestVerdictQueueBound(t *testing.T) {
	var q verdictQueue
	for i := range maxPendingVerdicts {
		if !q.push(verdict{key: uint64(i)}) {
			t.Fatalf("push %d failed below the bound", i)
		}
	}
	if q.push(verdict{}) {
		t.Fatalf("push beyond %d verdicts succeeded", maxPendingVerdicts)
	}
	for i := range maxPendingVerdicts {
		v, ok := q.pop()
		if !ok || v.key != uint64(i) {
			t.Fatalf("pop %d = %d, %v; want %d, true", i, v.key, ok, i)
		}
	}
	if q.grown != nil {
		t.Errorf("emptied queue keeps %d grown slots", len(q.grown))
	}
}

func TestTrackerPipelineBound(t *testing.T) {
	seed := maphash.MakeSeed()
	raw := strings.Repeat(crlf("GET / HTTP/1.1\nHost: a\n\n"), maxPendingVerdicts+1)
	got := trackSplit(seed, testMaxHead, []byte(raw))
	if len(got.reasons) != maxPendingVerdicts {
		t.Errorf("queued %d verdicts, want %d", len(got.reasons), maxPendingVerdicts)
	}
	if got.cause != causeTooManyPending {
		t.Errorf("stop cause = %q, want %q", got.cause, causeTooManyPending)
	}
}
