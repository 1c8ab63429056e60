package proxy

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/warden-api/warden/internal/problem"
	"github.com/warden-api/warden/internal/proxy/http1"
)

// defaultRequestIDHeader is used when Forwarding names no header.
const defaultRequestIDHeader = "X-Request-Id"

// Forward sends r to a target and streams the response to w.
//
// When forwarding fails before any byte of the response was written,
// Forward writes a problem itself. It writes 502 for a refused or reset
// connection or a malformed response, 503 when no target is available or
// max_in_flight is reached, and 504 on a timeout. A request body over the
// gateway's http.MaxBytesReader limit gets 413, and a client that went
// away gets nothing. When the response had started, the Result has Aborted
// set and the caller must panic with http.ErrAbortHandler after recording
// it.
//
// A failed attempt is retried, on another target when one is available,
// under all of these conditions. The method is idempotent and the request
// has no body. No response byte was received. The route's attempts are
// not used up, the retry budget allows it, and the total timeout leaves
// time for the backoff.
func (u *Upstream) Forward(w http.ResponseWriter, r *http.Request, fw Forwarding) Result {
	start := u.now()
	n := u.inFlight.Add(1)
	defer u.inFlight.Add(-1)
	if limit := u.cfg.maxInFlight; limit > 0 && n > int64(limit) {
		return u.reject(w, r, &fw, KindOverloaded, errOverloaded)
	}

	tm := mergeTimeouts(u.cfg.timeouts, fw.Timeouts)
	policy := mergeRetries(u.cfg.retries, fw.Retries)
	// The total timeout travels as a deadline on the request rather than a
	// context, which would cost four allocations per request.
	ctx := r.Context()
	deadline := time.Now().Add(tm.total)

	if fw.RequestIDHeader == "" {
		fw.RequestIDHeader = defaultRequestIDHeader
	} else {
		fw.RequestIDHeader = http.CanonicalHeaderKey(fw.RequestIDHeader)
	}
	// A request with a body is not pooled: the http1 client's body writer
	// may still read its fields after the exchange ended.
	pooled := u.poolHeaders && !hasBody(r)
	out := u.newOutRequest(r, &fw, tm, deadline, pooled)
	if pooled {
		defer u.releaseOutRequest(out)
	}
	var body *bodyTracker
	if hasBody(r) {
		body = &bodyTracker{r: r.Body}
		out.Body = body
		out.ContentLength = r.ContentLength
		defer body.finish(w)
	}

	u.budget.addRequest(start)
	canRetry := policy.attempts > 0 && replayable(r)
	var res Result
	var triedBuf [4]*target
	tried := triedBuf[:0]
	for {
		t, trial := u.pick(u.now(), tried)
		if t == nil {
			if res.Attempts == 0 {
				return u.reject(w, r, &fw, KindUnavailable, errUnavailable)
			}
			break
		}
		res.Attempts++
		res.Target = t.name
		tried = append(tried, t)
		answered, retryable := u.attempt(ctx, w, r, out, t, trial, &fw, &res, body)
		if answered {
			return res
		}
		if !retryable || !canRetry || res.Attempts > policy.attempts {
			break
		}
		if !u.budget.tryRetry(u.now(), policy.budgetPercent) {
			u.log.DebugContext(ctx, "retry budget exhausted", "request_id", fw.RequestID)
			break
		}
		if !sleep(ctx, deadline, backoff(policy.backoff, res.Attempts)) {
			break
		}
		u.obs.Retry(u.name)
	}
	u.writeFailure(w, &fw, &res)
	return res
}

// attempt sends the request to t. It reports whether a response was
// written to the client, and otherwise whether the failure may be retried.
func (u *Upstream) attempt(ctx context.Context, w http.ResponseWriter, r *http.Request, out *outRequest,
	t *target, trial bool, fw *Forwarding, res *Result, body *bodyTracker) (answered, retryable bool) {
	begin := u.now()
	t.inFlight.Add(1)
	defer t.inFlight.Add(-1)
	out.Path = joinPath(t.prefix, fw.Path)
	out.Host = t.host

	resp, err := t.transport.roundTrip(ctx, out)
	if err == nil && resp.statusCode() < 200 {
		// Only a 101 gets here, since both transports skip other 1xx
		// responses, and no upgrade was requested.
		resp.body().Close()
		resp, err = nil, errUnexpectedUpgrade
	}
	if err != nil {
		kind := classify(err, out.Deadline, ctx)
		if bodyErr := body.readError(); bodyErr != nil {
			kind, err = KindClient, bodyErr
		}
		res.Kind, res.Err = kind, err
		u.settle(t, trial, kind, 0, begin)
		u.logFailure(ctx, t, fw, res, "upstream request failed")
		return false, retryableFailure(out.Deadline, kind, err)
	}

	res.Status = resp.statusCode()
	res.BytesOut, res.Kind, res.Err = u.respond(ctx, w, resp, fw, out.Header[fw.RequestIDHeader])
	if res.Err != nil {
		res.Aborted = true
		u.logFailure(ctx, t, fw, res, "upstream response aborted")
	}
	u.settle(t, trial, res.Kind, res.Status, begin)
	return true, false
}

