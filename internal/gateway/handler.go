package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/warden-api/warden/internal/authn"
	"github.com/warden-api/warden/internal/clientip"
	"github.com/warden-api/warden/internal/event"
	"github.com/warden-api/warden/internal/listener"
	"github.com/warden-api/warden/internal/pathnorm"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/problem"
	"github.com/warden-api/warden/internal/proxy"
	"github.com/warden-api/warden/internal/router"
)

// verdict is a decision of the core (not of a stage), kept for the event.
type verdict struct {
	stage    string
	decision pipeline.Decision
	reason   string
}

// serve runs one request through the pipeline. listenerName and tls
// describe the client connection.
func (p *Pipeline) serve(w http.ResponseWriter, r *http.Request, listenerName string, tls bool) {
	start := time.Now()
	m := p.deps.Metrics
	m.InFlight.Inc()
	defer m.InFlight.Dec()

	x := &pipeline.Exchange{Start: start, Request: r, TLS: tls}
	x.PeerIP = peerAddr(r.RemoteAddr)
	info := p.clientIP.Resolve(x.PeerIP, r.Header)
	x.ClientIP = info.Client
	x.ID = info.RequestID
	if x.ID == "" {
		x.ID = clientip.NewRequestID()
	}
	proto := "http"
	if tls {
		proto = "https"
	}
	if info.Proto != "" {
		proto = info.Proto
	}

	rw := &responseWriter{ResponseWriter: w, requestID: x.ID, requestIDHeader: p.requestIDHeader, noSniff: p.noSniff && tls}
	if tls {
		rw.hsts = p.hsts
	}
	w.Header().Set(p.requestIDHeader, x.ID)

	var (
		core    verdict
		rt      *route
		match   router.Match
		bytesIn int64
	)
	defer func() {
		p.finish(x, rt, rw, core, listenerName, proto, bytesIn, start)
	}()

	if p.overload != nil {
		release, admitted := p.overload.Acquire(r.Context())
		if !admitted {
			core = verdict{"core", pipeline.Deny, "overloaded"}
			rw.Header().Set("Retry-After", "1")
			rw.writeProblem(problem.ServiceUnavailable)
			return
		}
		defer release()
	}

	var ok bool
	rt, match, core, ok = p.admit(rw, x)
	if !ok {
		return
	}

	// Request body limit: a declared length is checked now, a chunked body
	// while it streams.
	limit := int64(rt.cfg.MaxBodyBytes)
	if r.ContentLength > limit {
		core = verdict{"core", pipeline.Deny, "body_too_large"}
		rw.writeProblem(problem.PayloadTooLarge)
		return
	}
	var body *limitedBody
	if r.Body != nil && r.Body != http.NoBody {
		rw.bodyTooLarge = new(atomic.Bool)
		body = &limitedBody{body: r.Body, left: limit, exceeded: rw.bodyTooLarge}
		r.Body = body
	}

	if !p.runStages(rw, x, rt) {
		core.stage = ""
		return
	}

	releaseRoute, admitted := rt.inFlight.Acquire(r.Context())
	if !admitted {
		core = verdict{"core", pipeline.Deny, "route_overloaded"}
		rw.writeProblem(problem.ServiceUnavailable)
		return
	}
	defer releaseRoute()

	res := rt.upstream.Forward(rw, r, proxy.Forwarding{
		Path:                  p.router.ForwardPath(rt.index, match, r.URL.Path, r.URL.RawPath),
		RawQuery:              r.URL.RawQuery,
		ClientIP:              x.ClientIP,
		Proto:                 proto,
		Host:                  r.Host,
		RequestID:             x.ID,
		RequestIDHeader:       p.requestIDHeader,
		RemoveResponseHeaders: p.removeHeaders,
		Timeouts:              rt.timeouts,
		Retries:               rt.retries,
	})
	x.Upstream = res.Target
	if body != nil {
		bytesIn = body.read
	}
	if rw.replaced {
		core = verdict{"core", pipeline.Deny, "body_too_large"}
	} else if res.Kind != proxy.KindNone {
		core = verdict{"upstream", pipeline.Allow, "upstream_" + strings.ToLower(res.Kind.String())}
	}
	if res.Aborted {
		// The upstream failed after the response had started. Aborting the
		// connection lets the client see a truncated response rather than a
		// complete-looking one. The deferred event is still recorded.
		core = verdict{"upstream", pipeline.Allow, "upstream_aborted"}
		panic(http.ErrAbortHandler)
	}
}

