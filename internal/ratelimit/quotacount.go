package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/warden-api/warden/internal/store"
)

// quotaCounter is one consumer's use of one quota in one period.
//
// base is the total last read from or written to the store; pending is
// what this node counted since its last flush. The usage checked against
// the allowance is base+pending. Stored totals only grow, so base takes
// the larger of what it holds and what the store returns.
type quotaCounter struct {
	consumer string
	quota    string
	start    time.Time
	end      time.Time

	mu           sync.Mutex
	baseRequests int64
	baseBytes    int64
	pendRequests int64
	pendBytes    int64
	loaded       bool
	nextLoad     time.Time
	lastUse      time.Time
	// removed is set when the counter left the map; holders look it up
	// again so that no count lands on a forgotten counter.
	removed bool
}

// quotaShards is the number of locks over the counter map.
const quotaShards = 64

// quotaCounters keeps quota usage in memory and flushes it to the store.
type quotaCounters struct {
	store        store.Store
	storeTimeout time.Duration
	loadRetry    time.Duration
	idle         time.Duration
	now          func() time.Time
	logger       *slog.Logger
	observer     Observer

	seed   maphash.Seed
	shards [quotaShards]struct {
		mu sync.Mutex
		m  map[string]*quotaCounter
	}
	loads singleflight.Group
}

func newQuotaCounters(st store.Store, now func() time.Time, logger *slog.Logger, observer Observer) *quotaCounters {
	q := &quotaCounters{
		store:        st,
		storeTimeout: 500 * time.Millisecond,
		loadRetry:    10 * time.Second,
		idle:         10 * time.Minute,
		now:          now,
		logger:       logger,
		observer:     observer,
		seed:         maphash.MakeSeed(),
	}
	for i := range q.shards {
		q.shards[i].m = make(map[string]*quotaCounter)
	}
	return q
}

func counterKey(consumer, quota string, start time.Time) string {
	return consumer + "\x00" + quota + "\x00" + strconv.FormatInt(start.Unix(), 10)
}

// counter returns the counter of ref for consumer, creating it.
func (q *quotaCounters) counter(consumer string, ref *quotaRef) *quotaCounter {
	key := counterKey(consumer, ref.spec.stored, ref.start)
	sh := &q.shards[maphash.String(q.seed, key)%quotaShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c := sh.m[key]
	if c == nil {
		c = &quotaCounter{consumer: consumer, quota: ref.spec.stored, start: ref.start, end: ref.end}
		sh.m[key] = c
	}
	return c
}

// lock returns ref's counter locked, looking it up again if a flush
// removed it meanwhile.
func (q *quotaCounters) lock(consumer string, ref *quotaRef) *quotaCounter {
	for {
		if ref.counter == nil {
			ref.counter = q.counter(consumer, ref)
		}
		c := ref.counter
		c.mu.Lock()
		if !c.removed {
			return c
		}
		c.mu.Unlock()
		ref.counter = nil
	}
}

// errQuotaExceeded marks the quota that denied a request.
var errQuotaExceeded = errors.New("quota exceeded")

// reserve counts one request against every quota in refs, or against none
// when one of them is used up, and returns the index of that quota.
func (q *quotaCounters) reserve(ctx context.Context, consumer string, refs []quotaRef) (int, error) {
	_ = q.load(ctx, consumer, refs, false) // logged in load; quotas fail open

	now := q.now()
	for i := range refs {
		r := &refs[i]
		c := q.lock(consumer, r)
		full := (r.requests > 0 && c.baseRequests+c.pendRequests >= r.requests) ||
			(r.bytes > 0 && c.baseBytes+c.pendBytes >= r.bytes)
		if !full {
			c.pendRequests++
			c.lastUse = now
		}
		r.usedRequests, r.usedBytes = c.baseRequests+c.pendRequests, c.baseBytes+c.pendBytes
		c.mu.Unlock()
		if full {
			q.release(consumer, refs[:i])
			return i, errQuotaExceeded
		}
	}
	return -1, nil
}

// release takes back one request from each quota in refs, after a rate
// limit denied a request that its quotas had counted.
func (q *quotaCounters) release(consumer string, refs []quotaRef) {
	for i := range refs {
		c := q.lock(consumer, &refs[i])
		if c.pendRequests > 0 {
			c.pendRequests--
			refs[i].usedRequests--
		}
		c.mu.Unlock()
	}
}

// addBytes counts response bytes against every quota in refs.
func (q *quotaCounters) addBytes(consumer string, refs []quotaRef, n int64) {
	now := q.now()
	for i := range refs {
		c := q.lock(consumer, &refs[i])
		c.pendBytes += n
		c.lastUse = now
		c.mu.Unlock()
	}
}

// used returns the usage of ref's counter, flushed and pending.
func (q *quotaCounters) used(consumer string, ref *quotaRef) (requests, bytes int64) {
	c := q.lock(consumer, ref)
	defer c.mu.Unlock()
	return c.baseRequests + c.pendRequests, c.baseBytes + c.pendBytes
}

// load reads the stored usage of counters in refs that have none yet. The
// first request of a consumer in a period pays one store read; concurrent
// ones share it. A failed read is logged and retried after loadRetry, and
// until then the node counts from what it has: quotas fail open on store
// errors because the store is not on the request path otherwise. The
// returned error is that of the store read. With force set, the store is
// read even for counters that were loaded before, to see what other nodes
// have flushed since.
func (q *quotaCounters) load(ctx context.Context, consumer string, refs []quotaRef, force bool) error {
	if q.store == nil {
		return nil
	}
	now := q.now()
	var since time.Time
	need := false
	for i := range refs {
		c := q.lock(consumer, &refs[i])
		if force || (!c.loaded && !now.Before(c.nextLoad)) {
			need = true
			if since.IsZero() || c.start.Before(since) {
				since = c.start
			}
		}
		c.mu.Unlock()
	}
	if !need {
		return nil
	}

	v, err, _ := q.loads.Do(consumer, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.storeTimeout)
		defer cancel()
		return q.store.ListQuotaUsage(ctx, consumer, since)
	})
	if err != nil {
		q.logger.Warn("reading quota usage failed, counting from the usage known to this node",
			"consumer_id", consumer, "error", err, "retry_in", q.loadRetry)
	}
	rows, _ := v.([]store.QuotaUsage)
	for i := range refs {
		c := q.lock(consumer, &refs[i])
		if force || !c.loaded {
			if err != nil {
				c.nextLoad = now.Add(q.loadRetry)
			} else {
				c.apply(rows)
			}
		}
		c.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("reading quota usage of consumer %q: %w", consumer, err)
	}
	return nil
}

