package gateway

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/warden-api/warden/internal/problem"
)

// responseWriter records the status and body size of the response and adds
// the listener's security headers just before the header is sent, so that
// an upstream cannot remove them.
type responseWriter struct {
	http.ResponseWriter
	status   int
	bytesOut int64

	// hsts is the Strict-Transport-Security value, "" on plain listeners.
	hsts string
	// noSniff adds X-Content-Type-Options: nosniff.
	noSniff bool

	// bodyTooLarge is set by the request body reader when the client sent
	// more than the route allows. The response then becomes a 413, whatever
	// the upstream or the proxy would have sent.
	bodyTooLarge    *atomic.Bool
	requestID       string
	requestIDHeader string
	// replaced reports that the 413 was sent in place of the upstream's
	// response.
	replaced bool
}

func (w *responseWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		// Informational responses (100 Continue, 103 Early Hints) pass
		// through without ending the header phase.
		w.ResponseWriter.WriteHeader(status)
		return
	}
	if w.bodyTooLarge != nil && w.bodyTooLarge.Load() {
		w.replaced = true
		w.sendProblem(problem.PayloadTooLarge, true)
		return
	}
	w.status = status
	h := w.Header()
	if w.hsts != "" {
		h.Set("Strict-Transport-Security", w.hsts)
	}
	if w.noSniff {
		h.Set("X-Content-Type-Options", "nosniff")
	}
	w.ResponseWriter.WriteHeader(status)
}

// writeProblem sends a gateway problem unless a response has started.
// Headers already set, such as Allow or WWW-Authenticate, are kept.
func (w *responseWriter) writeProblem(p problem.Details) {
	if w.status == 0 {
		w.sendProblem(p, false)
	}
}

// sendProblem writes p. With replace it first drops the headers copied
// from the upstream, keeping the request id, and closes the connection.
func (w *responseWriter) sendProblem(p problem.Details, replace bool) {
	h := w.Header()
	if replace {
		id := h.Get(w.requestIDHeader)
		clear(h)
		h.Set("Connection", "close")
		if id != "" {
			h.Set(w.requestIDHeader, id)
		}
	}
	if w.hsts != "" {
		h.Set("Strict-Transport-Security", w.hsts)
	}
	w.status = p.Status
	// problem.Write calls WriteHeader on the underlying writer directly.
	w.bytesOut += int64(problem.Write(w.ResponseWriter, p, w.requestID))
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		// The 413 was sent, so what the upstream sends is discarded.
		return len(b), nil
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytesOut += int64(n)
	return n, err
}

// Flush keeps streaming responses (server-sent events) flowing.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack returns http.ErrNotSupported: the gateway does not pass
// connections through.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, http.ErrNotSupported
}

// limitedBody enforces a route's maximum request body size on bodies of
// unknown length (chunked), where the check cannot be made up front.
type limitedBody struct {
	body     io.ReadCloser
	left     int64
	exceeded *atomic.Bool
	read     int64
}

var errBodyTooLarge = &http.MaxBytesError{}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Read one more byte to tell "exactly at the limit" from "over".
		var one [1]byte
		n, err := b.body.Read(one[:])
		if n > 0 {
			b.exceeded.Store(true)
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	b.read += int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }
