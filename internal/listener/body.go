package listener

import "bytes"

// maxChunkSizeDigits is the maximum number of hex digits net/http accepts in
// a chunk size, leading zeros included (parseHexUint in net/http/internal, Go 1.26).
const maxChunkSizeDigits = 16

// body tracks a request body in p. It returns the number of bytes used, which
// is less than len(p) when the request ends or the tracker stops.
func (t *tracker) body(p []byte) int {
	i := 0
	for i < len(p) && !t.state.inHead() && t.state != stStopped {
		switch t.state {
		case stBody:
			i = t.skipBody(p, i)
		case stChunkSize:
			i = t.scanChunkSize(p, i)
		case stChunkSizeWS, stChunkExt:
			i = t.scanChunkLineRest(p, i)
		case stChunkLineLF:
			i = t.endChunkLine(p, i)
		case stChunkData:
			i = t.skipChunkData(p, i)
		case stChunkDataCR, stChunkDataLF:
			i = t.scanChunkDataEnd(p, i)
		case stTrailerLineStart:
			i = t.trailerLineStart(p, i)
		case stTrailerLine:
			i = t.scanTrailerLine(p, i)
		case stTrailerEndLF:
			if p[i] != '\n' {
				t.stop(causeBareCR, i)
				return i
			}
			i++
			t.messageComplete()
		}
	}
	return i
}

func (t *tracker) skipBody(p []byte, i int) int {
	n := min(uint64(len(p)-i), t.remaining)
	t.remaining -= n
	if t.remaining == 0 {
		t.messageComplete()
	}
	return i + int(n)
}

// scanChunkSize reads the hex size at the start of a chunk size line. Like
// net/http, it allows SP and HTAB after the size, or extensions after ';',
// but not whitespace before the ';'.
func (t *tracker) scanChunkSize(p []byte, i int) int {
	for ; i < len(p); i++ {
		c := p[i]
		if d, ok := hexValue(c); ok {
			if t.chunkDigits == maxChunkSizeDigits {
				t.stop(causeChunkLine, i)
				return i
			}
			t.remaining = t.remaining<<4 | d
			t.chunkDigits++
			continue
		}
		if t.chunkDigits == 0 {
			t.stop(causeChunkLine, i)
			return i
		}
		switch c {
		case ';':
			t.state = stChunkExt
		case ' ', '\t':
			t.state = stChunkSizeWS
		case '\r':
			t.state = stChunkLineLF
		default:
			t.stop(causeChunkLine, i)
			return i
		}
		return i + 1
	}
	return i
}

// scanChunkLineRest reads the whitespace or extensions after a chunk size up
// to the CR. net/http ignores the syntax of extensions but rejects a CR or LF
// anywhere but at the end of the line.
func (t *tracker) scanChunkLineRest(p []byte, i int) int {
	for ; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\r':
			t.state = stChunkLineLF
			return i + 1
		case c == '\n':
			t.stop(causeChunkLine, i)
			return i
		case t.state == stChunkSizeWS && c != ' ' && c != '\t':
			t.stop(causeChunkLine, i)
			return i
		}
	}
	return i
}

func (t *tracker) endChunkLine(p []byte, i int) int {
	if p[i] != '\n' {
		t.stop(causeChunkLine, i)
		return i
	}
	if t.remaining == 0 {
		t.state = stTrailerLineStart
	} else {
		t.state = stChunkData
	}
	return i + 1
}

func (t *tracker) skipChunkData(p []byte, i int) int {
	n := min(uint64(len(p)-i), t.remaining)
	t.remaining -= n
	if t.remaining == 0 {
		t.state = stChunkDataCR
	}
	return i + int(n)
}

func (t *tracker) scanChunkDataEnd(p []byte, i int) int {
	want, next := byte('\r'), stChunkDataLF
	if t.state == stChunkDataLF {
		want, next = '\n', stChunkSize
	}
	if p[i] != want {
		t.stop(causeChunkData, i)
		return i
	}
	t.state = next
	t.chunkDigits = 0
	return i + 1
}

// trailerLineStart looks at the first byte of a trailer line. net/http ends
// the trailer section at an empty line that may be a bare LF, but only when
// a CRLF CRLF follows within its read buffer. The tracker does not follow that
// case: it stops, as it does on obs-fold, and later requests get
// ReasonUntrackedRequest.
func (t *tracker) trailerLineStart(p []byte, i int) int {
	switch p[i] {
	case '\r':
		t.state = stTrailerEndLF
	case '\n', ' ', '\t':
		t.stop(causeTrailer, i)
		return i
	default:
		t.state = stTrailerLine
		t.prevCR = false
	}
	return i + 1
}

func (t *tracker) scanTrailerLine(p []byte, i int) int {
	j := bytes.IndexByte(p[i:], '\n')
	if j < 0 {
		t.prevCR = p[len(p)-1] == '\r'
		return len(p)
	}
	end := i + j
	crlf := t.prevCR
	if j > 0 {
		crlf = p[end-1] == '\r'
	}
	if !crlf {
		t.stop(causeTrailer, end)
		return end
	}
	t.state = stTrailerLineStart
	return end + 1
}

func hexValue(c byte) (uint64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}
