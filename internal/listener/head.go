package listener

import "bytes"

// Names and values the tracker matches. Field names are in lowercase.
const (
	nameContentLength    = "content-length"
	nameTransferEncoding = "transfer-encoding"
	valueChunked         = "chunked"
	versionPrefix        = "HTTP/1."
)

// Values of tracker.field and bits of tracker.nameCand.
const (
	fieldOther            uint8 = 0
	fieldContentLength    uint8 = 1
	fieldTransferEncoding uint8 = 2
)

// maxContentLength is the largest Content-Length that net/http accepts
// (strconv.ParseUint with 63 bits).
const maxContentLength = 1<<63 - 1

// head tracks the request line and header block in q. It returns the number
// of bytes used, which is less than len(q) when the head ends, a request
// ends or the tracker stops.
func (t *tracker) head(q []byte) int {
	i := 0
	for i < len(q) && t.state.inHead() && !t.newSection {
		switch t.state {
		case stRequestStart:
			c := q[i]
			if t.lastPOST && t.skipped < 4 && (c == '\r' || c == '\n') {
				t.skipped++
				i++
				continue
			}
			t.beginRequest()
		case stMethod:
			i = t.scanMethod(q, i)
		case stTarget:
			i = t.scanTarget(q, i)
		case stVersion:
			i = t.scanVersion(q, i)
		case stRequestLineLF:
			i = t.expectLF(q, i, stLineStart)
		case stLineStart:
			i = t.lineStart(q, i)
		case stName:
			i = t.scanName(q, i)
		case stValue:
			i = t.scanValue(q, i)
		case stSpecialValue:
			i = t.scanSpecialValue(q, i)
		case stHeadEndLF:
			if q[i] != '\n' {
				t.stop(causeBareCR, i)
				return i
			}
			i++
			t.endHead(i)
		}
	}
	return i
}

// expectLF consumes the LF after a CR and moves to next, or stops the tracker
// on a bare CR, which the server rejects.
func (t *tracker) expectLF(q []byte, i int, next state) int {
	if q[i] != '\n' {
		t.stop(causeBareCR, i)
		return i
	}
	t.state = next
	return i + 1
}

func (t *tracker) scanMethod(q []byte, i int) int {
	start := i
	for ; i < len(q); i++ {
		c := q[i]
		if c == ' ' && t.methodLen > 0 {
			t.hash.Write(q[start:i])
			t.hash.WriteByte(' ')
			t.state = stTarget
			return i + 1
		}
		if !isTokenChar(c) {
			if t.methodLen == 0 {
				t.stop(causeNotHTTP, i)
			} else {
				t.stop(causeRequestLine, i)
			}
			return i
		}
		if t.methodLen < len(t.method) {
			t.method[t.methodLen] = c
		}
		t.methodLen++
	}
	t.hash.Write(q[start:i])
	return i
}

// scanTarget reads the request target up to the next SP, as net/http splits
// the request line. The server validates the target itself.
func (t *tracker) scanTarget(q []byte, i int) int {
	start := i
	for ; i < len(q); i++ {
		switch q[i] {
		case ' ':
			t.addTarget(q[start:i])
			t.key = t.hash.Sum64()
			t.state = stVersion
			return i + 1
		case '\r', '\n':
			t.stop(causeRequestLine, i)
			return i
		}
	}
	t.addTarget(q[start:i])
	return i
}

func (t *tracker) addTarget(b []byte) {
	if len(b) == 0 {
		return
	}
	if t.targetLen == 0 {
		t.targetFirst = b[0]
	}
	t.targetLen += len(b)
	t.hash.Write(b)
}

// scanVersion reads "HTTP/1." and a digit, the only versions net/http's
// server serves over HTTP/1, then the line end.
func (t *tracker) scanVersion(q []byte, i int) int {
	for ; i < len(q); i++ {
		c := q[i]
		switch {
		case t.versionPos < len(versionPrefix):
			if c != versionPrefix[t.versionPos] {
				t.stop(causeVersion, i)
				return i
			}
		case t.versionPos == len(versionPrefix):
			if c < '0' || c > '9' {
				t.stop(causeVersion, i)
				return i
			}
			t.http10 = c == '0'
		case c == '\r':
			t.state = stRequestLineLF
			return i + 1
		case c == '\n':
			t.emit(ReasonBareLF, i)
			return i
		default:
			t.stop(causeVersion, i)
			return i
		}
		t.versionPos++
	}
	return i
}

// lineStart looks at the first byte of a header line.
func (t *tracker) lineStart(q []byte, i int) int {
	switch c := q[i]; {
	case c == '\r':
		t.state = stHeadEndLF
		return i + 1
	case c == '\n':
		t.emit(ReasonBareLF, i)
	case c == ' ' || c == '\t':
		t.emit(ReasonObsFold, i)
	case isTokenChar(c):
		t.state = stName
		t.nameLen = 0
		t.nameCand = fieldContentLength | fieldTransferEncoding
	default:
		t.stop(causeHeaderName, i)
	}
	return i
}

// scanName reads a field name up to the colon and notes whether it is
// Content-Length or Transfer-Encoding, case-insensitively. Whitespace before
// the colon is invalid, and net/http rejects it too.
func (t *tracker) scanName(q []byte, i int) int {
	for ; i < len(q); i++ {
		c := q[i]
		if c == ':' {
			t.startValue()
			return i + 1
		}
		if !isTokenChar(c) {
			t.stop(causeHeaderName, i)
			return i
		}
		if t.nameCand != 0 {
			t.matchName(c)
		}
		t.nameLen++
	}
	return i
}