// errUnexpectedUpgrade is the cause of a 101 response to a request that
// requested no upgrade.
var errUnexpectedUpgrade = errors.New("upstream switched protocols without an upgrade request")

// retryableFailure reports whether a failed attempt may be repeated: the
// failure left no response byte and the total timeout has time left.
func retryableFailure(deadline time.Time, kind ErrorKind, err error) bool {
	if !time.Now().Before(deadline) {
		return false
	}
	switch kind {
	case KindConnect, KindReset, KindTimeout:
	default:
		return false
	}
	var he *http1.Error
	if errors.As(err, &he) {
		return he.NoResponse
	}
	return true
}

// settle feeds the outcome of an attempt to the target's breaker and the
// observer.
func (u *Upstream) settle(t *target, trial bool, kind ErrorKind, status int, begin time.Time) {
	now := u.now()
	o := outcomeSuccess
	switch {
	case kind == KindClient:
		o = outcomeNeutral
	case kind != KindNone || status >= 500:
		o = outcomeFailure
	}
	if t.breaker.record(o, trial, now) {
		u.reportHealth(t, "passive")
	}
	u.obs.UpstreamRequest(u.name, t.name, status, kind, now.Sub(begin))
}

// reportHealth notifies the observer and logs a line when t went out of
// use or came back.
func (u *Upstream) reportHealth(t *target, reason string) {
	t.reportMu.Lock()
	defer t.reportMu.Unlock()
	healthy := t.healthy()
	if healthy == t.reported {
		return
	}
	t.reported = healthy
	u.obs.TargetHealth(u.name, t.name, healthy)
	if healthy {
		u.log.Info("target back in use", "target", t.name, "check", reason)
	} else {
		u.log.Warn("target taken out of use", "target", t.name, "check", reason)
	}
}

func (u *Upstream) logFailure(ctx context.Context, t *target, fw *Forwarding, res *Result, msg string) {
	attrs := []any{"request_id", fw.RequestID, "target", t.name, "kind", res.Kind.String(),
		"attempt", res.Attempts, "error", res.Err}
	if res.Kind == KindClient {
		u.log.DebugContext(ctx, msg, attrs...)
		return
	}
	u.warn.log(ctx, u.log, warnKey{target: t.name, kind: res.Kind}, msg, attrs...)
}

// reject writes the problem for a request that no target was tried for.
func (u *Upstream) reject(w http.ResponseWriter, r *http.Request, fw *Forwarding, kind ErrorKind, err error) Result {
	res := Result{Kind: kind, Err: err}
	u.obs.UpstreamRequest(u.name, "", 0, kind, 0)
	u.warn.log(r.Context(), u.log, warnKey{kind: kind}, "upstream request rejected",
		"request_id", fw.RequestID, "kind", kind.String(), "error", err)
	u.writeFailure(w, fw, &res)
	return res
}

// writeFailure writes the problem for a failure before the response
// started, and sets the Result status.
func (u *Upstream) writeFailure(w http.ResponseWriter, fw *Forwarding, res *Result) {
	p, ok := problemFor(res.Kind, res.Err)
	if !ok {
		res.Status = StatusClientClosed
		return
	}
	res.Status = p.Status
	if fw.RequestID != "" && fw.RequestIDHeader != "" {
		w.Header()[fw.RequestIDHeader] = []string{fw.RequestID}
	}
	res.BytesOut = int64(problem.Write(w, p, fw.RequestID))
}

// newOutRequest builds the request to send, without the target-specific
// path and host.
func (u *Upstream) newOutRequest(r *http.Request, fw *Forwarding, tm timeouts, deadline time.Time, pooled bool) *outRequest {
	var out *outRequest
	if pooled {
		out = u.outPool.Get().(*outRequest)
	} else {
		out = &outRequest{Header: make(http.Header, len(r.Header)+6)}
	}
	buildRequestHeader(out.Header, r.Header, fw, fw.RequestIDHeader)
	*out = outRequest{
		Method:                r.Method,
		RawQuery:              fw.RawQuery,
		Header:                out.Header,
		Trailer:               r.Trailer,
		Deadline:              deadline,
		ConnectTimeout:        tm.connect,
		ResponseHeaderTimeout: tm.responseHeader,
	}
	return out
}

// releaseOutRequest returns a pooled request and its header map.
func (u *Upstream) releaseOutRequest(out *outRequest) {
	h := out.Header
	clear(h)
	*out = outRequest{Header: h}
	u.outPool.Put(out)
}

// joinPath prepends a target's path prefix to the forwarded path.
func joinPath(prefix, path string) string {
	if path == "" {
		path = "/"
	}
	if prefix == "" {
		return path
	}
	return prefix + path
}
