package http1

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// maxInterimResponses bounds the 1xx responses skipped before the final
// one, so that an upstream cannot keep the exchange busy forever.
const maxInterimResponses = 8

// Response is the final response to a request.
type Response struct {
	// StatusCode is the final status, 200 to 599 or any non-1xx status
	// from 100 to 999 that the server sent.
	StatusCode int
	// ProtoMinor is 0 for HTTP/1.0 and 1 for HTTP/1.1.
	ProtoMinor int
	// Header holds the response fields with canonical names, framing and
	// hop-by-hop fields included. The map is reused by the connection
	// after Body.Close; the value slices are not.
	Header http.Header
	// ContentLength is the declared body length, or -1 when unknown.
	ContentLength int64
	// Body streams the body.
	Body *Body
	// Trailer holds the trailer fields once Body returned io.EOF.
	Trailer http.Header
}

// span is one line of a header block, line terminator excluded.
type span struct{ start, end int }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// errHeaderTooLarge reports a header or trailer section over the limit.
var errHeaderTooLarge = fmt.Errorf("%w: header section too large", ErrMalformed)

// readResponse reads the response head, skipping 1xx responses, and sets
// up the body.
func (cn *conn) readResponse(req *Request) (*Response, error) {
	for interim := 0; ; interim++ {
		if err := cn.readBlock(cn.client.opt.MaxHeaderBytes, false); err != nil {
			return nil, err
		}
		first := cn.hbuf[cn.spans[0].start:cn.spans[0].end]
		minor, code, err := parseStatusLine(first)
		if err != nil {
			return nil, err
		}
		if code >= 200 {
			return cn.finalResponse(req, minor, code)
		}
		if code == http.StatusSwitchingProtocols {
			return nil, malformed("101 Switching Protocols without an upgrade request")
		}
		if interim == maxInterimResponses {
			return nil, malformed("more than %d interim responses", maxInterimResponses)
		}
	}
}

func (cn *conn) finalResponse(req *Request, minor, code int) (*Response, error) {
	clear(cn.header)
	clear(cn.trailer)
	block := string(cn.hbuf)
	if err := parseFields(block, cn.spans[1:], cn.header); err != nil {
		return nil, err
	}
	x := &exchange{}
	x.resp = Response{StatusCode: code, ProtoMinor: minor, Header: cn.header, Trailer: cn.trailer, Body: &x.body}
	x.body.cn = cn
	if err := frame(&x.resp, &x.body, req.Method, &cn.keepAlive); err != nil {
		return nil, err
	}
	return &x.resp, nil
}

// exchange holds the response and its body in one allocation.
type exchange struct {
	resp Response
	body Body
}

// readBlock reads the lines of a header block up to the empty line that
// ends it into cn.hbuf, and their positions into cn.spans. limit bounds
// the block's size. allowEmpty accepts a block with no line, as a trailer
// section may be.
func (cn *conn) readBlock(limit int, allowEmpty bool) error {
	cn.hbuf = cn.hbuf[:0]
	cn.spans = cn.spans[:0]
	for {
		start := len(cn.hbuf)
		for {
			frag, err := cn.br.ReadSlice('\n')
			if len(frag) > 0 {
				cn.received = true
			}
			if len(cn.hbuf)+len(frag) > limit {
				return errHeaderTooLarge
			}
			cn.hbuf = append(cn.hbuf, frag...)
			if err == nil {
				break
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				return err
			}
		}
		end := len(cn.hbuf) - 1 // drop '\n'
		if end > start && cn.hbuf[end-1] == '\r' {
			end--
		}
		if end == start {
			if len(cn.spans) == 0 && !allowEmpty {
				return malformed("empty line before the status line")
			}
			return nil
		}
		cn.spans = append(cn.spans, span{start, end})
	}
}

