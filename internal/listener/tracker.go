package listener

import "hash/maphash"

// tracker follows the HTTP/1.1 message framing of the bytes a server reads
// from one connection, as net/http's server frames them (Go 1.26), and queues
// one verdict per request in order.
//
// It is written by hand because no library parses HTTP/1.1 incrementally
// without buffering: net/http and textproto need a bufio.Reader that holds a
// whole line, and they would consume the bytes that the server must read.
// The tracker keeps a fixed-size state, does not allocate while parsing and
// gives the same result however the input is split across feed calls.
//
// Where the tracker is stricter than the server, it queues a rejecting
// verdict or stops. Once stopped it ignores the rest of the connection, and
// take returns ReasonUntrackedRequest for every request it has no verdict for.
// Within a request body it must frame exactly as the server does for every
// body the server accepts, or later verdicts would belong to other requests.
// take compares each verdict's method and target with the request being
// handled, so such a divergence is rejected as ReasonFramingMismatch rather
// than misattributed.
type tracker struct {
	state      state
	stopCause  string
	stopOffset int64

	offset       int64 // bytes fed so far
	sectionStart int64 // offset at which the current request began, CR and LF skipped after a POST included
	newSection   bool  // a request ended in the current step; feed moves sectionStart
	maxHead      int64 // maximum length of a request line plus header block
	completed    int   // requests whose body was fully read

	// Request line.
	hash        maphash.Hash // method, SP and target of the current request
	key         uint64       // hash.Sum64 once the target is complete
	method      [8]byte      // first bytes of the method
	methodLen   int
	targetLen   int
	targetFirst byte
	versionPos  int
	http10      bool
	lastPOST    bool // the previous request's method was POST
	skipped     int  // CR and LF bytes skipped before the request line

	// Header block.
	prevCR        bool // the last byte of the current line was CR
	nameLen       int
	nameCand      uint8 // candidates among the fields whose values are parsed
	field         uint8 // field of the current line
	valBad        bool
	valPhase      uint8  // Content-Length: 0 before digits, 1 in digits, 2 after
	valNum        uint64 // Content-Length value so far
	valMatched    int    // bytes of "chunked" matched in Transfer-Encoding
	valLeadSP     bool   // Transfer-Encoding value started with SP
	sawCL, sawTE  bool
	contentLength uint64

	// Body.
	remaining   uint64 // bytes left in a Content-Length body or in a chunk
	chunkDigits int

	queue verdictQueue
}

// state is the tracker's position in the message. The states before stBody
// belong to the request line and header block, which maxHead limits.
type state uint8

const (
	stRequestStart  state = iota // before the method, skipping CR and LF after a POST
	stMethod                     // in the method
	stTarget                     // in the request target
	stVersion                    // in "HTTP/1.x" and its line end
	stRequestLineLF              // after the CR that ends the request line
	stLineStart                  // at the first byte of a header line
	stName                       // in a field name
	stValue                      // in a field value that is not parsed
	stSpecialValue               // in a Content-Length or Transfer-Encoding value
	stHeadEndLF                  // after the CR of the empty line that ends the header block

	stBody             // in a Content-Length body
	stChunkSize        // in the hex size of a chunk
	stChunkSizeWS      // in SP or HTAB after the size
	stChunkExt         // in chunk extensions, after ';'
	stChunkLineLF      // after the CR that ends a chunk size line
	stChunkData        // in chunk data
	stChunkDataCR      // expecting the CR after chunk data
	stChunkDataLF      // expecting the LF after chunk data
	stTrailerLineStart // at the first byte of a trailer line
	stTrailerLine      // in a trailer line
	stTrailerEndLF     // after the CR of the empty line that ends the trailer section

	stStopped // not tracking any more
)

func (s state) inHead() bool { return s < stBody }

// Why the tracker stopped without a verdict, for the debug log.
const (
	causeNotHTTP        = "bytes do not start an HTTP/1 request line"
	causeRequestLine    = "malformed request line"
	causeVersion        = "not an HTTP/1.x request"
	causeBareCR         = "CR not followed by LF"
	causeHeaderName     = "invalid header field name"
	causeHeaderTooLarge = "request line longer than the header limit"
	causeChunkLine      = "invalid chunk size line"
	causeChunkData      = "chunk data not followed by CRLF"
	causeTrailer        = "trailer line with a bare LF or leading whitespace"
	causeTooManyPending = "too many pipelined requests waiting for their handler"
	causeMismatch       = "the server read a request that the tracker did not see next"
)

