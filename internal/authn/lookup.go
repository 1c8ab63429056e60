package authn

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/warden-api/warden/internal/authn/cache"
	"github.com/warden-api/warden/internal/store"
)

// lookup reads store records by id through a short-lived cache, so that the
// request path reads the store about once per id per TTL. Invalidations and
// store errors cause extra reads.
//
// Not-found results are cached too. Concurrent misses for one id share one
// store read. When the store returns an error, a record whose fresh period
// has ended but that is within staleTTL is used instead, and the error is
// logged at most once per logEvery. invalidate deletes a record, so it has
// no such fallback, while invalidateAll only ends the fresh period of every
// record and keeps them as fallbacks.
type lookup[V any] struct {
	kind  string
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger
	fetch func(context.Context, string) (V, error)
	cache *cache.Cache[string, found[V]]
	group singleflight.Group
	// epoch changes on every invalidation. A read that started before an
	// invalidation does not store its result, so a revocation cannot be
	// undone by a read that was already in flight.
	epoch atomic.Uint64
	// gen changes on every invalidateAll, before epoch does. A cached
	// record read in an earlier generation is treated as stale.
	gen    atomic.Uint64
	warned rateLimit
}

// found is a cached store result. ok is false for "not found".
type found[V any] struct {
	value V
	ok    bool
	// gen is the lookup's gen when the read began.
	gen uint64
}

func newLookup[V any](kind string, ttl time.Duration, now func() time.Time, log *slog.Logger,
	fetch func(context.Context, string) (V, error)) *lookup[V] {
	return &lookup[V]{
		kind:  kind,
		ttl:   ttl,
		now:   now,
		log:   log,
		fetch: fetch,
		cache: cache.New[string, found[V]](cacheEntries, now),
	}
}

// get returns the record with id and whether it exists. The error is set
// only when the store failed and no stale record could stand in.
func (l *lookup[V]) get(ctx context.Context, id string) (V, bool, error) {
	// gen is loaded before epoch, in the reverse order of invalidateAll's
	// updates, so a read that began before an invalidateAll either stores
	// nothing or stores a record of the earlier generation.
	gen := l.gen.Load()
	cached, state := l.cache.Get(id)
	if state == cache.Fresh && cached.gen != gen {
		state = cache.Stale
	}
	if state == cache.Fresh {
		return cached.value, cached.ok, nil
	}

	// The epoch is part of the flight key: a request that arrives after an
	// invalidation never joins a read that started before it.
	epoch := l.epoch.Load()
	ch := l.group.DoChan(strconv.FormatUint(epoch, 10)+"/"+id, func() (any, error) {
		return l.read(ctx, id, gen, epoch)
	})
	select {
	case res := <-ch:
		if res.Err == nil {
			f := res.Val.(found[V])
			return f.value, f.ok, nil
		}
		if state == cache.Stale {
			if l.warned.allow(l.now()) {
				l.log.Warn("store read failed, using a cached record", "kind", l.kind, "error", res.Err)
			}
			return cached.value, cached.ok, nil
		}
		var zero V
		return zero, false, res.Err
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
}

// read reads id from the store and caches the result. It runs once for all
// concurrent callers, so it is detached from the first caller's
// cancellation and bounded by storeTimeout instead.
func (l *lookup[V]) read(ctx context.Context, id string, gen, epoch uint64) (found[V], error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	v, err := l.fetch(ctx, id)
	f := found[V]{gen: gen}
	switch {
	case err == nil:
		f.value, f.ok = v, true
	case errors.Is(err, store.ErrNotFound):
	default:
		return f, err
	}
	if l.epoch.Load() == epoch {
		now := l.now()
		l.cache.Set(id, f, now.Add(l.ttl), now.Add(l.ttl+staleTTL))
	}
	return f, nil
}

func (l *lookup[V]) invalidate(id string) {
	l.epoch.Add(1)
	l.cache.Delete(id)
}

func (l *lookup[V]) invalidateFunc(drop func(V) bool) {
	l.epoch.Add(1)
	l.cache.DeleteFunc(func(_ string, f found[V]) bool { return f.ok && drop(f.value) })
}

// invalidateAll makes every cached record stale in constant time. The next
// get of each id reads the store, and the record is the fallback when that
// read fails, until its stale period ends.
func (l *lookup[V]) invalidateAll() {
	l.gen.Add(1)
	l.epoch.Add(1)
}

// rateLimit lets one event through per logEvery, which keeps repeated
// warnings from flooding the log. The zero value is ready to use.
type rateLimit struct {
	last atomic.Int64
}

const logEvery = 10 * time.Second

func (r *rateLimit) allow(now time.Time) bool {
	last := r.last.Load()
	if last != 0 && now.UnixNano()-last < int64(logEvery) {
		return false
	}
	return r.last.CompareAndSwap(last, now.UnixNano())
}
