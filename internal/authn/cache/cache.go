// Package cache is a bounded in-memory map whose entries expire at their own
// deadlines. The authentication stage keeps its API key, consumer, token and
// introspection lookups in it.
//
// Each entry has two deadlines: it is fresh until the first and may still be
// served as a fallback, when the source of truth cannot be reached, until the
// second. The map holds at most a fixed number of entries; when it is full,
// entries past their last deadline are dropped first and then arbitrary ones.
//
// It is written here rather than taken from a library because the LRU caches
// that fit (such as hashicorp/golang-lru/v2's expirable LRU) have one TTL per
// cache, while entries here expire at their own times, such as a token's exp.
package cache

import (
	"sync"
	"time"
)

// State is what Get found for a key.
type State uint8

const (
	// Missing means the key is absent or past its stale deadline.
	Missing State = iota
	// Fresh means the entry is within its fresh deadline.
	Fresh
	// Stale means the entry is past its fresh deadline but within its stale
	// deadline: usable only when the source cannot be reached.
	Stale
)

type entry[V any] struct {
	value      V
	freshUntil time.Time
	staleUntil time.Time
}

// Cache maps keys to values with per-entry deadlines. It is safe for
// concurrent use. The zero Cache is not usable; call New.
type Cache[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]entry[V]
	max int
	now func() time.Time
}

// New returns an empty cache that holds at most max entries (at least 1)
// and reads the time from now (time.Now when nil).
func New[K comparable, V any](max int, now func() time.Time) *Cache[K, V] {
	if max < 1 {
		max = 1
	}
	if now == nil {
		now = time.Now
	}
	return &Cache[K, V]{m: make(map[K]entry[V]), max: max, now: now}
}

// Get returns the value stored for k and its state. The value is the zero V
// when the state is Missing.
func (c *Cache[K, V]) Get(k K) (V, State) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	now := c.now()
	switch {
	case !ok || !now.Before(e.staleUntil):
		var zero V
		return zero, Missing
	case now.Before(e.freshUntil):
		return e.value, Fresh
	default:
		return e.value, Stale
	}
}

// Set stores v for k, fresh until freshUntil and usable as a fallback until
// staleUntil. A staleUntil before freshUntil is raised to freshUntil.
func (c *Cache[K, V]) Set(k K, v V, freshUntil, staleUntil time.Time) {
	if staleUntil.Before(freshUntil) {
		staleUntil = freshUntil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		c.evictLocked(c.now())
	}
	c.m[k] = entry[V]{value: v, freshUntil: freshUntil, staleUntil: staleUntil}
}

// evictLocked makes room for one entry. It drops every entry whose stale
// deadline is before now, and if that frees less than an eighth of the
// capacity, arbitrary entries (Go's map order) until it does, so that a
// full cache is not swept on every Set.
func (c *Cache[K, V]) evictLocked(now time.Time) {
	target := c.max - c.max/8 - 1
	for k, e := range c.m {
		if !now.Before(e.staleUntil) {
			delete(c.m, k)
		}
	}
	for k := range c.m {
		if len(c.m) <= target {
			break
		}
		delete(c.m, k)
	}
}

// Delete removes k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// DeleteFunc removes every entry for which drop returns true.
func (c *Cache[K, V]) DeleteFunc(drop func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if drop(k, e.value) {
			delete(c.m, k)
		}
	}
}

// Len returns the number of entries, expired ones included.
func (c *Cache[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
