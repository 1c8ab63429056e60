package ratelimit

import (
	"context"
	"slices"
	"time"
)

// Memory is the Backend for one node. It keeps each key's TAT in a sharded
// map. A key whose TAT has passed is back to a full burst and carries no
// information, so Sweep deletes it: memory is bounded by the keys that saw
// a request within their last Burst*Interval.
type Memory struct {
	now  func() time.Time
	tats *shardedMap[int64]
}

// NewMemory returns a Memory backend that reads the time from now, or
// from time.Now when now is nil.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, tats: newShardedMap[int64]()}
}

// maxInlineWindows is the number of windows per request evaluated without
// a heap allocation.
const maxInlineWindows = 8

// Allow implements Backend. It locks the shards of all windows in
// ascending order, so that two requests sharing keys cannot deadlock, and
// reads the clock under the locks, so that one key sees time move forward.
func (m *Memory) Allow(_ context.Context, windows []Window, out []Verdict) error {
	var hashBuf, shardBuf [maxInlineWindows]uint64
	var tatBuf [maxInlineWindows]int64
	hashes, order, tats := hashBuf[:0], shardBuf[:0], tatBuf[:0]
	for _, w := range windows {
		h := m.tats.hash(w.Key)
		hashes = append(hashes, h)
		order = append(order, h>>56)
	}
	slices.Sort(order)
	order = slices.Compact(order)
	for _, s := range order {
		m.tats.shards[s].mu.Lock()
	}
	defer func() {
		for _, s := range order {
			m.tats.shards[s].mu.Unlock()
		}
	}()

	now := m.now().UnixNano()
	allowed := true
	for i, w := range windows {
		sh := m.tats.shardOf(hashes[i])
		next, v := w.Rule.evaluate(sh.m[hashes[i]], now)
		tats = append(tats, next)
		out[i] = v
		allowed = allowed && v.Allowed
	}
	for i, w := range windows {
		sh := m.tats.shardOf(hashes[i])
		if !allowed {
			if out[i].Allowed {
				out[i] = w.Rule.peek(sh.m[hashes[i]], now)
			}
			continue
		}
		sh.m[hashes[i]] = tats[i]
		sh.notePeak()
	}
	return nil
}

// Sweep deletes keys that are back to a full burst and returns the number
// of keys still tracked.
func (m *Memory) Sweep() int {
	now := m.now().UnixNano()
	return m.tats.sweep(func(tat int64) bool { return tat <= now })
}

// Len returns the number of tracked keys.
func (m *Memory) Len() int { return m.tats.len() }

// Close implements Backend. Memory holds no resources.
func (m *Memory) Close() error { return nil }