// matchName drops the candidates that the name byte c at index nameLen rules
// out.
func (t *tracker) matchName(c byte) {
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	if t.nameLen >= len(nameContentLength) || nameContentLength[t.nameLen] != c {
		t.nameCand &^= fieldContentLength
	}
	if t.nameLen >= len(nameTransferEncoding) || nameTransferEncoding[t.nameLen] != c {
		t.nameCand &^= fieldTransferEncoding
	}
}

func (t *tracker) startValue() {
	t.prevCR = false
	t.field = fieldOther
	switch {
	case t.nameCand&fieldContentLength != 0 && t.nameLen == len(nameContentLength):
		t.field = fieldContentLength
	case t.nameCand&fieldTransferEncoding != 0 && t.nameLen == len(nameTransferEncoding):
		t.field = fieldTransferEncoding
	}
	if t.field == fieldOther {
		t.state = stValue
		return
	}
	t.state = stSpecialValue
	t.valBad, t.valPhase, t.valNum, t.valMatched, t.valLeadSP = false, 0, 0, 0, false
}

// scanValue skips a field value up to the LF that ends its line. The server
// validates the bytes of the value itself.
func (t *tracker) scanValue(q []byte, i int) int {
	j := bytes.IndexByte(q[i:], '\n')
	if j < 0 {
		t.prevCR = q[len(q)-1] == '\r'
		return len(q)
	}
	end := i + j
	crlf := t.prevCR
	if j > 0 {
		crlf = q[end-1] == '\r'
	}
	t.endLine(crlf, end)
	return end + 1
}

func (t *tracker) scanSpecialValue(q []byte, i int) int {
	for ; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\n':
			t.endLine(t.prevCR, i)
			return i + 1
		case c == '\r':
			if t.prevCR {
				t.valBad = true
			}
			t.prevCR = true
		default:
			if t.prevCR {
				t.valBad = true
				t.prevCR = false
			}
			if t.field == fieldContentLength {
				t.contentLengthByte(c)
			} else {
				t.transferEncodingByte(c)
			}
		}
	}
	return i
}

// contentLengthByte parses the value as net/http does: optional SP or HTAB
// around decimal digits.
func (t *tracker) contentLengthByte(c byte) {
	switch {
	case c == ' ' || c == '\t':
		if t.valPhase == 1 {
			t.valPhase = 2
		}
	case '0' <= c && c <= '9' && t.valPhase < 2:
		t.valPhase = 1
		d := uint64(c - '0')
		if t.valNum > (maxContentLength-d)/10 {
			t.valBad = true
			return
		}
		t.valNum = t.valNum*10 + d
	default:
		t.valBad = true
	}
}

// transferEncodingByte accepts exactly "chunked" after at most one SP. Go
// also accepts other case and surrounding whitespace, which a proxy in front
// may not take for "chunked".
func (t *tracker) transferEncodingByte(c byte) {
	switch {
	case t.valMatched == 0 && !t.valLeadSP && c == ' ':
		t.valLeadSP = true
	case t.valMatched < len(valueChunked) && c == valueChunked[t.valMatched]:
		t.valMatched++
	default:
		t.valBad = true
	}
}

// endLine finishes a header line at the LF with index i.
func (t *tracker) endLine(crlf bool, i int) {
	if !crlf {
		t.emit(ReasonBareLF, i)
		return
	}
	switch t.field {
	case fieldContentLength:
		t.endContentLength(i)
	case fieldTransferEncoding:
		t.endTransferEncoding(i)
	}
	if t.state != stStopped {
		t.state = stLineStart
	}
}

func (t *tracker) endContentLength(i int) {
	switch {
	case t.valBad || t.valPhase == 0:
		t.emit(ReasonInvalidContentLength, i)
	case t.sawCL:
		t.emit(ReasonDuplicateContentLength, i)
	case t.sawTE:
		t.emit(ReasonContentLengthWithTransferEncoding, i)
	default:
		t.sawCL = true
		t.contentLength = t.valNum
	}
}

func (t *tracker) endTransferEncoding(i int) {
	switch {
	case t.sawTE || t.valBad || t.valMatched != len(valueChunked):
		t.emit(ReasonInvalidTransferEncoding, i)
	case t.http10:
		t.emit(ReasonTransferEncodingInHTTP10, i)
	case t.sawCL:
		t.emit(ReasonContentLengthWithTransferEncoding, i)
	default:
		t.sawTE = true
	}
}

// endHead accepts the request after the empty line that ends its header
// block and sets up the framing of its body as net/http does: chunked when
// Transfer-Encoding is present, else Content-Length bytes, else none.
func (t *tracker) endHead(i int) {
	t.emit("", i)
	if t.state == stStopped {
		return
	}
	t.lastPOST = t.methodIs("POST")
	switch {
	case t.sawTE:
		t.state = stChunkSize
		t.remaining, t.chunkDigits = 0, 0
	case t.contentLength > 0:
		t.state = stBody
		t.remaining = t.contentLength
	default:
		t.messageComplete()
	}
}

// isTokenChar reports whether c is a tchar of RFC 9110 section 5.6.2.
func isTokenChar(c byte) bool { return tokenChars[c] }

// tokenChars is a lookup table for isTokenChar. It is only read.
var tokenChars = func() (table [256]bool) {
	for c := '0'; c <= '9'; c++ {
		table[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		table[c] = true
		table[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		table[c] = true
	}
	return table
}()
