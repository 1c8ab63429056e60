package http1

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"golang.org/x/net/http/httpguts"
)

// errShortBody reports a request body that ended before ContentLength.
var errShortBody = errors.New("request body shorter than its Content-Length")

// copyBufferPool holds buffers for copying request bodies.
var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// checkRequest rejects a request whose method, target or host would break
// the request line or header framing.
func checkRequest(req *Request) error {
	if !isToken(req.Method) {
		return fmt.Errorf("invalid method %q", req.Method)
	}
	if req.Path != "" && req.Path[0] != '/' && req.Path != "*" {
		return fmt.Errorf("invalid path %q: must start with \"/\"", req.Path)
	}
	if !validTarget(req.Path) || !validTarget(req.RawQuery) {
		return fmt.Errorf("invalid request target %q: contains a space or control character", req.Path+"?"+req.RawQuery)
	}
	if !httpguts.ValidHostHeader(req.Host) {
		return fmt.Errorf("invalid Host %q", req.Host)
	}
	if req.Body == nil && req.ContentLength != 0 {
		return fmt.Errorf("invalid request: ContentLength %d without a body", req.ContentLength)
	}
	return nil
}

func validTarget(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// writeHead writes the request line and header section to cn.bw. Errors
// of the underlying writer surface at the next Flush.
func (cn *conn) writeHead(req *Request) error {
	bw := cn.bw
	bw.WriteString(req.Method)
	bw.WriteByte(' ')
	if req.Path == "" {
		bw.WriteByte('/')
	} else {
		bw.WriteString(req.Path)
	}
	if req.RawQuery != "" {
		bw.WriteByte('?')
		bw.WriteString(req.RawQuery)
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(req.Host)
	bw.WriteString("\r\n")

	for k, vs := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("invalid header field name %q", k)
		}
		for _, v := range vs {
			if v == "" && k == "User-Agent" {
				continue
			}
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("invalid value of header field %q", k)
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	return cn.writeFraming(req)
}

// writeFraming writes the fields that frame the body and ends the header
// section.
func (cn *conn) writeFraming(req *Request) error {
	bw := cn.bw
	switch {
	case req.Body == nil:
		// RFC 9110 section 8.6: a user agent sends Content-Length: 0 for
		// an empty body of a method that defines one.
		switch req.Method {
		case "POST", "PUT", "PATCH":
			bw.WriteString("Content-Length: 0\r\n")
		}
	case req.ContentLength >= 0:
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), req.ContentLength, 10))
		bw.WriteString("\r\n")
	default:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(req.Trailer) > 0 {
			bw.WriteString("Trailer: ")
			first := true
			for k := range req.Trailer {
				if !httpguts.ValidHeaderFieldName(k) {
					return fmt.Errorf("invalid trailer field name %q", k)
				}
				if !first {
					bw.WriteString(", ")
				}
				bw.WriteString(k)
				first = false
			}
			bw.WriteString("\r\n")
		}
	}
	_, err := bw.WriteString("\r\n")
	return err
}

// copyBody sends req.Body, chunked when its length is unknown, and
// flushes after every read so that a streamed body is not held back. It
// reports whether the error came from reading the body.
func (cn *conn) copyBody(req *Request) (readFailed bool, err error) {
	bufp := copyBufferPool.Get().(*[]byte)
	defer copyBufferPool.Put(bufp)
	buf := *bufp

	chunked := req.ContentLength < 0
	remaining := req.ContentLength
	for chunked || remaining > 0 {
		p := buf
		if !chunked && int64(len(p)) > remaining {
			p = p[:remaining]
		}
		n, rerr := req.Body.Read(p)
		if n > 0 {
			if err := cn.writeData(p[:n], chunked); err != nil {
				return false, err
			}
			remaining -= int64(n)
		}
		if rerr == io.EOF {
			if !chunked && remaining > 0 {
				return true, errShortBody
			}
			break
		}
		if rerr != nil {
			return true, rerr
		}
	}
	if chunked {
		if err := cn.writeLastChunk(req); err != nil {
			return false, err
		}
	}
	return false, cn.bw.Flush()
}

func (cn *conn) writeData(p []byte, chunked bool) error {
	bw := cn.bw
	if chunked {
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(p)), 16))
		bw.WriteString("\r\n")
		bw.Write(p)
		bw.WriteString("\r\n")
	} else {
		bw.Write(p)
	}
	return bw.Flush()
}

// writeLastChunk ends a chunked body with the trailer fields.
func (cn *conn) writeLastChunk(req *Request) error {
	bw := cn.bw
	bw.WriteString("0\r\n")
	for k, vs := range req.Trailer {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("invalid trailer field name %q", k)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("invalid value of trailer field %q", k)
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	_, err := bw.WriteString("\r\n")
	return err
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !httpguts.IsTokenRune(rune(s[i])) {
			return false
		}
	}
	return true
}
