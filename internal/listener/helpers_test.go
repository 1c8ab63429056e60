package listener

import (
	"bufio"
	"bytes"
	"hash/maphash"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// testMaxHead is the head limit of test trackers: http.Server's default.
const testMaxHead = http.DefaultMaxHeaderBytes + headerSlop

// trackResult is everything a tracker recorded for one stream. Feeding the
// same stream split in any way must give an equal trackResult.
type trackResult struct {
	reasons    []string // per queued verdict; "ok" when accepted
	keys       []uint64
	completed  int
	cause      string // stop cause; "" while tracking
	stopOffset int64
	offset     int64
}

func (r trackResult) equal(o trackResult) bool {
	return slices.Equal(r.reasons, o.reasons) && slices.Equal(r.keys, o.keys) &&
		r.completed == o.completed && r.cause == o.cause &&
		r.stopOffset == o.stopOffset && r.offset == o.offset
}

func newTestTracker(seed maphash.Seed, maxHead int64) *tracker {
	t := new(tracker)
	t.init(seed, maxHead)
	return t
}

// result drains the tracker's queue into a trackResult.
func (t *tracker) result() trackResult {
	var r trackResult
	for {
		v, ok := t.queue.pop()
		if !ok {
			break
		}
		reason := v.reason
		if reason == "" {
			reason = "ok"
		}
		r.reasons = append(r.reasons, reason)
		r.keys = append(r.keys, v.key)
	}
	r.completed = t.completed
	if t.state == stStopped {
		r.cause, r.stopOffset = t.stopCause, t.stopOffset
	}
	r.offset = t.offset
	return r
}

// trackSplit feeds data cut at the given ascending positions.
func trackSplit(seed maphash.Seed, maxHead int64, data []byte, cuts ...int) trackResult {
	t := newTestTracker(seed, maxHead)
	prev := 0
	for _, c := range cuts {
		t.feed(data[prev:c])
		prev = c
	}
	t.feed(data[prev:])
	return t.result()
}

// trackedRequest is one request as the tracker framed it, with offsets into
// the stream. end is -1 when the tracker did not see the end of the request.
type trackedRequest struct {
	start, headEnd, end int
	key                 uint64
	reason              string
}

// trackBytes feeds data one byte at a time, which is also the finest split,
// and records where each request starts, where its head ends and where it
// ends.
func trackBytes(seed maphash.Seed, maxHead int64, data []byte) ([]trackedRequest, trackResult) {
	t := newTestTracker(seed, maxHead)
	var reqs []trackedRequest
	start := -1
	for k := range data {
		before, queued, completed := t.state, t.queue.n, t.completed
		t.feed(data[k : k+1])
		if before == stRequestStart && t.state != stRequestStart && t.state != stStopped {
			start = k
		}
		if t.queue.n > queued {
			v := t.queue.slots()[(t.queue.head+t.queue.n-1)%len(t.queue.slots())]
			reqs = append(reqs, trackedRequest{start: start, headEnd: k + 1, end: -1, key: v.key, reason: v.reason})
		}
		if t.completed > completed {
			reqs[len(reqs)-1].end = k + 1
		}
	}
	return reqs, t.result()
}

// goRequest is one request as net/http frames it. end is -1 when reading the
// body failed, after which http.Server closes the connection.
type goRequest struct {
	start, end int
	key        uint64
}

// goFraming frames data as http.Server does: http.ReadRequest on a 4096-byte
// bufio.Reader, the body read to its end, and up to four CR or LF bytes
// skipped after a POST. It stops at the first request the server would not
// hand to a handler.
func goFraming(seed maphash.Seed, data []byte) []goRequest {
	cr := &countingReader{r: bytes.NewReader(data)}
	br := bufio.NewReaderSize(cr, 4096)
	pos := func() int { return cr.n - br.Buffered() }

	var reqs []goRequest
	lastPOST := false
	for {
		if lastPOST {
			peek, _ := br.Peek(4)
			br.Discard(leadingCRorLF(peek))
		}
		start := pos()
		req, err := http.ReadRequest(br)
		if err != nil || !servable(req) {
			return reqs
		}
		g := goRequest{start: start, key: requestKey(seed, req.Method, req.RequestURI)}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			g.end = -1
			return append(reqs, g)
		}
		g.end = pos()
		reqs = append(reqs, g)
		lastPOST = req.Method == "POST"
	}
}

// servable applies the checks http.Server makes after parsing a request and
// before calling the handler, apart from the Host header.
func servable(req *http.Request) bool {
	if req.ProtoMajor != 1 {
		return false
	}
	if e := req.Header.Get("Expect"); e != "" && !strings.EqualFold(e, "100-continue") {
		return false
	}
	for name, values := range req.Header {
		if !httpguts.ValidHeaderFieldName(name) {
			return false
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return false
			}
		}
	}
	return true
}

func leadingCRorLF(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == '\r' || b[n] == '\n') {
		n++
	}
	return n
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// stricterThanGo lists the stop causes with which the tracker may give up on
// a request that net/http frames and serves. Later requests on such a
// connection get ReasonUntrackedRequest: rejected, never misattributed.
var stricterThanGo = []string{
	causeTrailer, // net/http takes a bare LF as the end of the trailer when CRLF CRLF follows in its buffer
	causeTooManyPending,
}

// compareWithGo checks the tracker's framing of data against net/http's: each
// request the tracker accepts must start where net/http starts one, have the
// same method and target, and end where net/http ends it.
func compareWithGo(t *testing.T, seed maphash.Seed, data []byte) {
	t.Helper()
	tracked, res := trackBytes(seed, testMaxHead, data)
	served := goFraming(seed, data)
	for i, tr := range tracked {
		if tr.reason != "" || i >= len(served) {
			return
		}
		g := served[i]
		if tr.start != g.start || tr.key != g.key {
			t.Fatalf("request %d: tracker starts at %d, net/http at %d (same request line: %v); input %q",
				i, tr.start, g.start, tr.key == g.key, data)
		}
		if g.end < 0 {
			return
		}
		if tr.end != g.end && !slices.Contains(stricterThanGo, res.cause) {
			t.Fatalf("request %d: tracker ends it at %d, net/http at %d (tracker stop: %q); input %q",
				i, tr.end, g.end, res.cause, data)
		}
	}
	if i := len(tracked); i < len(served) && !slices.Contains(stricterThanGo, res.cause) {
		t.Fatalf("net/http serves request %d at %d, which the tracker has no verdict for (stop: %q at %d); input %q",
			i, served[i].start, res.cause, res.stopOffset, data)
	}
}

// crlf replaces every "\n" with "\r\n", so test requests read like the wire.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
