// Package proxy forwards requests to the targets of an upstream and
// streams the responses back. It covers target selection (round robin or
// least requests), a per-target circuit breaker fed by real traffic and
// active health probes. It applies connect, response header and total
// timeouts, retries idempotent requests under a retry budget, rewrites
// headers as a reverse proxy must, and speaks TLS to https targets with
// an optional client certificate.
//
// Requests to plain-http targets go through package http1, an
// allocation-light HTTP/1.1 client, because net/http's Transport is where
// a Go proxy loses most of its throughput. Requests to https targets use
// net/http's Transport, which also speaks HTTP/2 when the target offers
// it. Both sit behind the internal transport interface.
//
// NOTE: Upgrade requests (WebSocket) are not supported yet. The Upgrade
// and Connection fields are hop-by-hop and removed, so the target receives
// a plain request, and a 101 response is treated as a malformed response.
package proxy

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/proxy/http1"
)

// Observer receives the upstream metrics. Methods are called on the
// request path and must not block. A nil Observer in Options discards
// them.
type Observer interface {
	// UpstreamRequest reports one attempt against a target, or a request
	// rejected before any target was tried (target "", kind
	// KindUnavailable or KindOverloaded). status is the upstream's
	// status, 0 when none arrived.
	UpstreamRequest(upstream, target string, status int, kind ErrorKind, d time.Duration)
	// TargetHealth reports a target going out of use (ejected by the
	// circuit breaker or failing active probes) or back into use.
	TargetHealth(upstream, target string, healthy bool)
	// Retry reports one retry of a request.
	Retry(upstream string)
}

// Options are the dependencies of an Upstream.
type Options struct {
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
	// Observer receives metrics; nil discards them.
	Observer Observer
	// Path is the config path of the upstream, such as "upstreams[0]",
	// that prefixes the field paths in config errors.
	Path string
	// Now returns the current time for the circuit breaker and the retry
	// budget. Nil means time.Now.
	Now func() time.Time
	// UseNetHTTP sends requests to plain-http targets through net/http's
	// Transport instead of the http1 client. It is slower; use it to rule
	// the http1 client out when an upstream misbehaves.
	UseNetHTTP bool
}

// Forwarding describes what to send for one request. The gateway fills it
// after its stages ran.
type Forwarding struct {
	// Path is the escaped, canonical path to send, before the target's
	// path prefix.
	Path string
	// RawQuery is the escaped query without "?".
	RawQuery string
	// ClientIP is the client address the gateway trusts. It becomes
	// X-Forwarded-For and the for= of Forwarded; client-sent values of
	// these headers are dropped.
	ClientIP netip.Addr
	// Proto is "http" or "https" as the client connected.
	Proto string
	// Host is the Host the client sent, for X-Forwarded-Host and
	// Forwarded. The target receives its own host as Host.
	Host string
	// RequestID is sent to the target and returned to the client in
	// RequestIDHeader.
	RequestID       string
	RequestIDHeader string
	// RemoveResponseHeaders are removed from the target's response.
	RemoveResponseHeaders []string
	// Timeouts are the route's timeouts; zero fields fall back to the
	// upstream's.
	Timeouts config.UpstreamTimeouts
	// Retries are the route's retry settings; unset fields fall back to
	// the upstream's.
	Retries config.Retries
}

// Upstream forwards requests to a set of equivalent targets. It is safe
// for concurrent use.
type Upstream struct {
	name          string
	cfg           settings
	targets       []*target
	leastRequests bool
	// poolHeaders is true when every target uses the http1 client, which
	// never touches a request after Do returned, so the outgoing requests
	// and their header maps can be reused.
	poolHeaders bool

	next     atomic.Uint64
	inFlight atomic.Int64
	budget   retryBudget

	log    *slog.Logger
	obs    Observer
	warn   warnLimiter
	now    func() time.Time
	prober *http.Client

	closers []func()
	outPool sync.Pool

	mu      sync.Mutex
	stop    context.CancelFunc
	running sync.WaitGroup
}

