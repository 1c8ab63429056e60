// Package ratelimit is Warden's traffic control: GCRA rate limits per
// consumer, credential, client IP and route, calendar quotas kept in the
// store, brute-force lockout of failing authentications and concurrency
// limits against overload.
//
// A Limiter owns the counters: a sharded in-memory backend on one node, or
// Redis shared by all nodes, with a fail mode for when Redis cannot be
// reached. NewStage builds the request stage of one route on top of it, and
// NewBruteForce the stage that runs before authentication.
// docs/ratelimit.md describes the algorithm, the headers and the keys.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/store"
)

// Fail modes for an unreachable Redis backend.
const (
	FailOpen   = "open"
	FailClosed = "closed"
)

// Options are the Limiter's collaborators. The zero value is usable: no
// store, no logging, no observer and the system clock.
type Options struct {
	// Store keeps quota usage across restarts and nodes. Without it quotas
	// are counted in memory only.
	Store store.Store
	// Logger receives start, stop, backend state and store error lines.
	// Nil discards them.
	Logger *slog.Logger
	// Observer receives backend state changes and fail-mode decisions.
	Observer Observer
	// Now is the clock. Default: time.Now. The Redis backend uses the
	// Redis server's clock for rate limits whatever Now returns.
	Now func() time.Time
	// FlushInterval is how often quota usage is written to the store.
	// Default: 10s.
	FlushInterval time.Duration
	// SweepInterval is how often idle keys leave the memory backend.
	// Default: 1m.
	SweepInterval time.Duration
	// ProbeInterval is how often an unreachable Redis is pinged.
	// Default: 1s.
	ProbeInterval time.Duration
}

// Limiter keeps rate limit and quota state for every route of the
// gateway. It is safe for concurrent use and outlives config reloads:
// stages built for a new config share its counters.
type Limiter struct {
	logger   *slog.Logger
	observer Observer
	now      func() time.Time
	store    store.Store

	failMode   string
	headers    bool
	ipv6Prefix int
	loc        *time.Location
	plans      map[string]*plan

	memory *Memory
	// lockouts are the brute-force failure histories kept in memory,
	// shared by the BruteForce stages of successive configs.
	lockouts *shardedMap[bfState]
	redis    *Redis
	conn     *redisConn
	quotas   *quotaCounters
	// redisErrors logs failed Redis checks, at most one line per interval.
	redisErrors *throttledLog

	flushInterval time.Duration
	sweepInterval time.Duration

	mu          sync.Mutex
	routeQuotas map[string][]quotaSpec
	stop        chan struct{}
	done        sync.WaitGroup
	started     bool
	stopped     bool
}

// plan is a compiled config.Plan.
type plan struct {
	name   string
	limits []limitSpec
	quotas []quotaSpec
}

