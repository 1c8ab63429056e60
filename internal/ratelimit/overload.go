package ratelimit

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// ReasonOverloaded is the reason code of a request refused by a
// concurrency limit.
const ReasonOverloaded = "overloaded"

// Concurrency caps the requests in flight: on the whole gateway, on one
// route or towards one upstream. A request over the cap waits in a short
// queue for a slot, for at most the queue timeout, and is refused when the
// queue is full or the wait times out. Waiters get slots in arrival order.
//
// A nil *Concurrency has no limit.
type Concurrency struct {
	sem      *semaphore.Weighted
	max      int64
	queue    int64
	timeout  time.Duration
	waiting  atomic.Int64
	inFlight atomic.Int64
	release  func()
}

// NewConcurrency returns a limit of maxInFlight concurrent requests with
// queueSize waiting places and a wait of at most queueTimeout. A
// maxInFlight of 0 or less returns nil, which has no limit.
func NewConcurrency(maxInFlight, queueSize int, queueTimeout time.Duration) *Concurrency {
	if maxInFlight <= 0 {
		return nil
	}
	c := &Concurrency{
		sem:     semaphore.NewWeighted(int64(maxInFlight)),
		max:     int64(maxInFlight),
		queue:   int64(max(queueSize, 0)),
		timeout: queueTimeout,
	}
	c.release = func() {
		c.inFlight.Add(-1)
		c.sem.Release(1)
	}
	return c
}

// NewOverload validates cfg, the gateway-wide overload settings at config
// path path (such as "rate_limit.overload"), and returns its limit, nil
// when MaxInFlight is 0.
func NewOverload(cfg config.Overload, path string) (*Concurrency, error) {
	var errs config.Errors
	if cfg.MaxInFlight < 0 {
		errs.Add(path+".max_in_flight", "max_in_flight must not be negative, got %d; use 0 for no limit", cfg.MaxInFlight)
	}
	if cfg.QueueSize < 0 {
		errs.Add(path+".queue_size", "queue_size must not be negative, got %d", cfg.QueueSize)
	}
	if cfg.QueueSize > 0 && cfg.MaxInFlight == 0 {
		errs.Add(path+".queue_size", "queue_size needs max_in_flight: without a limit no request waits")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return NewConcurrency(cfg.MaxInFlight, cfg.QueueSize, orDefault(cfg.QueueTimeout.D(), 100*time.Millisecond)), nil
}

// noRelease is the release function of a nil Concurrency.
func noRelease() {}

// Acquire takes a slot. It returns ok false when none is free and the
// queue is full, when the queue timeout passes, or when ctx ends while
// waiting. On ok the caller must call release exactly once when the
// request is done: a second call would free another request's slot.
func (c *Concurrency) Acquire(ctx context.Context) (release func(), ok bool) {
	if c == nil {
		return noRelease, true
	}
	if c.sem.TryAcquire(1) {
		c.inFlight.Add(1)
		return c.release, true
	}
	if c.waiting.Add(1) > c.queue {
		c.waiting.Add(-1)
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	err := c.sem.Acquire(ctx, 1)
	cancel()
	c.waiting.Add(-1)
	if err != nil {
		return nil, false
	}
	c.inFlight.Add(1)
	return c.release, true
}

// InFlight returns the number of slots taken.
func (c *Concurrency) InFlight() int64 {
	if c == nil {
		return 0
	}
	return c.inFlight.Load()
}

// Waiting returns the number of requests in the queue.
func (c *Concurrency) Waiting() int64 {
	if c == nil {
		return 0
	}
	return c.waiting.Load()
}

// Max returns the limit, 0 for none.
func (c *Concurrency) Max() int64 {
	if c == nil {
		return 0
	}
	return c.max
}

// OverloadedResult is the denial of a request refused by a concurrency
// limit: 503 with Retry-After 1, so that clients back off briefly.
func OverloadedResult() pipeline.Result {
	return pipeline.Result{
		Decision: pipeline.Deny,
		Reason:   ReasonOverloaded,
		Status:   http.StatusServiceUnavailable,
		Problem:  "service-unavailable",
		Title:    "Service unavailable",
		Detail:   "Try again in a moment.",
		Headers:  http.Header{HeaderRetryAfter: {"1"}},
	}
}
