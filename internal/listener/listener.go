// Package listener wraps the gateway's plaintext TCP listeners. It limits
// the number of open connections and follows the HTTP/1.1 message framing of
// every connection so that handlers can reject requests whose framing is
// ambiguous (request smuggling), which net/http hides from them.
//
// Go's server accepts a request that carries both Content-Length and
// Transfer-Encoding: chunked: it deletes Content-Length and reads the chunked
// body (fixLength in net/http/transfer.go, Go 1.26). It also accepts these,
// and a handler cannot tell afterwards:
//
//   - obs-fold continuation lines, folded into the previous value;
//   - a bare LF as the line ending of the request line and headers;
//   - a Transfer-Encoding value in other case or with extra whitespace;
//   - Transfer-Encoding in an HTTP/1.0 request, which it ignores;
//   - identical duplicate Content-Length fields, which it merges.
//
// A proxy in front of the gateway may frame the same bytes differently. The
// wrapped connection therefore watches the bytes the server reads, without
// changing or delaying them, and records one verdict per request. Check
// returns the verdict of the request being handled.
//
// The tracker keeps a fixed state of about 530 bytes per connection (Go 1.26,
// amd64), however long the header block is. It allocates nothing while
// parsing. Only its queue of verdicts grows, when more than four pipelined
// requests wait for their handlers, up to maxPendingVerdicts. A request
// line and header block longer than Options.MaxHeaderBytes plus 4096 bytes
// gets ReasonHeaderTooLarge, and tracking stops on that connection.
//
// Go's server itself rejects the following before any handler runs, so they
// never reach Check. The tracker rejects or stops on them as well, except on
// a bare CR or control character inside a value, which it leaves to the
// server:
//
//   - more than one Transfer-Encoding field;
//   - a Transfer-Encoding value other than "chunked", such as "chunked,
//     identity" or "xchunked";
//   - whitespace before the colon of a field name;
//   - a bare CR, and control characters in values;
//   - differing Content-Length values;
//   - a first header line that starts with whitespace.
//
// Wiring:
//
//	srv := &http.Server{Handler: h, ConnContext: listener.ConnContext}
//	srv.Serve(listener.Wrap(tcpListener, listener.Options{Logger: logger}))
//
// and, at the start of the handler:
//
//	if reason, ok := listener.Check(r); !ok {
//		w.Header().Set("Connection", "close")
//		// respond 400 Bad Request and record reason
//	}
//
// TLS connections are not sniffed. http.Server needs the *tls.Conn itself
// (it type-asserts the accepted connection) to negotiate HTTP/2 through ALPN
// and to fill Request.TLS, so the sniffer cannot sit above TLS, and below TLS
// it only reads ciphertext. A listener wrapped and then passed to
// tls.NewListener still gets the connection limit: the sniffer stops at the
// first byte of the TLS handshake, ConnContext sees a *tls.Conn and attaches
// nothing, and Check returns ok. On those connections Go itself removes
// Content-Length from a request that also has Transfer-Encoding: chunked, so
// that conflict stays undetected over TLS. HTTP/2 requests (over TLS, or
// cleartext with prior knowledge) are not checked either: HTTP/2 frames
// carry their own lengths.
package listener

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Reasons returned by Check. They are stable codes for events and metrics.
const (
	// ReasonContentLengthWithTransferEncoding is a request with both
	// Content-Length and Transfer-Encoding.
	ReasonContentLengthWithTransferEncoding = "content_length_with_transfer_encoding"
	// ReasonInvalidTransferEncoding is a Transfer-Encoding field whose value
	// is not exactly "chunked" (lowercase, with at most one SP before it and
	// nothing after it), or a second Transfer-Encoding field.
	ReasonInvalidTransferEncoding = "invalid_transfer_encoding"
	// ReasonTransferEncodingInHTTP10 is an HTTP/1.0 request with
	// Transfer-Encoding. RFC 9112 section 6.1 calls its framing faulty, and
	// Go frames it by Content-Length.
	ReasonTransferEncodingInHTTP10 = "transfer_encoding_in_http10"
	// ReasonDuplicateContentLength is a second Content-Length field, even
	// with the same value.
	ReasonDuplicateContentLength = "duplicate_content_length"
	// ReasonInvalidContentLength is a Content-Length value that is not a
	// decimal number below 2^63 surrounded by optional SP or HTAB.
	ReasonInvalidContentLength = "invalid_content_length"
	// ReasonObsFold is a header line that starts with SP or HTAB: an obs-fold
	// continuation line, or whitespace before the first header field.
	ReasonObsFold = "obs_fold"
	// ReasonBareLF is a request line or header line that ends in LF without
	// the CR before it, including the empty line that ends the header block.
	ReasonBareLF = "bare_lf"
	// ReasonHeaderTooLarge is a request line and header block longer than
	// Options.MaxHeaderBytes plus 4096 bytes. A request line alone that long
	// gets ReasonUntrackedRequest, because the verdict cannot name it.
	ReasonHeaderTooLarge = "header_too_large"
	// ReasonUntrackedRequest is a request that arrived after the connection
	// stopped following the framing. That happens after a rejected request,
	// a chunked body that Go fails to read, a trailer line that ends in a
	// bare LF, or anything else the tracker cannot follow. The request may be
	// well formed, but its framing cannot be vouched for.
	ReasonUntrackedRequest = "untracked_request"
	// ReasonFramingMismatch is a request whose method and target differ from
	// the next request the tracker saw on the connection, so the server and
	// the tracker disagree on where requests start.
	ReasonFramingMismatch = "framing_mismatch"
)