// admit runs the checks every request passes before the route's stages:
// framing, path canonicalization and routing. It writes the error response
// itself when it rejects the request.
func (p *Pipeline) admit(rw *responseWriter, x *pipeline.Exchange) (*route, router.Match, verdict, bool) {
	r := x.Request
	if reason, ok := listener.Check(r); !ok {
		rw.Header().Set("Connection", "close")
		rw.writeProblem(problem.BadRequest)
		return nil, router.Match{}, verdict{"core", pipeline.Deny, reason}, false
	}

	raw, ok := requestPath(r)
	if !ok {
		rw.writeProblem(problem.BadRequest)
		return nil, router.Match{}, verdict{"normalize", pipeline.Deny, "unsupported_target"}, false
	}
	np, err := pathnorm.Normalize(raw, pathnorm.Options{MaxBytes: p.maxPathBytes})
	if err != nil && p.encodedSlashUsed && isEncodedSlash(err) {
		// Some route accepts encoded slashes: normalize leniently and let
		// the matched route decide below.
		np, err = pathnorm.Normalize(raw, pathnorm.Options{MaxBytes: p.maxPathBytes, AllowEncodedSlash: true})
	}
	if err != nil {
		reason, status := "invalid_path", http.StatusBadRequest
		if pe, ok := err.(*pathnorm.Error); ok {
			reason, status = pe.Reason, pe.Status
		}
		pd := problem.InvalidPath
		if status == http.StatusRequestURITooLong {
			pd = problem.URITooLong
		}
		pd.Detail = pathDetails[reason]
		// The event records the path as sent, because the decoded form of a
		// rejected path can look harmless.
		x.SetAttr("path.original", truncate(raw, 1024))
		rw.writeProblem(pd)
		return nil, router.Match{}, verdict{"normalize", pipeline.Deny, reason}, false
	}
	r.URL.Path = np.Decoded
	r.URL.RawPath = np.Escaped

	m := p.router.Match(hostOnly(r.Host), r.Method, np.Decoded)
	switch m.Status {
	case http.StatusNotFound:
		pd := problem.NotFound
		pd.Detail = "No route of this gateway matches the request's host and path."
		rw.writeProblem(pd)
		return nil, router.Match{}, verdict{"route", pipeline.Deny, "no_route"}, false
	case http.StatusMethodNotAllowed:
		rw.Header().Set("Allow", strings.Join(m.Allow, ", "))
		pd := problem.MethodNotAllowed
		pd.Detail = "Use one of the methods in the Allow header."
		rw.writeProblem(pd)
		return nil, router.Match{}, verdict{"route", pipeline.Deny, "method_not_allowed"}, false
	}
	rt := p.routes[m.Index]
	x.Route = rt.cfg.Name
	if rt.cfg.Auth == nil {
		// On routes with auth the authentication stage sets these; here
		// no client may claim an identity to the upstream either.
		r.Header.Del(authn.DefaultConsumerHeader)
		r.Header.Del(authn.DefaultScopesHeader)
	}
	x.Params = m.Params
	if np.HasEncodedSlash() && !rt.cfg.AllowEncodedSlash {
		rw.writeProblem(problem.InvalidPath)
		return nil, router.Match{}, verdict{"normalize", pipeline.Deny, "encoded_slash"}, false
	}
	return rt, m, verdict{}, true
}

// runStages runs the route's stages in order and reports whether the
// request may go on. It writes the error response for a denial.
func (p *Pipeline) runStages(rw *responseWriter, x *pipeline.Exchange, rt *route) bool {
	ctx := x.Request.Context()
	for _, s := range rt.stages {
		res := s.Check(ctx, x)
		x.Record(s.Name(), res)
		for k, vs := range res.Headers {
			rw.Header()[k] = vs
		}
		if res.Decision != pipeline.Deny {
			continue
		}
		status := res.Status
		if status == 0 {
			status = http.StatusForbidden
		}
		slug := res.Problem
		if slug == "" {
			slug = "forbidden"
		}
		title := res.Title
		if title == "" {
			title = http.StatusText(status)
		}
		pd := problem.New(slug, status, title)
		pd.Detail = res.Detail
		rw.writeProblem(pd)
		return false
	}
	return true
}