// New validates cfg and builds a Limiter. Errors are config.Errors with
// paths under "rate_limit". New does not contact Redis: an unreachable
// server is found on the first check and handled by the fail mode.
func New(cfg config.RateLimit, opts Options) (*Limiter, error) {
	var errs config.Errors
	l := &Limiter{
		logger:        opts.Logger,
		observer:      opts.Observer,
		now:           opts.Now,
		store:         opts.Store,
		failMode:      cfg.FailMode,
		headers:       cfg.Headers == nil || *cfg.Headers,
		ipv6Prefix:    cfg.IPv6Prefix,
		plans:         make(map[string]*plan, len(cfg.Plans)),
		flushInterval: orDefault(opts.FlushInterval, 10*time.Second),
		sweepInterval: orDefault(opts.SweepInterval, time.Minute),
		routeQuotas:   make(map[string][]quotaSpec),
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if l.observer == nil {
		l.observer = NopObserver{}
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.validateGlobal(cfg, &errs)
	l.compilePlans(cfg.Plans, &errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}

	l.memory = NewMemory(l.now)
	l.redisErrors = newThrottledLog(l.logger, 10*time.Second)
	l.lockouts = newShardedMap[bfState]()
	l.quotas = newQuotaCounters(opts.Store, l.now, l.logger, l.observer)
	if cfg.Backend == "redis" {
		rc := cfg.Redis
		rc.Address = orDefault(rc.Address, "127.0.0.1:6379")
		rc.KeyPrefix = orDefault(rc.KeyPrefix, "warden:")
		rc.Timeout = orDefault(rc.Timeout, config.Duration(50*time.Millisecond))
		conn, err := newRedisConn(rc, orDefault(opts.ProbeInterval, time.Second), l.logger, l.observer)
		if err != nil {
			errs.Add("rate_limit.redis.password_file", "%v", err)
			return nil, errs
		}
		l.conn = conn
		l.redis = &Redis{conn: conn}
	}
	return l, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (l *Limiter) validateGlobal(cfg config.RateLimit, errs *config.Errors) {
	switch cfg.Backend {
	case "", "memory", "redis":
	default:
		errs.Add("rate_limit.backend", "invalid backend %q: use \"memory\" or \"redis\"", cfg.Backend)
	}
	l.failMode = orDefault(cfg.FailMode, FailOpen)
	if l.failMode != FailOpen && l.failMode != FailClosed {
		errs.Add("rate_limit.fail_mode", "invalid fail mode %q: use \"open\" or \"closed\"", cfg.FailMode)
	}
	l.ipv6Prefix = orDefault(cfg.IPv6Prefix, 64)
	if l.ipv6Prefix < 1 || l.ipv6Prefix > 128 {
		errs.Add("rate_limit.ipv6_prefix", "invalid IPv6 prefix length %d: use 1 to 128, such as 64", cfg.IPv6Prefix)
	}
	loc, err := time.LoadLocation(orDefault(cfg.TimeZone, "UTC"))
	if err != nil {
		errs.Add("rate_limit.time_zone", "unknown time zone %q: use an IANA name such as \"UTC\" or \"Europe/Berlin\"", cfg.TimeZone)
		loc = time.UTC
	}
	l.loc = loc
	if cfg.Redis.Timeout < 0 {
		errs.Add("rate_limit.redis.timeout", "timeout must not be negative")
	}
	if cfg.Redis.DB < 0 {
		errs.Add("rate_limit.redis.db", "invalid database number %d: must not be negative", cfg.Redis.DB)
	}
}

func (l *Limiter) compilePlans(plans map[string]config.Plan, errs *config.Errors) {
	names := make([]string, 0, len(plans))
	for name := range plans {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := plans[name]
		path := "rate_limit.plans." + name
		if name == "" {
			errs.Add(path, "plan name must not be empty")
		}
		l.plans[name] = &plan{
			name:   name,
			limits: compileLimits(p.Limits, "p:"+name, path+".limits", errs),
			quotas: compileQuotas(p.Quotas, "", path+".quotas", errs),
		}
	}
}

// Start runs the background work: sweeping idle keys and flushing quota
// usage. It returns at once; Stop ends the work.
func (l *Limiter) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.stopped {
		return errors.New("rate limiter already started or stopped: build a new one with New")
	}
	l.started = true
	l.stop = make(chan struct{})
	l.done.Add(2)
	go l.every(l.sweepInterval, l.sweep)
	go l.every(l.flushInterval, func() { _ = l.quotas.flush(context.WithoutCancel(ctx)) })
	backend := "memory"
	if l.redis != nil {
		backend = "redis"
	}
	l.logger.Info("rate limiter started", "backend", backend, "fail_mode", l.failMode,
		"plans", len(l.plans), "flush_interval", l.flushInterval)
	return nil
}

func (l *Limiter) every(interval time.Duration, work func()) {
	defer l.done.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-ticker.C:
			work()
		}
	}
}

// sweep deletes rate limit keys that are back to a full burst and failure
// histories that have expired.
func (l *Limiter) sweep() {
	l.memory.Sweep()
	now := l.now().UnixNano()
	l.lockouts.sweep(func(st bfState) bool { return now >= st.forgetAt })
}

// Stop ends the background work, writes pending quota usage to the store
// and closes the Redis connection. ctx bounds the final flush. Calls after
// the first do nothing.
func (l *Limiter) Stop(ctx context.Context) error {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return nil
	}
	l.stopped = true
	if l.started {
		close(l.stop)
		l.started = false
	}
	l.mu.Unlock()
	l.done.Wait()

	err := l.quotas.flush(ctx)
	if err != nil {
		err = fmt.Errorf("flushing quota usage on stop: %w", err)
	}
	if l.conn != nil {
		err = errors.Join(err, l.conn.close())
	}
	l.logger.Info("rate limiter stopped")
	return err
}

// Flush writes pending quota usage to the store now.
func (l *Limiter) Flush(ctx context.Context) error {
	return l.quotas.flush(ctx)
}

// BackendAvailable reports whether the configured backend can be used:
// always true for memory, false while Redis counts as unreachable.
func (l *Limiter) BackendAvailable() bool {
	return l.conn == nil || l.conn.available()
}

// allow evaluates windows on the configured backend and applies the fail
// mode when Redis cannot be used. It returns ErrUnavailable when the fail
// mode is closed and Redis failed.
func (l *Limiter) allow(ctx context.Context, windows []Window, out []Verdict) error {
	if l.redis == nil {
		return l.memory.Allow(ctx, windows, out)
	}
	if l.conn.available() {
		err := l.redis.Allow(ctx, windows, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("checking rate limits: %w", ctx.Err())
		}
		l.redisErrors.warn("rate limit check on redis failed, applying the fail mode",
			"fail_mode", l.failMode, "error", err)
	}
	l.observer.FailModeApplied(l.failMode)
	if l.failMode == FailClosed {
		return ErrUnavailable
	}
	return l.memory.Allow(ctx, windows, out)
}

// registerRouteQuotas records a route's quotas for Usage.
func (l *Limiter) registerRouteQuotas(route string, specs []quotaSpec) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(specs) == 0 {
		delete(l.routeQuotas, route)
		return
	}
	l.routeQuotas[route] = specs
}