func (t *tracker) init(seed maphash.Seed, maxHead int64) {
	t.hash.SetSeed(seed)
	t.maxHead = maxHead
}

// feed tracks p, the next bytes read from the connection.
func (t *tracker) feed(p []byte) {
	for len(p) > 0 && t.state != stStopped {
		var n int
		if t.state.inHead() {
			room := t.maxHead - (t.offset - t.sectionStart)
			if room <= 0 {
				t.headTooLarge()
				return
			}
			n = t.head(p[:min(int64(len(p)), room)])
		} else {
			n = t.body(p)
		}
		p = p[n:]
		t.offset += int64(n)
		if t.newSection {
			t.newSection = false
			t.sectionStart = t.offset
		}
	}
}

// take returns the verdict for the request with the given key and removes
// it, with the verdicts before it, from the queue.
//
// Verdicts are taken in the order the requests arrived. http.Server reads the
// next request only after the handler of the previous one returns, but its
// bufio.Reader may already hold later pipelined requests, and its background
// read takes one more byte while a handler runs. The tracker receives bytes when
// they are read, so while handler N runs, the queue may also hold verdicts
// of requests after N. Verdict N is always queued by then, because the server
// cannot parse a header block before reading its last byte, and the tracker
// decides at that byte.
//
// http.Server responds to "OPTIONS *" itself without calling the handler (unless
// Server.DisableGeneralOptionsHandler is set), so a queued verdict for such a
// request is skipped when the key does not match. Any other mismatch means
// that the server and the tracker framed the connection differently.
func (t *tracker) take(key uint64) string {
	for {
		v, ok := t.queue.pop()
		switch {
		case !ok && t.state == stStopped:
			return ReasonUntrackedRequest
		case !ok:
			t.mismatch()
			return ReasonFramingMismatch
		case v.key == key:
			return v.reason
		case v.optionsStar:
			continue
		default:
			t.mismatch()
			return ReasonFramingMismatch
		}
	}
}

func (t *tracker) mismatch() {
	t.queue.clear()
	t.stop(causeMismatch, 0)
}

// emit queues the verdict for the current request; reason "" accepts it. A
// rejecting verdict stops the tracker, because the caller closes the
// connection after responding and the server's framing of the rejected
// request need not be followed. i is the index in the current step's input, for the log.
func (t *tracker) emit(reason string, i int) {
	v := verdict{
		key:         t.key,
		reason:      reason,
		optionsStar: t.methodIs("OPTIONS") && t.targetLen == 1 && t.targetFirst == '*',
	}
	if !t.queue.push(v) {
		t.stop(causeTooManyPending, i)
		return
	}
	if reason != "" {
		t.stop(reason, i)
	}
}

func (t *tracker) stop(cause string, i int) {
	t.state = stStopped
	t.stopCause = cause
	t.stopOffset = t.offset + int64(i)
}

// headTooLarge ends tracking when the request line and header block reach
// maxHead. The verdict can only name the request once its target is known.
func (t *tracker) headTooLarge() {
	if t.state > stTarget {
		t.emit(ReasonHeaderTooLarge, 0)
		return
	}
	t.stop(causeHeaderTooLarge, 0)
}

func (t *tracker) beginRequest() {
	t.state = stMethod
	t.hash.Reset()
	t.key = 0
	t.methodLen, t.targetLen, t.versionPos = 0, 0, 0
	t.http10 = false
	t.sawCL, t.sawTE = false, false
	t.contentLength = 0
}

// messageComplete moves to the next request. Like http.Server, the tracker
// skips up to four CR or LF bytes before a request that follows a POST.
func (t *tracker) messageComplete() {
	t.completed++
	t.state = stRequestStart
	t.skipped = 0
	t.newSection = true
}

func (t *tracker) methodIs(m string) bool {
	return t.methodLen == len(m) && string(t.method[:len(m)]) == m
}