// finish records metrics, lets stages see the outcome, and publishes the
// security event.
func (p *Pipeline) finish(x *pipeline.Exchange, rt *route, rw *responseWriter, core verdict, listenerName, proto string, bytesIn int64, start time.Time) {
	status := rw.status
	if status == 0 {
		// The handler returned without a response: the client went away
		// or the proxy aborted. 499 is nginx's customary code for it.
		status = 499
	}
	d := time.Since(start)

	e := &event.Event{
		Timestamp:   start,
		ID:          x.ID,
		Dataset:     event.DatasetRequest,
		Duration:    d,
		Method:      x.Request.Method,
		HTTPVersion: strings.TrimPrefix(x.Request.Proto, "HTTP/"),
		Scheme:      proto,
		Host:        hostOnly(x.Request.Host),
		Path:        redactPath(x.Request.URL.Path),
		Status:      status,
		BytesIn:     bytesIn,
		BytesOut:    rw.bytesOut,
		UserAgent:   x.Request.UserAgent(),
		Listener:    listenerName,
		Route:       x.Route,
		Upstream:    x.Upstream,
		Attrs:       x.Attrs,
	}
	if x.ClientIP.IsValid() {
		e.SourceIP = x.ClientIP.String()
	}
	if x.Identity != nil && !x.Identity.Anonymous() {
		e.UserID = x.Identity.ConsumerID
		e.UserName = x.Identity.ConsumerName
	}

	decision := pipeline.Allow
	for _, o := range x.Outcomes {
		e.Stages = append(e.Stages, event.Stage{Name: o.Stage, Decision: o.Decision.String(), Reason: o.Reason})
		if o.Decision > decision {
			decision = o.Decision
			e.Stage, e.Reason = o.Stage, o.Reason
		}
	}
	if core.stage != "" && core.decision >= decision {
		decision = core.decision
		e.Stage, e.Reason = core.stage, core.reason
	}
	if core.stage == "upstream" {
		e.Stage, e.Reason = core.stage, core.reason
	}
	e.Decision = decision.String()
	e.Outcome = "success"
	if status >= 400 || decision == pipeline.Deny {
		e.Outcome = "failure"
	}

	if x.Route != "" && e.Decision == "deny" && e.Stage != "" {
		p.deps.Metrics.Rejected.WithLabelValues(x.Route, e.Stage, e.Reason).Inc()
	}
	p.deps.Metrics.ObserveRequest(x.Route, x.Request.Method, status, e.Decision, d)

	if rt != nil {
		for _, f := range rt.finishers {
			f.Finish(x, status, rw.bytesOut)
		}
	}
	if p.deps.Events != nil {
		p.deps.Events.Publish(e)
	}
}

// requestPath returns the raw path of the request target as the client
// sent it, before Go's decoding. Absolute-form targets ("GET http://h/p")
// yield their path; "*" and authority-form (CONNECT) are not supported.
func requestPath(r *http.Request) (string, bool) {
	uri := r.RequestURI
	if uri == "" || uri == "*" || r.Method == http.MethodConnect {
		return "", false
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if uri[0] != '/' {
		// Absolute form: scheme://authority/path.
		i := strings.Index(uri, "://")
		if i < 0 {
			return uri, true // Normalize rejects it as not absolute.
		}
		rest := uri[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return "/", true
		}
		uri = rest[j:]
	}
	return uri, true
}

func isEncodedSlash(err error) bool {
	pe, ok := err.(*pathnorm.Error)
	return ok && (pe.Reason == pathnorm.ReasonEncodedSlash || pe.Reason == pathnorm.ReasonEncodedBackslash)
}

func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

func peerAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// redactPath replaces path segments that look like Warden API keys, so a
// key pasted into a URL does not reach the event stream.
func redactPath(path string) string {
	if !strings.Contains(path, "wdn_") {
		return path
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "wdn_") {
			segs[i] = "[REDACTED]"
		}
	}
	return strings.Join(segs, "/")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
