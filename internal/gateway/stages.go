package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/warden-api/warden/internal/authn"
	"github.com/warden-api/warden/internal/authz"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/metrics"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/ratelimit"
	"github.com/warden-api/warden/internal/store"
)

// Stages builds the authentication, authorization and traffic-control
// stages of each pipeline. It keeps the rate limiter across reloads while
// the rate_limit section is unchanged, so a reload does not reset
// counters. A changed section starts a new limiter.
//
// When the store implements store.Notifier, the first pipeline start also
// starts a goroutine that calls InvalidateAll on the running
// authenticators for each change signal. A key revoked by the CLI or by
// another node then stops working without waiting for the cache TTL.
// Close stops the goroutine.
type Stages struct {
	store  store.Store
	logger *slog.Logger

	mu         sync.Mutex
	limiter    *ratelimit.Limiter
	limiterCfg config.RateLimit
	// running contains the authenticators of started pipelines that were
	// not stopped yet: one, or two while a reload swaps pipelines.
	running map[*authn.Authenticator]struct{}
	// watchStop ends the change watch, and watchDone is closed when it has
	// ended. Both are nil until the watch starts.
	watchStop context.CancelFunc
	watchDone chan struct{}
	closed    bool
}

// NewStages returns a stage factory over st. st may be nil only for
// config checks that never serve requests.
func NewStages(st store.Store, logger *slog.Logger) *Stages {
	return &Stages{store: st, logger: logger, running: make(map[*authn.Authenticator]struct{})}
}