// maxPendingVerdicts bounds the verdicts queued on one connection. While a
// handler runs, the server has read at most 4096 bytes past its request (one
// fill of its bufio.Reader, less the request's last byte, plus one byte of
// background read). A request the tracker accepts is at least 16 bytes long
// ("A / HTTP/1.0" and two CRLFs), so at most 257 verdicts wait, the
// handler's own included. The bound leaves room for twice that. A full queue
// takes 16 KiB.
//
// NOTE: this bound assumes the 4096-byte read buffer of net/http's server
// (Go 1.26). Past it the tracker stops and later requests on the connection
// get ReasonUntrackedRequest.
const maxPendingVerdicts = 512

// headerSlop is the number of bytes http.Server allows beyond MaxHeaderBytes
// for the request line and header block (initialReadLimitSize, Go 1.26).
const headerSlop = 4096

// limitWarnInterval is the minimum time between two log lines saying that the
// connection limit was reached.
const limitWarnInterval = time.Minute

// Options configures Wrap.
type Options struct {
	// MaxConnections is the maximum number of connections open at once.
	// Accept waits for a connection to close when the limit is reached, as
	// golang.org/x/net/netutil.LimitListener does. Zero or negative means no
	// limit.
	MaxConnections int
	// MaxHeaderBytes is the http.Server's MaxHeaderBytes. A request line and
	// header block longer than it plus 4096 bytes gets ReasonHeaderTooLarge
	// and stops the tracking of the connection. Zero means
	// http.DefaultMaxHeaderBytes. With the same value as the server, the
	// server responds 431 to an oversized header block before any handler
	// runs.
	MaxHeaderBytes int
	// Logger receives a warning when the connection limit is reached (at
	// most once a minute) and a debug line when a connection stops being
	// tracked. Nil discards the logs.
	Logger *slog.Logger
}

// Wrap returns a listener whose connections track HTTP/1.1 framing and, when
// opt.MaxConnections is positive, at most opt.MaxConnections connections at
// once. Serve it with an http.Server whose ConnContext is ConnContext.
//
// The connection limit is built in rather than taken from
// golang.org/x/net/netutil because netutil's connection type hides the
// CloseWrite method of *net.TCPConn. http.Server half-closes through it after
// rejecting a request whose body was not read, so that the client reads the
// response before the socket is closed.
func Wrap(l net.Listener, opt Options) net.Listener {
	wl := &listener{
		Listener:  l,
		logger:    opt.Logger,
		maxHeader: opt.MaxHeaderBytes,
		seed:      maphash.MakeSeed(),
		done:      make(chan struct{}),
		now:       time.Now,
	}
	if wl.logger == nil {
		wl.logger = slog.New(slog.DiscardHandler)
	}
	if wl.maxHeader <= 0 {
		wl.maxHeader = http.DefaultMaxHeaderBytes
	}
	if opt.MaxConnections > 0 {
		wl.slots = make(chan struct{}, opt.MaxConnections)
	}
	return wl
}

