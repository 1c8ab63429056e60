package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// StageName is the name the rate limit stage records in events.
const StageName = "ratelimit"

// Reason codes and problem slugs of the stage's denials.
const (
	ReasonRateLimited   = "rate_limited"
	ReasonQuotaExceeded = "quota_exceeded"
	ReasonUnavailable   = "ratelimit_unavailable"
)

// Stage applies a route's limits and quotas, and those of the consumer's
// plan, to each request. It implements pipeline.Stage and
// pipeline.Finisher; Finish counts response bytes against quotas.
//
// Fail mode: when the Redis backend cannot be reached, the configured fail
// mode decides ("open": the node's memory limiter, "closed": 503). Quota
// store errors fail open, because usage counts on in memory and is written
// once the store is back.
type Stage struct {
	l       *Limiter
	route   string
	limits  []limitSpec
	quotas  []quotaSpec
	usePlan bool

	unknownPlan *throttledLog
	badOverride *throttledLog
	backendErr  *throttledLog
	scratch     sync.Pool
	// reportBad is reportBadOverride bound once, not on every request.
	reportBad func(key, value string)
}

// NewStage validates cfg, the rate_limit block of the route named route at
// config path path (such as "routes[2].rate_limit"), and returns the
// route's stage. A nil cfg applies only the consumer's plan. Plan limits
// apply when cfg.Plan is unset or true and the request's identity has a
// plan, which only happens on routes with authentication.
func NewStage(l *Limiter, route string, cfg *config.RouteRateLimit, path string) (pipeline.Stage, error) {
	if cfg == nil {
		cfg = &config.RouteRateLimit{}
	}
	var errs config.Errors
	s := &Stage{
		l:           l,
		route:       route,
		limits:      compileLimits(cfg.Limits, "r:"+route, path+".limits", &errs),
		quotas:      compileQuotas(cfg.Quotas, route, path+".quotas", &errs),
		usePlan:     cfg.Plan == nil || *cfg.Plan,
		unknownPlan: newThrottledLog(l.logger, time.Minute),
		badOverride: newThrottledLog(l.logger, time.Minute),
		backendErr:  newThrottledLog(l.logger, 10*time.Second),
	}
	if route == "" {
		errs.Add(path, "route name is required for its rate limit keys")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	l.registerRouteQuotas(route, s.quotas)
	s.scratch.New = func() any { return new(request) }
	s.reportBad = s.reportBadOverride
	return s, nil
}

// Name implements pipeline.Stage.
func (s *Stage) Name() string { return StageName }

// request is the per-request working set, pooled to keep allocations low.
type request struct {
	specs    []*limitSpec
	windows  []Window
	verdicts []Verdict
	quotas   []quotaRef
	keyBuf   []byte
	kinds    []keyPart
	// Buffers of the two RateLimit header fields.
	policyBuf, limitBuf []byte
}

func (r *request) reset() {
	r.specs, r.windows, r.verdicts = r.specs[:0], r.windows[:0], r.verdicts[:0]
	r.quotas, r.kinds = r.quotas[:0], r.kinds[:0]
}

// plan returns the identity's compiled plan when plan limits apply.
func (s *Stage) plan(id *pipeline.Identity) *plan {
	if !s.usePlan || id.Anonymous() || id.Plan == "" {
		return nil
	}
	p := s.l.plans[id.Plan]
	if p == nil {
		s.unknownPlan.warn("consumer refers to a plan that is not configured, applying no plan limits",
			"consumer_id", id.ConsumerID, "plan", id.Plan)
	}
	return p
}

func (s *Stage) reportBadOverride(key, value string) {
	s.badOverride.warn("ignoring invalid rate limit override in consumer metadata", "key", key, "value", value)
}

// collect fills r with the quotas that apply to x and, when withLimits is
// set, with its windows.
func (s *Stage) collect(r *request, x *pipeline.Exchange, now time.Time, withLimits bool) {
	id := x.Identity
	var meta map[string]string
	if !id.Anonymous() {
		meta = id.Metadata
	}
	p := s.plan(id)
	addLimits := func(specs []limitSpec) {
		for i := range specs {
			spec := &specs[i]
			rule, limited := overrideRule(spec, meta, s.reportBad)
			if !limited {
				continue
			}
			var kind keyPart
			r.keyBuf, kind = windowKey(r.keyBuf, spec, s.route, x, s.l.ipv6Prefix)
			r.specs = append(r.specs, spec)
			r.kinds = append(r.kinds, kind)
			r.windows = append(r.windows, Window{Key: string(r.keyBuf), Rule: rule})
		}
	}
	if withLimits {
		addLimits(s.limits)
		if p != nil {
			addLimits(p.limits)
		}
	}
	if id.Anonymous() {
		return
	}
	addQuotas := func(specs []quotaSpec) {
		for i := range specs {
			q := &specs[i]
			requests, bytes := overrideQuota(q, meta, s.reportBad)
			if requests == 0 && bytes == 0 {
				continue
			}
			start, end := periodBounds(now, q.period, s.l.loc)
			r.quotas = append(r.quotas, quotaRef{spec: q, requests: requests, bytes: bytes, start: start, end: end})
		}
	}
	addQuotas(s.quotas)
	if p != nil {
		addQuotas(p.quotas)
	}
}

// Check implements pipeline.Stage.
func (s *Stage) Check(ctx context.Context, x *pipeline.Exchange) pipeline.Result {
	r := s.scratch.Get().(*request)
	defer func() { r.reset(); s.scratch.Put(r) }()
	now := s.l.now()
	s.collect(r, x, now, true)
	if len(r.windows) == 0 && len(r.quotas) == 0 {
		return pipeline.Allowed
	}

	if len(r.quotas) > 0 {
		consumer := x.Identity.ConsumerID
		if i, err := s.l.quotas.reserve(ctx, consumer, r.quotas); err != nil {
			return s.quotaExceeded(x, r, i, now)
		}
	}
	r.verdicts = append(r.verdicts, make([]Verdict, len(r.windows))...)
	if len(r.windows) == 0 {
		return s.decide(x, r, now)
	}
	if err := s.l.allow(ctx, r.windows, r.verdicts); err != nil {
		if len(r.quotas) > 0 {
			s.l.quotas.release(x.Identity.ConsumerID, r.quotas)
		}
		return s.unavailable(err)
	}
	return s.decide(x, r, now)
}

// decide turns the verdicts into the stage's result.
func (s *Stage) decide(x *pipeline.Exchange, r *request, now time.Time) pipeline.Result {
	// The decisive window is the denying one with the longest wait, or,
	// when all allow, the one with the fewest requests left.
	decisive, allowed := 0, true
	if len(r.verdicts) > 0 {
		allowed = r.verdicts[0].Allowed
	}
	for i, v := range r.verdicts[min(1, len(r.verdicts)):] {
		d := r.verdicts[decisive]
		switch {
		case !v.Allowed && (allowed || v.RetryAfter > d.RetryAfter):
			decisive, allowed = i+1, false
		case allowed && v.Remaining < d.Remaining:
			decisive = i + 1
		}
	}
	if len(r.windows) > 0 {
		x.SetAttr("ratelimit.limit", r.specs[decisive].name)
		x.SetAttr("ratelimit.remaining", r.verdicts[decisive].Remaining)
		x.SetAttr("ratelimit.key_kind", kindName(r.kinds[decisive]))
	}
	h := s.headers(r, now)
	if allowed {
		return pipeline.Result{Decision: pipeline.Allow, Headers: h}
	}
	if len(r.quotas) > 0 {
		s.l.quotas.release(x.Identity.ConsumerID, r.quotas)
	}
	h = setRetryAfter(h, r.verdicts[decisive].RetryAfter)
	return pipeline.Result{
		Decision: pipeline.Deny,
		Reason:   ReasonRateLimited,
		Status:   http.StatusTooManyRequests,
		Problem:  "rate-limited",
		Title:    "Too many requests",
		Detail:   "Wait for the number of seconds in the Retry-After header before sending the request again.",
		Headers:  h,
	}
}

// headers returns the RateLimit fields, or nil when they are turned off.
func (s *Stage) headers(r *request, now time.Time) http.Header {
	if !s.l.headers {
		return nil
	}
	b := headerBuilder{policy: r.policyBuf[:0], limit: r.limitBuf[:0]}
	defer func() { r.policyBuf, r.limitBuf = b.policy, b.limit }()
	for i, w := range r.windows {
		b.limitItem(r.specs[i].name, w.Rule, r.verdicts[i])
	}
	for i := range r.quotas {
		b.quotaItems(&r.quotas[i], now)
	}
	return b.header()
}

// setRetryAfter sets Retry-After to d in whole seconds, at least one.
func setRetryAfter(h http.Header, d time.Duration) http.Header {
	if h == nil {
		h = make(http.Header, 1)
	}
	h[canonicalRetryAfter] = []string{strconv.FormatInt(max(ceilSeconds(d), 1), 10)}
	return h
}

func (s *Stage) quotaExceeded(x *pipeline.Exchange, r *request, i int, now time.Time) pipeline.Result {
	ref := &r.quotas[i]
	x.SetAttr("ratelimit.limit", ref.spec.name)
	x.SetAttr("ratelimit.remaining", int64(0))
	x.SetAttr("ratelimit.key_kind", "consumer")
	var h http.Header
	if s.l.headers {
		var b headerBuilder
		b.quotaItems(ref, now)
		h = b.header()
	}
	return pipeline.Result{
		Decision: pipeline.Deny,
		Reason:   ReasonQuotaExceeded,
		Status:   http.StatusTooManyRequests,
		Problem:  "quota-exceeded",
		Title:    "Quota exceeded",
		Detail:   "The quota for this period is used up; it resets at the time in the Retry-After header.",
		Headers:  setRetryAfter(h, ref.end.Sub(now)),
	}
}

func (s *Stage) unavailable(err error) pipeline.Result {
	if !errors.Is(err, ErrUnavailable) {
		s.backendErr.warn("rate limit check failed, denying the request", "route", s.route, "error", err)
	}
	return pipeline.Result{
		Decision: pipeline.Deny,
		Reason:   ReasonUnavailable,
		Status:   http.StatusServiceUnavailable,
		Problem:  "service-unavailable",
		Title:    "Service unavailable",
		Headers:  setRetryAfter(nil, time.Second),
	}
}

// Finish implements pipeline.Finisher: it counts the response bytes of a
// request that this stage let through against the consumer's quotas. A
// request that any stage denied is not counted, because its response was
// the gateway's problem document, not the API's.
func (s *Stage) Finish(x *pipeline.Exchange, _ int, bytesOut int64) {
	if bytesOut <= 0 || x.Identity.Anonymous() || !passedHere(x) {
		return
	}
	p := s.plan(x.Identity)
	if len(s.quotas) == 0 && (p == nil || len(p.quotas) == 0) {
		return
	}
	r := s.scratch.Get().(*request)
	defer func() { r.reset(); s.scratch.Put(r) }()
	s.collect(r, x, s.l.now(), false)
	if len(r.quotas) > 0 {
		s.l.quotas.addBytes(x.Identity.ConsumerID, r.quotas, bytesOut)
	}
}

// passedHere reports whether this stage allowed the request and no stage
// denied it.
func passedHere(x *pipeline.Exchange) bool {
	ran := false
	for _, o := range x.Outcomes {
		if o.Decision == pipeline.Deny {
			return false
		}
		ran = ran || o.Stage == StageName
	}
	return ran
}
