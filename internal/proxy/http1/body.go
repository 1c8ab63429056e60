package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Body framing modes.
const (
	bodyNone uint8 = iota
	bodyLength
	bodyChunked
	bodyUntilClose
)

var (
	// errEOF is io.EOF; the name marks a body that ended cleanly.
	errEOF = io.EOF
	// errBodyClosed is returned by Read after Close.
	errBodyClosed = errors.New("read on a closed response body")
)

// maxChunkSizeDigits bounds the hex digits of a chunk size so that the
// size cannot overflow an int64.
const maxChunkSizeDigits = 15

// Body streams a response body from the connection. It is not safe for
// concurrent use. Close returns the connection to the pool when the body
// was read to the end, and closes it otherwise.
type Body struct {
	cn        *conn
	mode      uint8
	remaining int64 // bodyLength: bytes left; bodyChunked: bytes left in the chunk
	// chunkSeen reports that a chunk-size line was read, so the next one
	// must follow the CRLF that ends the chunk's data.
	chunkSeen bool
	err       error // sticky; errEOF once the body ended
	closed    bool
}

// Read reads body bytes. It returns io.EOF, possibly with the last bytes,
// once the body ended; for a chunked body the trailer fields are then in
// Response.Trailer. Any other error wraps the cause in an *Error.
func (b *Body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errBodyClosed
	}
	if b.err != nil {
		return 0, b.err
	}
	var n int
	var err error
	switch b.mode {
	case bodyLength:
		n, err = b.readLength(p)
	case bodyChunked:
		n, err = b.readChunked(p)
	default:
		n, err = b.cn.br.Read(p)
	}
	if err != nil {
		if err != io.EOF {
			err = b.cn.readError(err)
		}
		b.err = err
	}
	return n, err
}

// Buffered returns the number of body bytes, framing included, that can
// be read without waiting on the network. A proxy flushes its output when
// it reaches 0.
func (b *Body) Buffered() int {
	if b.closed || b.err != nil {
		return 0
	}
	n := b.cn.br.Buffered()
	if b.mode != bodyChunked || b.remaining > 0 || n == 0 {
		return n
	}
	// Between chunks the buffer may hold only framing (the CRLF after the
	// last chunk, part of a size line). Count only what follows a complete
	// size line, so that a caller flushing on Buffered() == 0 does not
	// hold back data while the next read would block.
	p, _ := b.cn.br.Peek(n)
	if b.chunkSeen {
		if len(p) < 2 || p[0] != '\r' || p[1] != '\n' {
			return 0
		}
		p = p[2:]
	}
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		return 0
	}
	return len(p) - i - 1
}

// Close ends the exchange. It never returns an error.
func (b *Body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.cn.finish(b.err == errEOF && b.cn.keepAlive)
	return nil
}

func (b *Body) readLength(p []byte) (int, error) {
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.cn.br.Read(p)
	b.remaining -= int64(n)
	if b.remaining == 0 {
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *Body) readChunked(p []byte) (int, error) {
	cn := b.cn
	if b.remaining == 0 {
		if b.chunkSeen {
			if err := cn.readChunkEnd(); err != nil {
				return 0, err
			}
		}
		size, err := cn.readChunkSize()
		if err != nil {
			return 0, err
		}
		b.chunkSeen = true
		if size == 0 {
			if err := cn.readTrailer(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		b.remaining = size
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := cn.br.Read(p)
	b.remaining -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// readError wraps a failure while reading the body.
func (cn *conn) readError(err error) error {
	if cn.ctx != nil && cn.ctx.Err() != nil {
		err = errors.Join(cn.ctx.Err(), err)
	}
	return &Error{Op: OpRead, Addr: cn.client.opt.Addr, Err: err}
}

// readChunkSize reads a chunk-size line (RFC 9112 section 7.1) and
// returns the size. Chunk extensions are skipped.
func (cn *conn) readChunkSize() (int64, error) {
	line, err := cn.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return 0, malformed("chunk-size line too long")
	case errors.Is(err, io.EOF):
		return 0, io.ErrUnexpectedEOF
	case err != nil:
		return 0, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}

	var size int64
	digits := 0
	for ; digits < len(line); digits++ {
		v := unhex(line[digits])
		if v < 0 {
			break
		}
		if digits == maxChunkSizeDigits {
			return 0, malformed("chunk size too large")
		}
		size = size<<4 | int64(v)
	}
	if digits == 0 {
		return 0, malformed("invalid chunk size")
	}

	rest := line[digits:]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] != ';' {
		return 0, malformed("invalid chunk size")
	}
	for _, c := range rest {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return 0, malformed("control character in a chunk extension")
		}
	}
	return size, nil
}

// readChunkEnd reads the CRLF (or bare LF) after a chunk's data.
func (cn *conn) readChunkEnd() error {
	c, err := cn.br.ReadByte()
	if err == nil && c == '\r' {
		c, err = cn.br.ReadByte()
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if c != '\n' {
		return malformed("missing CRLF after chunk data")
	}
	return nil
}

// readTrailer reads the trailer section after the last chunk into
// cn.trailer.
func (cn *conn) readTrailer() error {
	if err := cn.readBlock(cn.client.opt.MaxHeaderBytes, true); err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if len(cn.spans) == 0 {
		return nil
	}
	return parseFields(string(cn.hbuf), cn.spans, cn.trailer)
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