// parseStatusLine parses "HTTP/1.x NNN reason". The reason phrase is
// ignored; the gateway sends the standard one.
func parseStatusLine(line []byte) (minor, code int, err error) {
	const prefix = "HTTP/1."
	if len(line) < len(prefix)+5 || string(line[:len(prefix)]) != prefix {
		return 0, 0, malformed("invalid status line %q", truncate(line))
	}
	switch line[len(prefix)] {
	case '0':
		minor = 0
	case '1':
		minor = 1
	default:
		return 0, 0, malformed("unsupported protocol version in %q", truncate(line))
	}

	rest := line[len(prefix)+1:]
	if rest[0] != ' ' {
		return 0, 0, malformed("invalid status line %q", truncate(line))
	}
	rest = rest[1:]
	if len(rest) < 3 || (len(rest) > 3 && rest[3] != ' ') {
		return 0, 0, malformed("invalid status code in %q", truncate(line))
	}
	for _, c := range rest[:3] {
		if c < '0' || c > '9' {
			return 0, 0, malformed("invalid status code in %q", truncate(line))
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return 0, 0, malformed("invalid status code %d", code)
	}

	for _, c := range rest[3:] {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return 0, 0, malformed("control character in the reason phrase")
		}
	}
	return minor, code, nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// parseFields parses the field lines of block at spans into h. Values are
// substrings of block, and the value slices share one backing array, so
// that a whole section costs a few allocations.
func parseFields(block string, spans []span, h http.Header) error {
	if len(spans) == 0 {
		return nil
	}
	values := make([]string, len(spans))
	for i, sp := range spans {
		line := block[sp.start:sp.end]
		if line[0] == ' ' || line[0] == '\t' {
			// RFC 9112 section 5.2: obsolete line folding may be rejected.
			return malformed("obsolete line folding in a header field")
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return malformed("header line without a field name")
		}
		name := line[:colon]
		if !httpguts.ValidHeaderFieldName(name) {
			// Includes whitespace before the colon, which RFC 9112
			// section 5.1 requires a proxy to reject or remove.
			return malformed("invalid header field name %q", name)
		}
		value := strings.Trim(line[colon+1:], " \t")
		if !httpguts.ValidHeaderFieldValue(value) {
			return malformed("invalid value of header field %q", name)
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		values[i] = value
		if prev, ok := h[key]; ok {
			h[key] = append(prev, value)
		} else {
			h[key] = values[i : i+1 : i+1]
		}
	}
	return nil
}

// frame decides how the body is delimited (RFC 9112 section 6.3) and
// whether the connection stays open afterwards.
func frame(resp *Response, body *Body, method string, keepAlive *bool) error {
	h := resp.Header
	te, hasTE := h["Transfer-Encoding"]
	cl, hasCL := h["Content-Length"]
	if hasTE && hasCL {
		return malformed("both Content-Length and Transfer-Encoding")
	}
	*keepAlive = resp.ProtoMinor == 1
	if conn := h["Connection"]; len(conn) > 0 {
		switch {
		case hasToken(conn, "close"):
			*keepAlive = false
		case resp.ProtoMinor == 0 && hasToken(conn, "keep-alive"):
			*keepAlive = true
		}
	}

	resp.ContentLength = -1
	if hasCL {
		n, err := parseContentLength(cl)
		if err != nil {
			return err
		}
		resp.ContentLength = n
	}
	if hasTE {
		if resp.ProtoMinor == 0 {
			// RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0
			// message means its framing is faulty.
			return malformed("Transfer-Encoding in an HTTP/1.0 response")
		}
		if !chunkedOnly(te) {
			return malformed("unsupported transfer coding %q", strings.Join(te, ", "))
		}
	}

	code := resp.StatusCode
	switch {
	case method == "HEAD" || code == http.StatusNotModified:
		body.mode = bodyNone
	case code == http.StatusNoContent:
		body.mode = bodyNone
		resp.ContentLength = 0
		delete(h, "Content-Length")
	case hasTE:
		body.mode = bodyChunked
	case hasCL:
		body.mode = bodyLength
		body.remaining = resp.ContentLength
		if body.remaining == 0 {
			body.mode = bodyNone
		}
	default:
		body.mode = bodyUntilClose
		*keepAlive = false
	}
	if body.mode == bodyNone {
		body.err = errEOF
	}
	return nil
}

// parseContentLength accepts one or more Content-Length values, each a
// comma-separated list, when all elements are the same decimal number
// (RFC 9110 section 8.6).
func parseContentLength(values []string) (int64, error) {
	n := int64(-1)
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			m, ok := parseDecimal(strings.Trim(elem, " \t"))
			if !ok {
				return 0, malformed("invalid Content-Length %q", v)
			}
			if n >= 0 && m != n {
				return 0, malformed("conflicting Content-Length values")
			}
			n = m
		}
	}
	return n, nil
}

func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// chunkedOnly reports whether the transfer codings are exactly
// "chunked". Other codings would have to be passed on to a client that
// may not support them, so they are rejected.
func chunkedOnly(values []string) bool {
	count := 0
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			if !strings.EqualFold(strings.Trim(elem, " \t"), "chunked") {
				return false
			}
			count++
		}
	}
	return count == 1
}

// hasToken reports whether a comma-separated field lists token, ignoring
// case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.Trim(elem, " \t"), token) {
				return true
			}
		}
	}
	return false
}
