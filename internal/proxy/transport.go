package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"time"

	"github.com/warden-api/warden/internal/proxy/http1"
)

// transport sends one request to one target. It is the seam between the
// forwarding logic and the HTTP client: net/http's Transport for https
// targets, and the allocation-light client of package http1 for plain-http
// targets. Implementations are safe for concurrent use.
type transport interface {
	// roundTrip sends req and returns the response once its header has
	// arrived. The caller must close the response body.
	roundTrip(ctx context.Context, req *outRequest) (response, error)
	// closeIdle closes idle pooled connections.
	closeIdle()
}

// outRequest is the request to send to a target. The http1 client's
// request type carries exactly what both transports need.
type outRequest = http1.Request

// response is a target's response: status, header, body and trailers.
type response interface {
	statusCode() int
	header() http.Header
	body() io.ReadCloser
	// trailerNames returns the trailer field names the target announced.
	trailerNames() []string
	// trailers returns the trailer fields; valid once body has returned
	// io.EOF.
	trailers() http.Header
	// buffered returns the number of body bytes readable without waiting
	// on the network, or -1 when unknown.
	buffered() int
}

// dialError marks a failure to open a connection, which classify keeps
// apart from a failure on an open connection.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// connectTimeoutKey carries a request's connect timeout to the dialer of
// net/http's Transport, which dials with a context derived from the
// request's.
type connectTimeoutKey struct{}

// stdTransport sends requests through net/http's Transport. It speaks
// HTTP/2 to https targets that offer it and HTTP/1.1 otherwise.
type stdTransport struct {
	t *http.Transport
	// scheme and host are the target's; every request goes there.
	scheme, host string
}

// newStdTransport returns a Transport for one upstream. tlsConfig is used
// for https targets. defaultConnect bounds dials and TLS handshakes of
// requests that carry no connect timeout.
func newStdTransport(tlsConfig *tls.Config, maxIdle int, defaultConnect time.Duration, https bool) *http.Transport {
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, connectTimeoutOf(ctx, defaultConnect))
		defer cancel()
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, &dialError{err}
		}
		return c, nil
	}
	t := &http.Transport{
		Proxy:                  nil, // never from the environment
		DialContext:            dial,
		MaxIdleConns:           0,
		MaxIdleConnsPerHost:    maxIdle,
		IdleConnTimeout:        defaultIdleConnTimeout,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		ReadBufferSize:         16 << 10,
		WriteBufferSize:        16 << 10,
	}
	if https {
		cfg := tlsConfig.Clone()
		cfg.NextProtos = []string{"h2", "http/1.1"}
		t.ForceAttemptHTTP2 = true
		t.TLSClientConfig = cfg
		t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialTLS(ctx, dialer, cfg, network, addr, defaultConnect)
		}
	}
	return t
}

// dialTLS opens a TLS connection within one connect timeout that covers
// the TCP dial and the handshake.
func dialTLS(ctx context.Context, dialer *net.Dialer, cfg *tls.Config, network, addr string, defaultConnect time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeoutOf(ctx, defaultConnect))
	defer cancel()
	raw, err := dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, &dialError{err}
	}
	c := cfg
	if c.ServerName == "" {
		host, _, _ := net.SplitHostPort(addr)
		c = cfg.Clone()
		c.ServerName = host
	}
	tc := tls.Client(raw, c)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, &dialError{fmt.Errorf("TLS handshake with %s: %w", addr, err)}
	}
	return tc, nil
}

func connectTimeoutOf(ctx context.Context, def time.Duration) time.Duration {
	if d, ok := ctx.Value(connectTimeoutKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return def
}

func (s *stdTransport) roundTrip(ctx context.Context, req *outRequest) (response, error) {
	ctx = context.WithValue(ctx, connectTimeoutKey{}, req.ConnectTimeout)
	ctx, cancelDeadline := context.WithDeadline(ctx, req.Deadline)
	ctx, cancelCause := context.WithCancelCause(ctx)
	cancel := func(cause error) {
		cancelCause(cause)
		cancelDeadline()
	}
	timer := armHeaderTimeout(&ctx, req.ResponseHeaderTimeout, cancelCause)

	u := &url.URL{Scheme: s.scheme, Host: s.host, RawQuery: req.RawQuery}
	if p, err := url.PathUnescape(req.Path); err == nil {
		u.Path, u.RawPath = p, req.Path
	} else {
		u.Path = req.Path
	}
	var body io.ReadCloser = http.NoBody
	if req.Body != nil {
		body = io.NopCloser(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, "", body)
	if err != nil {
		cancel(nil)
		return nil, fmt.Errorf("building upstream request: %w", err)
	}
	hr.URL = u
	hr.Host = req.Host
	hr.Header = req.Header
	hr.ContentLength = req.ContentLength
	hr.Trailer = req.Trailer

	res, err := s.t.RoundTrip(hr)
	timer.stop()
	if err != nil {
		if errors.Is(context.Cause(ctx), errHeaderTimeout) {
			err = fmt.Errorf("%w: %w", errHeaderTimeout, err)
		}
		cancel(nil)
		return nil, err
	}
	return &stdResponse{res: res, cancel: cancel}, nil
}

func (s *stdTransport) closeIdle() { s.t.CloseIdleConnections() }

// headerTimer cancels a request whose response header does not arrive
// within the timeout after the request was written.
type headerTimer struct {
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

// armHeaderTimeout starts the header timeout once net/http reports the
// request written, body included, as the config documents.
func armHeaderTimeout(ctx *context.Context, d time.Duration, cancel context.CancelCauseFunc) *headerTimer {
	ht := &headerTimer{}
	*ctx = httptrace.WithClientTrace(*ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) {
			ht.mu.Lock()
			defer ht.mu.Unlock()
			if !ht.stopped && ht.timer == nil {
				ht.timer = time.AfterFunc(d, func() { cancel(errHeaderTimeout) })
			}
		},
	})
	return ht
}

func (ht *headerTimer) stop() {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	ht.stopped = true
	if ht.timer != nil {
		ht.timer.Stop()
	}
}

// stdResponse adapts an http.Response. Closing the body releases the
// request's context.
type stdResponse struct {
	res    *http.Response
	cancel func(error)
}

func (r *stdResponse) statusCode() int     { return r.res.StatusCode }
func (r *stdResponse) header() http.Header { return r.res.Header }
func (r *stdResponse) body() io.ReadCloser { return (*stdBody)(r) }
func (r *stdResponse) buffered() int       { return -1 }
func (r *stdResponse) trailers() http.Header {
	return r.res.Trailer
}

func (r *stdResponse) trailerNames() []string {
	if len(r.res.Trailer) == 0 {
		return nil
	}
	names := make([]string, 0, len(r.res.Trailer))
	for k := range r.res.Trailer {
		names = append(names, k)
	}
	return names
}

type stdBody stdResponse

func (b *stdBody) Read(p []byte) (int, error) { return b.res.Body.Read(p) }
func (b *stdBody) Close() error {
	err := b.res.Body.Close()
	b.cancel(nil)
	return err
}
