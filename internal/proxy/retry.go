package proxy

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

const (
	// budgetWindow is the span over which the retry budget counts
	// requests and retries, in one-second buckets.
	budgetWindow = 10
	// budgetMinRetries is the number of retries allowed per window however
	// few requests there were, so that an upstream with little traffic can
	// still retry.
	budgetMinRetries = 10
	// maxBackoff caps the exponential backoff unless the configured base
	// is larger.
	maxBackoff = time.Second
)

// retryBudget caps retries at a percentage of the requests seen over the
// last budgetWindow seconds, so that retries cannot multiply the load on a
// failing upstream. It is safe for concurrent use.
type retryBudget struct {
	mu      sync.Mutex
	buckets [budgetWindow]budgetBucket
}

type budgetBucket struct {
	second            int64
	requests, retries int64
}

// bucket returns the bucket of now's second, reset if it holds an older
// second. The caller holds b.mu.
func (b *retryBudget) bucket(now time.Time) *budgetBucket {
	sec := now.Unix()
	bk := &b.buckets[sec%budgetWindow]
	if bk.second != sec {
		*bk = budgetBucket{second: sec}
	}
	return bk
}

// addRequest counts one forwarded request.
func (b *retryBudget) addRequest(now time.Time) {
	b.mu.Lock()
	b.bucket(now).requests++
	b.mu.Unlock()
}

// tryRetry reports whether one more retry fits in the budget and, if so,
// counts it. percent is the share of requests that may be retried.
func (b *retryBudget) tryRetry(now time.Time, percent int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	oldest := now.Unix() - budgetWindow
	var requests, retries int64
	for i := range b.buckets {
		if bk := &b.buckets[i]; bk.second > oldest {
			requests += bk.requests
			retries += bk.retries
		}
	}
	allowed := max(int64(budgetMinRetries), requests*int64(percent)/100)
	if retries >= allowed {
		return false
	}
	b.bucket(now).retries++
	return true
}

// backoff returns the wait before retry n (1 for the first retry): base
// doubled for each further retry, capped, with equal jitter so that
// clients that failed together do not retry together.
func backoff(base time.Duration, n int) time.Duration {
	if base <= 0 {
		return 0
	}
	limit := max(maxBackoff, base)
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + rand.N(half+1)
}

// sleep waits for d or until ctx is done, and reports whether the full
// wait passed with time left before deadline.
func sleep(ctx context.Context, deadline time.Time, d time.Duration) bool {
	if time.Until(deadline) <= d {
		return false
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// replayable reports whether r may be sent again after a failed attempt:
// an idempotent method and no request body, because the body was consumed
// by the first attempt and is not kept.
func replayable(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace,
		http.MethodPut, http.MethodDelete:
		return !hasBody(r)
	}
	return false
}

// hasBody reports whether r carries a request body, possibly empty when
// it is chunked.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}
