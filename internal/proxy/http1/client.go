// Package http1 is an HTTP/1.1 client for the plain-http targets of the
// proxy, built for its hot path.
//
// It exists because net/http's Transport costs a reverse proxy much of its
// throughput: every request passes between the caller's goroutine and two
// goroutines per connection, and several structures are allocated per
// request. This client writes the request head and reads the response on
// the caller's goroutine, keeps its buffers with the pooled connection,
// and parses a response header block with one string allocation. A
// goroutine is started only to send a request body, so that the response
// can arrive while the body is still being sent.
//
// Scope: HTTP/1.1 (and HTTP/1.0 responses) over plain TCP to one address.
// No TLS, proxies, upgrades, compression, redirects or cookies; the proxy
// uses net/http's Transport for https targets.
//
// Response parsing is strict where laxness allows response smuggling: a
// response with both Content-Length and Transfer-Encoding, differing
// Content-Length values, a transfer coding other than chunked, obsolete
// line folding, or invalid field names or values is rejected with
// ErrMalformed.
package http1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultMaxIdleConns   = 64
	DefaultIdleTimeout    = 90 * time.Second
	DefaultMaxHeaderBytes = 64 << 10
	DefaultConnectTimeout = 5 * time.Second
)

// Options configures a Client.
type Options struct {
	// Addr is the target's host:port.
	Addr string
	// MaxIdleConns is the number of idle connections kept for reuse.
	MaxIdleConns int
	// IdleTimeout closes connections idle for longer, since servers close
	// idle connections on their own schedule.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a response's status line and header section,
	// and separately its trailer section.
	MaxHeaderBytes int
	// ConnectTimeout bounds a dial when the Request sets no timeout.
	ConnectTimeout time.Duration
}

// Client sends requests to one address over pooled connections. It is
// safe for concurrent use.
type Client struct {
	opt    Options
	dialer net.Dialer

	mu     sync.Mutex
	idle   []*conn // most recently used last
	closed bool
}

// NewClient returns a client for opt.Addr. It dials lazily.
func NewClient(opt Options) *Client {
	if opt.MaxIdleConns <= 0 {
		opt.MaxIdleConns = DefaultMaxIdleConns
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = DefaultIdleTimeout
	}
	if opt.MaxHeaderBytes <= 0 {
		opt.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = DefaultConnectTimeout
	}
	return &Client{opt: opt, dialer: net.Dialer{KeepAlive: 30 * time.Second}}
}

// Request is one request to send. The client does not modify it.
type Request struct {
	// Method is the request method, such as "GET".
	Method string
	// Path is the escaped path; "" is sent as "/".
	Path string
	// RawQuery is the escaped query without "?".
	RawQuery string
	// Host is the Host header value.
	Host string
	// Header holds the fields to send. The client writes Host,
	// Content-Length, Transfer-Encoding and Trailer itself and skips them
	// here, and skips empty User-Agent values. The caller removes
	// hop-by-hop fields.
	Header http.Header
	// Body is the request body, or nil for none. It is read on another
	// goroutine. When the exchange ends before the body was sent, that
	// goroutine stops at its next write, so a Read already blocked in Body
	// may still return after Do or Response.Body.Close returned.
	Body io.Reader
	// ContentLength is the body length, or -1 to send the body chunked.
	ContentLength int64
	// Trailer holds trailer fields sent after a chunked body. Its keys are
	// announced in the Trailer header; values are read once Body returned
	// io.EOF.
	Trailer http.Header
	// Deadline bounds the whole exchange, body included, besides the
	// context's deadline. Zero means none.
	Deadline time.Time
	// ConnectTimeout bounds the dial; 0 means Options.ConnectTimeout.
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response header after
	// the request, body included, was written; 0 means no bound beyond
	// the context's deadline.
	ResponseHeaderTimeout time.Duration
}

// Ops of an Error.
const (
	OpDial  = "dial"
	OpWrite = "write"
	OpRead  = "read"
)

// ErrMalformed is wrapped by errors about a response that breaks HTTP/1.1
// framing or syntax.
var ErrMalformed = errors.New("malformed HTTP response")

// Error describes a failed exchange.
type Error struct {
	// Op is OpDial, OpWrite or OpRead.
	Op string
	// Addr is the target address.
	Addr string
	// Err is the cause. It wraps the context's error when the context
	// ended the exchange.
	Err error
	// NoResponse reports that no byte of a response was read, so a
	// request that is safe to repeat may be sent again.
	NoResponse bool
}

func (e *Error) Error() string {
	switch e.Op {
	case OpDial:
		return fmt.Sprintf("connecting to %s: %v", e.Addr, e.Err)
	case OpWrite:
		return fmt.Sprintf("sending request to %s: %v", e.Addr, e.Err)
	}
	return fmt.Sprintf("reading response from %s: %v", e.Addr, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Do sends req and returns the response once its header has arrived. The
// caller must close Response.Body; the Response is valid until then.
//
// The server may close a pooled connection while it is idle. So a request
// that is safe to repeat (GET, HEAD, OPTIONS or TRACE without a body) is
// sent once more on a new connection when a reused one fails before any
// response byte. For other requests a reused connection is first checked
// for a close by the server.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	if err := checkRequest(req); err != nil {
		return nil, &Error{Op: OpWrite, Addr: c.opt.Addr, Err: err, NoResponse: true}
	}
	repeatable := req.Body == nil && safeMethod(req.Method)
	fresh := false
	for {
		cn, err := c.getConn(ctx, req.ConnectTimeout, req.Deadline, fresh, !repeatable)
		if err != nil {
			return nil, err
		}
		reused := cn.used
		resp, err := cn.roundTrip(ctx, req)
		if err == nil {
			return resp, nil
		}
		var e *Error
		if fresh || !reused || !repeatable || ctx.Err() != nil ||
			!errors.As(err, &e) || !e.NoResponse || isTimeout(e.Err) {
			return nil, err
		}
		fresh = true
	}
}

func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// CloseIdle closes the idle connections. Connections in use are closed
// when their exchange ends instead of returning to the pool.
func (c *Client) CloseIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, cn := range idle {
		cn.close()
	}
}

// Close closes the idle connections and stops pooling.
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.CloseIdle()
}

// getConn returns an idle connection or dials a new one. fresh forces a
// dial; check makes sure that a reused connection was not closed by the
// server.
func (c *Client) getConn(ctx context.Context, timeout time.Duration, deadline time.Time, fresh, check bool) (*conn, error) {
	if !fresh {
		if cn := c.popIdle(check); cn != nil {
			return cn, nil
		}
	}
	if timeout <= 0 {
		timeout = c.opt.ConnectTimeout
	}
	if !deadline.IsZero() {
		timeout = min(timeout, time.Until(deadline))
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	nc, err := c.dialer.DialContext(dctx, "tcp", c.opt.Addr)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		return nil, &Error{Op: OpDial, Addr: c.opt.Addr, Err: err, NoResponse: true}
	}
	return newConn(c, nc), nil
}

func (c *Client) popIdle(check bool) *conn {
	now := time.Now()
	for {
		c.mu.Lock()
		n := len(c.idle)
		if n == 0 {
			c.mu.Unlock()
			return nil
		}
		cn := c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		c.mu.Unlock()

		if now.Sub(cn.idleSince) > c.opt.IdleTimeout || (check && !cn.alive()) {
			cn.close()
			continue
		}
		return cn
	}
}

// putIdle returns cn to the pool, or closes it when the pool is full or
// closed. It also closes the oldest idle connection once it has expired,
// so that an idle pool shrinks over time.
func (c *Client) putIdle(cn *conn) {
	cn.idleSince = time.Now()
	var expired *conn
	c.mu.Lock()
	if c.closed || len(c.idle) >= c.opt.MaxIdleConns {
		c.mu.Unlock()
		cn.close()
		return
	}
	c.idle = append(c.idle, cn)
	if oldest := c.idle[0]; cn.idleSince.Sub(oldest.idleSince) > c.opt.IdleTimeout {
		expired = oldest
		copy(c.idle, c.idle[1:])
		c.idle[len(c.idle)-1] = nil
		c.idle = c.idle[:len(c.idle)-1]
	}
	c.mu.Unlock()
	if expired != nil {
		expired.close()
	}
}

// idleCount returns the number of pooled connections.
func (c *Client) idleCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.idle)
}
