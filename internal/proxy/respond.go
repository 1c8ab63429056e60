package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/warden-api/warden/internal/proxy/http1"
)

// copyBufferPool holds buffers for copying response bodies.
var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// respond writes the target's response to the client. It returns the body
// bytes written and, when the copy failed after the header was sent, the
// kind and cause of the failure.
func (u *Upstream) respond(ctx context.Context, w http.ResponseWriter, resp response, fw *Forwarding, idValue []string) (int64, ErrorKind, error) {
	h := w.Header()
	copyResponseHeader(h, resp.header(), fw.RemoveResponseHeaders)
	if names := resp.trailerNames(); len(names) > 0 {
		h["Trailer"] = names
	}
	if id := idValue; id != nil {
		h[fw.RequestIDHeader] = id
	}
	flushAlways := isEventStream(resp.header()) ||
		(resp.buffered() < 0 && resp.header().Get("Content-Length") == "")
	w.WriteHeader(resp.statusCode())

	body := resp.body()
	n, readErr, writeErr := copyBody(w, body, resp, flushAlways)
	if readErr == nil && writeErr == nil {
		copyTrailers(h, resp.trailers())
	}
	body.Close()
	switch {
	case writeErr != nil:
		return n, KindClient, writeErr
	case readErr != nil && ctx.Err() != nil:
		// The client went away and the transport cut the upstream read.
		return n, KindClient, readErr
	case readErr != nil:
		return n, classifyBodyError(readErr), readErr
	}
	return n, KindNone, nil
}

// classifyBodyError returns the kind of a failure to read a response body.
func classifyBodyError(err error) ErrorKind {
	var ne interface{ Timeout() bool }
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, errHeaderTimeout):
		return KindTimeout
	case errors.Is(err, http1.ErrMalformed):
		return KindProtocol
	}
	return KindReset
}

// isEventStream reports a text/event-stream response, which must reach
// the client event by event.
func isEventStream(h http.Header) bool {
	ct := h["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	const sse = "text/event-stream"
	v := strings.TrimLeft(ct[0], " \t")
	if len(v) < len(sse) || !strings.EqualFold(v[:len(sse)], sse) {
		return false
	}
	rest := strings.TrimLeft(v[len(sse):], " \t")
	return rest == "" || rest[0] == ';'
}

// copyBody streams body to w. It flushes w after a write when flushAlways
// is set, or when the target has sent nothing more yet, so that a slow or
// streamed response is not held back while a fast one goes out in large
// writes. It reports read and write errors apart: the first blame the
// target, the second the client.
func copyBody(w http.ResponseWriter, body io.Reader, resp response, flushAlways bool) (n int64, readErr, writeErr error) {
	bufp := copyBufferPool.Get().(*[]byte)
	defer copyBufferPool.Put(bufp)
	buf := *bufp
	var rc *http.ResponseController
	for {
		nr, rerr := body.Read(buf)
		if nr > 0 {
			nw, werr := w.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, nil, werr
			}
			if rerr == nil && (flushAlways || resp.buffered() == 0) {
				if rc == nil {
					rc = http.NewResponseController(w)
				}
				if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
					return n, nil, err
				}
			}
		}
		if rerr == io.EOF {
			return n, nil, nil
		}
		if rerr != nil {
			return n, rerr, nil
		}
	}
}

// errBodyFinished is returned by a bodyTracker read after the exchange
// ended.
var errBodyFinished = errors.New("request body read after the upstream exchange ended")

// bodyTracker wraps the client's request body. It records whether the
// body was read to the end and the first read error, so that a failure
// caused by the client is not blamed on the target, and it stops reads
// once Forward returns.
type bodyTracker struct {
	r io.Reader

	// reading is held during a read of r.
	reading sync.Mutex

	mu       sync.Mutex
	err      error
	eof      bool
	finished bool
}

func (b *bodyTracker) Read(p []byte) (int, error) {
	b.reading.Lock()
	defer b.reading.Unlock()
	b.mu.Lock()
	finished := b.finished
	b.mu.Unlock()
	if finished {
		return 0, errBodyFinished
	}
	n, err := b.r.Read(p)
	if err != nil {
		b.mu.Lock()
		if err == io.EOF {
			b.eof = true
		} else if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

// readError returns the first error from reading the client's body. A nil
// tracker has none.
func (b *bodyTracker) readError() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// finish stops further reads and waits for one in progress, which a
// transport may still run after the exchange ended. A read blocked on a
// slow client is cut short by a read deadline in the past.
func (b *bodyTracker) finish(w http.ResponseWriter) {
	b.mu.Lock()
	b.finished = true
	eof := b.eof
	b.mu.Unlock()
	if b.reading.TryLock() {
		b.reading.Unlock()
		return
	}
	if !eof {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	b.reading.Lock()
	b.reading.Unlock()
}