// listener is the net.Listener returned by Wrap.
type listener struct {
	net.Listener
	logger    *slog.Logger
	maxHeader int
	seed      maphash.Seed

	slots     chan struct{} // one element per open connection; nil without a limit
	done      chan struct{} // closed by Close
	closeOnce sync.Once

	now      func() time.Time
	warnMu   sync.Mutex
	lastWarn time.Time
}

// Accept waits for a free connection slot, then for the next connection.
// After Close it returns the error of the wrapped listener's Accept.
func (l *listener) Accept() (net.Conn, error) {
	if !l.acquire() {
		// Closed while waiting for a slot: the wrapped listener is closed
		// too, so its Accept returns at once with the error to report.
		for {
			c, err := l.Listener.Accept()
			if err != nil {
				return nil, err
			}
			c.Close()
		}
	}

	c, err := l.Listener.Accept()
	if err != nil {
		l.release()
		return nil, err
	}
	return newConn(c, l), nil
}

// Close closes the wrapped listener and wakes an Accept waiting for a slot.
func (l *listener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// acquire takes a connection slot. It returns false when the listener is
// closed before a slot becomes free.
func (l *listener) acquire() bool {
	if l.slots == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}

	l.warnLimit()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-l.done:
		return false
	}
}

// release frees the slot of a closed connection.
func (l *listener) release() {
	if l.slots != nil {
		<-l.slots
	}
}

// warnLimit logs that Accept waits for a slot, at most once per
// limitWarnInterval.
func (l *listener) warnLimit() {
	now := l.now()
	l.warnMu.Lock()
	if !l.lastWarn.IsZero() && now.Sub(l.lastWarn) < limitWarnInterval {
		l.warnMu.Unlock()
		return
	}
	l.lastWarn = now
	l.warnMu.Unlock()
	l.logger.Warn("connection limit reached; new connections wait for an open one to close",
		"address", l.Addr().String(), "max_connections", cap(l.slots))
}

// connKey is the context key under which ConnContext stores the connection.
type connKey struct{}

// ConnContext attaches a connection accepted from a listener returned by Wrap
// to ctx, so that Check finds its verdicts. Set it as http.Server.ConnContext,
// or call it from another ConnContext function. Other connections, *tls.Conn
// included, leave ctx unchanged.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if wc, ok := c.(*conn); ok {
		return context.WithValue(ctx, connKey{}, wc)
	}
	return ctx
}

// Check returns the framing verdict of r. Call it exactly once at the start
// of each handler invocation. It takes the next verdict queued on the
// request's connection, so a second call for the same request takes the
// verdict of the next one and usually returns ReasonFramingMismatch. A
// handler invocation that skips Check misaligns the queue in the same way.
// When ok is false, reason is one of the Reason constants, and the caller
// should respond 400 with "Connection: close".
//
// Check returns ok for requests whose connection was not accepted from a
// listener returned by Wrap (TLS connections included) or whose context lacks
// ConnContext's value, and for HTTP/2 requests.
func Check(r *http.Request) (reason string, ok bool) {
	c, _ := r.Context().Value(connKey{}).(*conn)
	if c == nil || r.ProtoMajor != 1 {
		return "", true
	}
	reason = c.verdict(r.Method, r.RequestURI)
	return reason, reason == ""
}

// errNoCloseWrite is returned by CloseWrite when the wrapped connection has
// no CloseWrite method.
var errNoCloseWrite = errors.New("listener: the connection does not support CloseWrite")
