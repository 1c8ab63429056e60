package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/warden-api/warden/internal/problem"
	"github.com/warden-api/warden/internal/proxy/http1"
)

// ErrorKind classifies why forwarding failed, for metrics, events and the
// status of the problem that Forward writes.
type ErrorKind uint8

const (
	// KindNone means the upstream responded and the response reached the
	// client, whatever its status.
	KindNone ErrorKind = iota
	// KindConnect means no connection could be opened: refused,
	// unreachable, or a failed TLS handshake. Forward writes 502.
	KindConnect
	// KindTimeout means the connect, response header or total timeout
	// expired. Forward writes 504.
	KindTimeout
	// KindReset means the upstream closed or reset the connection before
	// the response was complete. Forward writes 502.
	KindReset
	// KindProtocol means the upstream sent a malformed response, such as
	// one with both Content-Length and Transfer-Encoding. Forward writes
	// 502.
	KindProtocol
	// KindUnavailable means no target could take the request: every target
	// is ejected, failing its active health check or in a half-open trial.
	// Forward writes 503.
	KindUnavailable
	// KindOverloaded means the upstream's max_in_flight was reached.
	// Forward writes 503.
	KindOverloaded
	// KindClient means the client went away, or reading its request body
	// failed. Not counted against the target. For a request body larger
	// than the gateway's limit Forward writes 413; otherwise it writes
	// nothing and the Result has status 499.
	KindClient
)

// StatusClientClosed is the Result status of a request whose client went
// away before the response was written. Nothing is sent. The number
// follows nginx's convention.
const StatusClientClosed = 499

// String returns the kind's name for metric labels and events: "none",
// "connect", "timeout", "reset", "protocol", "unavailable", "overloaded"
// or "client".
func (k ErrorKind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindConnect:
		return "connect"
	case KindTimeout:
		return "timeout"
	case KindReset:
		return "reset"
	case KindProtocol:
		return "protocol"
	case KindUnavailable:
		return "unavailable"
	case KindOverloaded:
		return "overloaded"
	case KindClient:
		return "client"
	}
	return "unknown"
}

// Result describes one forwarded request for the gateway's event and
// metrics.
type Result struct {
	// Target is the last target tried, as written in the config, or ""
	// when no target was tried.
	Target string
	// Status is the status sent to the client: the upstream's, the status
	// of the problem Forward wrote, or StatusClientClosed.
	Status int
	// BytesOut is the number of response body bytes written to the
	// client, a problem document included.
	BytesOut int64
	// Err is the cause of a failure, with internal detail; never send it
	// to the client. Nil when Kind is KindNone.
	Err error
	// Kind classifies Err.
	Kind ErrorKind
	// Attempts is the number of targets tried, retries included.
	Attempts int
	// Aborted reports that the response had started when the failure
	// happened, so the client received a truncated response. The caller must
	// record the Result and then panic with http.ErrAbortHandler: a normal
	// return would end a chunked or HTTP/2 response as if it were complete.
	Aborted bool
}

// errUnavailable, errOverloaded and errHeaderTimeout are the causes of
// failures that the proxy detects itself.
var (
	errUnavailable   = errors.New("no upstream target available: all are ejected or unhealthy")
	errOverloaded    = errors.New("upstream max_in_flight reached")
	errHeaderTimeout = errors.New("timed out waiting for the upstream response header")
)

// classify returns the kind of an upstream exchange error. deadline is
// the request's total deadline and client the client's request context.
func classify(err error, deadline time.Time, client context.Context) ErrorKind {
	if client.Err() != nil {
		return KindClient
	}
	if errors.Is(err, errHeaderTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		!time.Now().Before(deadline) {
		return KindTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}

	var de *dialError
	if errors.As(err, &de) {
		return KindConnect
	}
	var he *http1.Error
	if errors.As(err, &he) && he.Op == http1.OpDial {
		return KindConnect
	}
	if errors.Is(err, http1.ErrMalformed) {
		return KindProtocol
	}
	if isTLSFailure(err) {
		return KindConnect
	}

	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) {
		return KindReset
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return KindReset
	}
	return KindProtocol
}

// isTLSFailure reports whether err comes from a TLS handshake or
// certificate check.
func isTLSFailure(err error) bool {
	var (
		rec   tls.RecordHeaderError
		alert tls.AlertError
		ver   *tls.CertificateVerificationError
		unk   x509.UnknownAuthorityError
		host  x509.HostnameError
	)
	return errors.As(err, &rec) || errors.As(err, &alert) || errors.As(err, &ver) ||
		errors.As(err, &unk) || errors.As(err, &host)
}

// problemFor returns the problem for a failure before the response
// started, or false when nothing must be written.
func problemFor(kind ErrorKind, err error) (problem.Details, bool) {
	switch kind {
	case KindTimeout:
		return problem.GatewayTimeout, true
	case KindUnavailable, KindOverloaded:
		return problem.ServiceUnavailable, true
	case KindClient:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem.PayloadTooLarge, true
		}
		return problem.Details{}, false
	default:
		return problem.BadGateway, true
	}
}
