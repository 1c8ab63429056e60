package http1

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

const (
	readBufferSize  = 8 << 10
	writeBufferSize = 8 << 10
)

// aLongTimeAgo is a deadline in the past; setting it makes blocked reads
// and writes return at once.
var aLongTimeAgo = time.Unix(1, 0)

// conn is one pooled connection. Between exchanges it belongs to the
// pool. During an exchange it belongs to the caller of Do, except for the
// fields that the body writer goroutine shares under mu.
type conn struct {
	client *Client
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer

	// used reports that the connection carried a request before.
	used      bool
	idleSince time.Time

	// Per exchange.
	ctx        context.Context
	stopCancel func() bool
	abortFn    func()
	keepAlive  bool
	// received reports that a byte of the response was read.
	received bool
	// header and trailer are reused between exchanges; hbuf and spans are
	// scratch space for reading a header block.
	header  map[string][]string
	trailer map[string][]string
	hbuf    []byte
	spans   []span

	// writing reports that a body writer goroutine was started; its
	// result arrives on writeDone.
	writing   bool
	writeDone chan error

	mu             sync.Mutex // guards the fields below, shared with the writer
	headDone       bool
	deadline       time.Time // the context's deadline, zero if none
	headerTimeout  time.Duration
	bodySent       bool
	bodyWriteError error
}

func newConn(c *Client, nc net.Conn) *conn {
	cn := &conn{
		client:    c,
		nc:        nc,
		br:        bufio.NewReaderSize(nc, readBufferSize),
		bw:        bufio.NewWriterSize(nc, writeBufferSize),
		header:    make(map[string][]string, 16),
		trailer:   make(map[string][]string),
		hbuf:      make([]byte, 0, 1024),
		spans:     make([]span, 0, 32),
		writeDone: make(chan error, 1),
	}
	cn.abortFn = cn.abort
	return cn
}

// abort makes blocked I/O on the connection return; it runs when the
// exchange's context ends.
func (cn *conn) abort() { _ = cn.nc.SetDeadline(aLongTimeAgo) }

func (cn *conn) close() { _ = cn.nc.Close() }

// roundTrip runs one exchange on cn. On error the connection is closed.
func (cn *conn) roundTrip(ctx context.Context, req *Request) (*Response, error) {
	cn.ctx = ctx
	cn.received = false
	cn.headDone = false
	cn.bodyWriteError = nil
	cn.bodySent = false
	cn.deadline = req.Deadline
	if d, ok := ctx.Deadline(); ok && (cn.deadline.IsZero() || d.Before(cn.deadline)) {
		cn.deadline = d
	}
	cn.headerTimeout = req.ResponseHeaderTimeout
	if ctx.Done() != nil {
		cn.stopCancel = context.AfterFunc(ctx, cn.abortFn)
	}
	cn.used = true

	if err := cn.nc.SetWriteDeadline(cn.deadline); err != nil {
		return nil, cn.fail(OpWrite, err)
	}
	if err := cn.writeHead(req); err != nil {
		return nil, cn.fail(OpWrite, err)
	}
	if err := cn.bw.Flush(); err != nil {
		return nil, cn.fail(OpWrite, err)
	}
	if req.Body == nil {
		if err := cn.nc.SetReadDeadline(cn.headerDeadline()); err != nil {
			return nil, cn.fail(OpRead, err)
		}
	} else {
		// The header timeout starts once the body is sent; until then
		// only the context's deadline applies.
		if err := cn.nc.SetReadDeadline(cn.deadline); err != nil {
			return nil, cn.fail(OpRead, err)
		}
		cn.writing = true
		go cn.writeBody(req)
	}

	resp, err := cn.readResponse(req)
	if err != nil {
		return nil, cn.fail(OpRead, err)
	}
	cn.mu.Lock()
	cn.headDone = true
	err = cn.nc.SetReadDeadline(cn.deadline)
	cn.mu.Unlock()
	if err != nil {
		return nil, cn.fail(OpRead, err)
	}
	return resp, nil
}

// headerDeadline returns when the response header must have arrived.
func (cn *conn) headerDeadline() time.Time {
	if cn.headerTimeout <= 0 {
		return cn.deadline
	}
	d := time.Now().Add(cn.headerTimeout)
	if !cn.deadline.IsZero() && cn.deadline.Before(d) {
		return cn.deadline
	}
	return d
}

// writeBody sends the request body on its own goroutine. A failure to
// read the body aborts the exchange, because the server would wait for
// the rest. A failure to write does not, so that the reader can still
// pick up a response the server sent before it stopped reading. The last
// step is the send on writeDone.
func (cn *conn) writeBody(req *Request) {
	readFailed, err := cn.copyBody(req)
	cn.mu.Lock()
	switch {
	case readFailed:
		cn.bodyWriteError = err
		_ = cn.nc.SetReadDeadline(aLongTimeAgo)
	case err == nil:
		cn.bodySent = true
		if !cn.headDone {
			_ = cn.nc.SetReadDeadline(cn.headerDeadline())
		}
	}
	cn.mu.Unlock()
	cn.writeDone <- err
}

// writerDone reports whether the body writer, if one was started, sent
// the whole body. A writer still sending is not waited for: the caller
// closes the connection, which makes its next write fail, and the writer
// then stops. It may be blocked reading Request.Body until then.
func (cn *conn) writerDone() bool {
	if !cn.writing {
		return true
	}
	cn.mu.Lock()
	sent := cn.bodySent
	cn.mu.Unlock()
	if !sent {
		return false
	}
	cn.writing = false
	return <-cn.writeDone == nil
}

// finish ends the exchange and returns the connection to the pool when
// reuse is true and nothing broke it.
func (cn *conn) finish(reuse bool) {
	if !cn.writerDone() {
		reuse = false
	}
	if cn.stopCancel != nil {
		if !cn.stopCancel() {
			// The context ended and abort poisoned the deadlines.
			reuse = false
		}
		cn.stopCancel = nil
	}
	cn.ctx = nil
	if reuse {
		cn.client.putIdle(cn)
	} else {
		cn.close()
	}
}

// fail ends the exchange after an error and returns the error to report.
func (cn *conn) fail(op string, err error) error {
	noResponse := !cn.received
	ctx := cn.ctx
	cn.mu.Lock()
	bodyErr := cn.bodyWriteError
	cn.mu.Unlock()
	cn.finish(false)
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	case bodyErr != nil:
		err = fmt.Errorf("reading request body: %w", bodyErr)
	}
	return &Error{Op: op, Addr: cn.client.opt.Addr, Err: err, NoResponse: noResponse}
}