// NewUpstream validates cfg, loads its TLS files and returns an Upstream
// ready to forward. Config problems are returned as config.Errors whose
// paths start with opt.Path. Active health checks run only between Start
// and Stop.
func NewUpstream(cfg config.Upstream, opt Options) (*Upstream, error) {
	var errs config.Errors
	s := parseSettings(cfg, opt.Path, &errs)
	tlsConfig := loadTLS(cfg.TLS, join(opt.Path, "tls"), &errs)
	if len(cfg.Targets) == 0 {
		errs.Add(join(opt.Path, "targets"), "missing targets: list at least one URL such as \"http://127.0.0.1:9000\"")
	}
	var targets []*target
	for i, raw := range cfg.Targets {
		if u := parseTarget(raw, targetFieldPath(opt.Path, i), &errs); u != nil {
			targets = append(targets, newTarget(raw, u, s.passive))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	u := &Upstream{
		name:          s.name,
		cfg:           s,
		targets:       targets,
		leastRequests: s.balancing == "least_requests",
		poolHeaders:   true,
		log:           opt.Logger,
		obs:           opt.Observer,
		now:           opt.Now,
	}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	u.log = u.log.With("upstream", s.name)
	if u.obs == nil {
		u.obs = nopObserver{}
	}
	if u.now == nil {
		u.now = time.Now
	}
	u.warn.now = u.now
	u.outPool.New = func() any { return &outRequest{Header: make(http.Header, 16)} }
	u.setTransports(tlsConfig, opt.UseNetHTTP)
	return u, nil
}

// setTransports gives every target its transport: one net/http Transport
// shared by the https targets (and the http ones with useNetHTTP), and
// one http1 client per plain-http target.
func (u *Upstream) setTransports(tlsConfig *tls.Config, useNetHTTP bool) {
	var tlsTransport, plainTransport *http.Transport
	for _, t := range u.targets {
		switch {
		case t.scheme == "https":
			if tlsTransport == nil {
				tlsTransport = newStdTransport(tlsConfig, u.cfg.maxIdleConns, u.cfg.timeouts.connect, true)
				u.closers = append(u.closers, tlsTransport.CloseIdleConnections)
			}
			t.transport = &stdTransport{t: tlsTransport, scheme: t.scheme, host: t.host}
			u.poolHeaders = false
		case useNetHTTP:
			if plainTransport == nil {
				plainTransport = newStdTransport(nil, u.cfg.maxIdleConns, u.cfg.timeouts.connect, false)
				u.closers = append(u.closers, plainTransport.CloseIdleConnections)
			}
			t.transport = &stdTransport{t: plainTransport, scheme: t.scheme, host: t.host}
			u.poolHeaders = false
		default:
			c := http1.NewClient(http1.Options{
				Addr:           t.addr,
				MaxIdleConns:   u.cfg.maxIdleConns,
				IdleTimeout:    defaultIdleConnTimeout,
				MaxHeaderBytes: maxResponseHeaderBytes,
				ConnectTimeout: u.cfg.timeouts.connect,
			})
			t.transport = &h1Transport{c: c}
			u.closers = append(u.closers, c.Close)
		}
	}
	probeTransport := newStdTransport(tlsConfig, 1, u.cfg.timeouts.connect, true)
	u.prober = &http.Client{
		Transport: probeTransport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	u.closers = append(u.closers, probeTransport.CloseIdleConnections)
}

// Name returns the upstream's name.
func (u *Upstream) Name() string { return u.name }

// Start starts the active health checks, if configured, until ctx ends or
// Stop is called. Starting an Upstream that was started or stopped before
// does nothing.
func (u *Upstream) Start(ctx context.Context) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.stop != nil {
		return
	}
	ctx, u.stop = context.WithCancel(ctx)
	if u.cfg.active.path != "" {
		for _, t := range u.targets {
			u.running.Add(1)
			go func() {
				defer u.running.Done()
				u.probeLoop(ctx, t)
			}()
		}
	}
	u.log.Info("upstream started", "targets", len(u.targets), "balancing", u.cfg.balancing,
		"active_health_check", u.cfg.active.path != "")
}

// Stop ends the health checks, waits for them and closes idle
// connections. Requests in flight finish; their connections close when
// they end. Stop may be called without Start.
func (u *Upstream) Stop() {
	u.mu.Lock()
	stop := u.stop
	u.stop = func() {}
	u.mu.Unlock()
	if stop != nil {
		stop()
	}
	u.running.Wait()
	for _, c := range u.closers {
		c()
	}
	u.log.Info("upstream stopped")
}

// nopObserver discards metrics.
type nopObserver struct{}

func (nopObserver) UpstreamRequest(string, string, int, ErrorKind, time.Duration) {}
func (nopObserver) TargetHealth(string, string, bool)                             {}
func (nopObserver) Retry(string)                                                  {}
