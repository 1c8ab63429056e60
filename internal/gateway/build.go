// Package gateway wires the request path together: it compiles a config
// into an immutable Pipeline of per-route stages, serves client listeners
// with it, swaps it atomically on reload, and serves the admin listener.
package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/warden-api/warden/internal/clientip"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/event"
	"github.com/warden-api/warden/internal/metrics"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/proxy"
	"github.com/warden-api/warden/internal/ratelimit"
	"github.com/warden-api/warden/internal/router"
)

// StageOrder is the order of the per-route stages, cheapest first. Routing,
// path canonicalization and client address resolution run before them for
// every request; the upstream call runs after them.
var StageOrder = []string{"bruteforce", "authn", "authz", "ratelimit"}

// Deps are the long-lived components a Pipeline uses. They outlive reloads.
type Deps struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Events  *event.Bus
	// Stages builds the per-route stages other than the core ones; nil
	// means routes get no stages.
	Stages StageBuilder
}

// StageBuilder compiles the stages of one route, in StageOrder. It returns
// config.Errors with field paths for invalid settings.
type StageBuilder interface {
	RouteStages(route config.Route, path string) ([]pipeline.Stage, error)
	// Start and Stop bound background work (key refresh, flushing) of the
	// components behind the stages of one pipeline.
	Start(ctx context.Context) error
	Stop()
}

// Pipeline is a compiled config. It is immutable once built; a reload
// builds a new one.
type Pipeline struct {
	cfg       *config.Config
	router    *router.Router
	routes    []*route
	upstreams map[string]*proxy.Upstream
	clientIP  *clientip.Resolver
	deps      Deps
	stages    StageBuilder

	requestIDHeader  string
	removeHeaders    []string
	hsts             string
	noSniff          bool
	maxPathBytes     int
	encodedSlashUsed bool
	// overload caps concurrent requests on the whole gateway; nil means
	// no limit.
	overload *ratelimit.Concurrency
}

type route struct {
	cfg       config.Route
	index     int
	stages    []pipeline.Stage
	finishers []pipeline.Finisher
	upstream  *proxy.Upstream
	// inFlight bounds the route's concurrent requests; nil means no limit.
	inFlight *ratelimit.Concurrency
	timeouts config.UpstreamTimeouts
	retries  config.Retries
}

// Build compiles cfg. Every problem found is returned at once as
// config.Errors located in the config file.
func Build(cfg *config.Config, deps Deps) (*Pipeline, error) {
	var errs config.Errors
	p := &Pipeline{
		cfg:             cfg,
		upstreams:       map[string]*proxy.Upstream{},
		deps:            deps,
		stages:          deps.Stages,
		requestIDHeader: cfg.Gateway.RequestIDHeader,
		removeHeaders:   *cfg.Gateway.RemoveResponseHeaders,
		maxPathBytes:    int(cfg.Gateway.MaxPathBytes),
	}
	sh := cfg.Gateway.SecurityHeaders
	if *sh.HSTS {
		p.hsts = fmt.Sprintf("max-age=%d", int64(sh.HSTSMaxAge.D()/time.Second))
		if sh.HSTSIncludeSubdomains {
			p.hsts += "; includeSubDomains"
		}
	}
	p.noSniff = *sh.NoSniff

	resolver, err := clientip.New(cfg.Gateway.TrustedProxies,
		clientip.FromHeader(clientip.Source(cfg.Gateway.ForwardedHeader)),
		clientip.RequestIDHeader(cfg.Gateway.RequestIDHeader))
	errs.Merge("gateway.trusted_proxies", err)
	p.clientIP = resolver

	p.overload, err = ratelimit.NewOverload(cfg.RateLimit.Overload, "rate_limit.overload")
	errs.Merge("rate_limit.overload", err)

	rt, err := router.New(cfg.Routes)
	errs.Merge("routes", err)
	p.router = rt

	for i, u := range cfg.Upstreams {
		path := fmt.Sprintf("upstreams[%d]", i)
		up, err := proxy.NewUpstream(u, proxy.Options{
			Logger:   deps.Logger,
			Observer: upstreamObserver{deps.Metrics},
			Path:     path,
		})
		if err != nil {
			errs.Merge(path, err)
			continue
		}
		p.upstreams[u.Name] = up
	}

	for i, rc := range cfg.Routes {
		path := fmt.Sprintf("routes[%d]", i)
		r := &route{cfg: rc, index: i, upstream: p.upstreams[rc.Upstream]}
		if rc.AllowEncodedSlash {
			p.encodedSlashUsed = true
		}
		r.timeouts, r.retries = routeUpstreamSettings(cfg, rc)
		// No queue: a full route answers 503 at once, because waiting
		// behind a slow upstream only makes latency grow.
		r.inFlight = ratelimit.NewConcurrency(rc.MaxInFlight, 0, 0)
		if deps.Stages != nil {
			stages, err := deps.Stages.RouteStages(rc, path)
			errs.Merge(path, err)
			r.stages = stages
			for _, s := range stages {
				if f, ok := s.(pipeline.Finisher); ok {
					r.finishers = append(r.finishers, f)
				}
			}
		}
		p.routes = append(p.routes, r)
	}

	if err := errs.Err(); err != nil {
		return nil, cfg.Locate(err)
	}
	return p, nil
}