// apply takes the stored totals of c from rows. c must be locked.
func (c *quotaCounter) apply(rows []store.QuotaUsage) {
	for _, r := range rows {
		if r.Quota == c.quota && r.PeriodStart.Equal(c.start) {
			c.baseRequests = max(c.baseRequests, r.Requests)
			c.baseBytes = max(c.baseBytes, r.Bytes)
		}
	}
	c.loaded = true
}

// flush writes pending usage to the store and deletes counters that are
// idle or whose period has ended. It returns the first store error; the
// usage that failed to be written stays pending for the next flush.
func (q *quotaCounters) flush(ctx context.Context) error {
	now := q.now()
	var firstErr error
	failed := 0
	for _, c := range q.snapshot() {
		if err := q.flushOne(ctx, c); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			q.observer.QuotaFlushFailed(err)
		}
	}
	if firstErr != nil {
		q.logger.Warn("writing quota usage failed, keeping it for the next flush",
			"counters", failed, "error", firstErr)
	}
	q.evict(now)
	return firstErr
}

func (q *quotaCounters) snapshot() []*quotaCounter {
	var all []*quotaCounter
	for i := range q.shards {
		sh := &q.shards[i]
		sh.mu.Lock()
		for _, c := range sh.m {
			all = append(all, c)
		}
		sh.mu.Unlock()
	}
	return all
}

func (q *quotaCounters) flushOne(ctx context.Context, c *quotaCounter) error {
	if q.store == nil {
		return nil
	}
	c.mu.Lock()
	dr, db := c.pendRequests, c.pendBytes
	c.mu.Unlock()
	if dr == 0 && db == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, q.storeTimeout)
	defer cancel()
	total, err := q.store.AddQuotaUsage(ctx, store.QuotaUsage{
		ConsumerID: c.consumer, Quota: c.quota, PeriodStart: c.start, Requests: dr, Bytes: db,
	})
	if err != nil {
		return fmt.Errorf("adding quota usage of consumer %q to quota %q: %w", c.consumer, c.quota, err)
	}
	c.mu.Lock()
	c.pendRequests -= dr
	c.pendBytes -= db
	c.baseRequests = max(c.baseRequests+dr, total.Requests)
	c.baseBytes = max(c.baseBytes+db, total.Bytes)
	c.loaded = true
	c.mu.Unlock()
	return nil
}

// evict deletes counters with nothing pending whose period has ended or
// that saw no request for q.idle. Without a store, counters of the current
// period are kept, because deleting them would lose the usage.
func (q *quotaCounters) evict(now time.Time) {
	for i := range q.shards {
		sh := &q.shards[i]
		sh.mu.Lock()
		for k, c := range sh.m {
			c.mu.Lock()
			ended := !now.Before(c.end)
			idle := q.store != nil && now.Sub(c.lastUse) > q.idle
			if c.pendRequests == 0 && c.pendBytes == 0 && (ended || idle) {
				c.removed = true
				delete(sh.m, k)
			}
			c.mu.Unlock()
		}
		sh.mu.Unlock()
	}
}