// Build implements StagesFactory.
func (f *Stages) Build(cfg *config.Config, m *metrics.Metrics) (StageBuilder, error) {
	var errs config.Errors
	a, err := authn.New(cfg.Authn, f.store, authn.Options{
		Logger:     f.logger,
		HTTPClient: identityClient(),
	})
	errs.Merge("authn", err)

	l, err := f.limiterFor(cfg.RateLimit, m)
	errs.Merge("rate_limit", err)
	if m != nil && cfg.RateLimit.Backend != "redis" {
		// The memory backend cannot be unreachable.
		m.RateLimitBackendUp.Set(1)
	}
	var bf *ratelimit.BruteForce
	if l != nil {
		bf, err = ratelimit.NewBruteForce(cfg.RateLimit.BruteForce, l, nil)
		errs.Merge("rate_limit.brute_force", err)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	return &stageSet{f: f, authn: a, limiter: l, bruteForce: bf, cfg: cfg.RateLimit, hasPlans: len(cfg.RateLimit.Plans) > 0}, nil
}

// limiterFor returns the running limiter when its config is unchanged, or
// a new one.
func (f *Stages) limiterFor(cfg config.RateLimit, m *metrics.Metrics) (*ratelimit.Limiter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limiter != nil && reflect.DeepEqual(f.limiterCfg, cfg) {
		return f.limiter, nil
	}
	l, err := ratelimit.New(cfg, ratelimit.Options{
		Store:    f.store,
		Logger:   f.logger.With("component", "ratelimit"),
		Observer: limiterObserver{m: m, logger: f.logger},
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// InvalidateKey drops a key from the authentication cache, so that a
// revocation made through the admin API applies to the next request.
func (f *Stages) InvalidateKey(id string) {
	for _, a := range f.authenticators() {
		a.InvalidateKey(id)
	}
}

// InvalidateConsumer drops a consumer from the authentication cache.
func (f *Stages) InvalidateConsumer(id string) {
	for _, a := range f.authenticators() {
		a.InvalidateConsumer(id)
	}
}

// InvalidateAll marks every cached key and consumer stale, so that the
// next request that uses each of them reads the store. The change watch
// calls it.
func (f *Stages) InvalidateAll() {
	for _, a := range f.authenticators() {
		a.InvalidateAll()
	}
}

// authenticators returns the authenticators of the started pipelines.
func (f *Stages) authenticators() []*authn.Authenticator {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*authn.Authenticator, 0, len(f.running))
	for a := range f.running {
		out = append(out, a)
	}
	return out
}

// startWatchLocked starts the change watch unless it runs already, Close
// was called, or the store sends no change signals. f.mu must be held.
func (f *Stages) startWatchLocked() {
	n, ok := f.store.(store.Notifier)
	if !ok || f.watchStop != nil || f.closed {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	changes := n.Changes(ctx)
	f.watchStop, f.watchDone = stop, make(chan struct{})
	f.logger.Info("invalidating the authentication cache on store changes")
	go func() {
		defer close(f.watchDone)
		// The channel is closed when ctx ends or the store is closed.
		for range changes {
			f.InvalidateAll()
		}
	}()
}

// Limiter returns the running rate limiter, for usage reports.
func (f *Stages) Limiter() *ratelimit.Limiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limiter
}

// Close stops the change watch and waits for it, and stops the running
// limiter, writing quota usage to the store. Call it before closing the
// store.
func (f *Stages) Close() {
	f.mu.Lock()
	l := f.limiter
	f.limiter = nil
	stop, done := f.watchStop, f.watchDone
	f.closed = true
	f.mu.Unlock()
	if stop != nil {
		stop()
		<-done
		f.logger.Info("stopped invalidating the authentication cache on store changes")
	}
	if l != nil {
		stopLimiter(l, f.logger)
	}
}

func stopLimiter(l *ratelimit.Limiter, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Stop(ctx); err != nil {
		logger.Error("stopping rate limiter failed", "error", err)
	}
}

// stageSet is the StageBuilder of one pipeline.
type stageSet struct {
	f          *Stages
	authn      *authn.Authenticator
	limiter    *ratelimit.Limiter
	bruteForce *ratelimit.BruteForce
	cfg        config.RateLimit
	hasPlans   bool
}

// RouteStages builds a route's stages in StageOrder.
func (s *stageSet) RouteStages(rc config.Route, path string) ([]pipeline.Stage, error) {
	var errs config.Errors
	var out []pipeline.Stage
	if rc.Auth != nil {
		if s.bruteForce != nil {
			out = append(out, s.bruteForce)
		}
		st, err := s.authn.Stage(*rc.Auth, path+".auth")
		errs.Merge(path+".auth", err)
		if st != nil {
			out = append(out, st)
		}
	}
	if rc.Authz != nil {
		if rc.Auth == nil {
			errs.Add(path+".authz", "authorization needs an authenticated consumer: add an auth section to this route")
		}
		st, err := authz.New(*rc.Authz, path+".authz", authz.WithLogger(s.f.logger))
		errs.Merge(path+".authz", err)
		if st != nil {
			out = append(out, st)
		}
	}
	if s.limiter != nil {
		rl := rc.RateLimit
		if rl == nil && rc.Auth != nil && s.hasPlans {
			// Routes with auth apply the consumer's plan by default. Without
			// plans in the config there is nothing to apply, so the stage
			// and its per-request cost are left out.
			rl = &config.RouteRateLimit{}
		}
		if rl != nil {
			st, err := ratelimit.NewStage(s.limiter, rc.Name, rl, path+".rate_limit")
			errs.Merge(path+".rate_limit", err)
			if st != nil {
				out = append(out, st)
			}
		}
	}
	return out, errs.Err()
}

// Start starts the authenticator and, for a new limiter, the limiter. The
// first Start of any pipeline also starts the change watch.
func (s *stageSet) Start(ctx context.Context) error {
	s.authn.Start(context.WithoutCancel(ctx))
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.running[s.authn] = struct{}{}
	s.f.startWatchLocked()
	if s.limiter != nil && s.limiter != s.f.limiter {
		if err := s.limiter.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("starting rate limiter: %w", err)
		}
		old := s.f.limiter
		s.f.limiter = s.limiter
		s.f.limiterCfg = s.cfg
		if old != nil {
			go stopLimiter(old, s.f.logger)
		}
	}
	return nil
}

// Stop stops the authenticator. The limiter belongs to Stages.
func (s *stageSet) Stop() {
	s.f.mu.Lock()
	delete(s.f.running, s.authn)
	s.f.mu.Unlock()
	s.authn.Stop()
}

// identityClient is the HTTP client for JWKS, discovery and introspection.
// It never uses the environment's proxy settings, and bounds every call.
func identityClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// limiterObserver maps rate limiter observations to metrics and logs.
type limiterObserver struct {
	m      *metrics.Metrics
	logger *slog.Logger
}

func (o limiterObserver) BackendStateChanged(backend string, available bool) {
	if o.m == nil {
		return
	}
	if available {
		o.m.RateLimitBackendUp.Set(1)
	} else {
		o.m.RateLimitBackendUp.Set(0)
	}
}

func (o limiterObserver) FailModeApplied(string) {
	if o.m != nil {
		o.m.RateLimitFallbacks.Inc()
	}
}

func (o limiterObserver) QuotaFlushFailed(err error) {}

func (o limiterObserver) Lockout(kind string) {}