// routeUpstreamSettings merges a route's timeout and retry overrides over
// its upstream's settings.
func routeUpstreamSettings(cfg *config.Config, rc config.Route) (config.UpstreamTimeouts, config.Retries) {
	var t config.UpstreamTimeouts
	var r config.Retries
	for _, u := range cfg.Upstreams {
		if u.Name == rc.Upstream {
			t, r = u.Timeouts, u.Retries
		}
	}
	if o := rc.Timeouts; o != nil {
		if o.Connect > 0 {
			t.Connect = o.Connect
		}
		if o.ResponseHeader > 0 {
			t.ResponseHeader = o.ResponseHeader
		}
		if o.Total > 0 {
			t.Total = o.Total
		}
	}
	if o := rc.Retries; o != nil {
		if o.Attempts != nil {
			r.Attempts = o.Attempts
		}
		if o.Backoff > 0 {
			r.Backoff = o.Backoff
		}
		if o.BudgetPercent != nil {
			r.BudgetPercent = o.BudgetPercent
		}
	}
	return t, r
}

// Start begins the background work of the pipeline: active health checks
// and the stage components.
func (p *Pipeline) Start(ctx context.Context) error {
	for _, u := range p.upstreams {
		u.Start(ctx)
	}
	if p.stages != nil {
		if err := p.stages.Start(ctx); err != nil {
			p.Stop()
			return err
		}
	}
	return nil
}

// Stop ends the background work. Requests still running on the pipeline
// finish normally.
func (p *Pipeline) Stop() {
	for _, u := range p.upstreams {
		u.Stop()
	}
	if p.stages != nil {
		p.stages.Stop()
	}
}

// Config returns the config the pipeline was built from.
func (p *Pipeline) Config() *config.Config { return p.cfg }

// upstreamObserver maps proxy observations to Prometheus.
type upstreamObserver struct{ m *metrics.Metrics }

func (o upstreamObserver) UpstreamRequest(upstream, target string, status int, kind proxy.ErrorKind, d time.Duration) {
	if o.m == nil {
		return
	}
	if kind != proxy.KindNone {
		o.m.UpstreamErrors.WithLabelValues(upstream, strings.ToLower(kind.String())).Inc()
		return
	}
	o.m.UpstreamRequests.WithLabelValues(upstream, metrics.StatusClass(status)).Inc()
}

func (o upstreamObserver) TargetHealth(upstream, target string, healthy bool) {
	if o.m == nil {
		return
	}
	v := 0.0
	if healthy {
		v = 1
	}
	o.m.UpstreamHealthy.WithLabelValues(upstream, target).Set(v)
}

func (o upstreamObserver) Retry(upstream string) {
	if o.m != nil {
		o.m.UpstreamRetries.WithLabelValues(upstream).Inc()
	}
}
