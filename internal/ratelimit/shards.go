package ratelimit

import (
	"hash/maphash"
	"sync"
)

// shardCount is the number of independently locked maps. With 256 shards
// two goroutines contend for one lock only when their keys share a shard,
// which keeps the hot path free of a global lock.
const shardCount = 256

// shrinkMinimum is the peak size below which a shard's map is never
// rebuilt: small maps cost too little to be worth copying.
const shrinkMinimum = 1024

// shardedMap maps 64-bit key hashes to values of type V.
//
// Keys are hashed with a per-process random seed (hash/maphash), so clients
// cannot choose keys that collide. Storing the hash instead of the key
// string keeps a tracked key at a few dozen bytes. Two different keys share
// a value only on a 64-bit hash collision: about one chance in 3*10^7
// among one million live keys.
type shardedMap[V any] struct {
	seed   maphash.Seed
	shards [shardCount]shard[V]
}

type shard[V any] struct {
	mu sync.Mutex
	m  map[uint64]V
	// peak is the largest size since the map was last rebuilt. Go maps do
	// not give memory back after deletes, so sweep rebuilds a map that has
	// shrunk well below its peak.
	peak int
	// pad keeps neighbouring shards' mutexes on separate cache lines.
	_ [40]byte
}

func newShardedMap[V any]() *shardedMap[V] {
	s := &shardedMap[V]{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[uint64]V)
	}
	return s
}

// hash returns the key's hash; its top 8 bits select the shard.
func (s *shardedMap[V]) hash(key string) uint64 {
	return maphash.String(s.seed, key)
}

func (s *shardedMap[V]) shardOf(h uint64) *shard[V] {
	return &s.shards[h>>56]
}

// sweep deletes every entry for which expired returns true, one shard at a
// time, and returns the number of entries left.
func (s *shardedMap[V]) sweep(expired func(V) bool) int {
	left := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, v := range sh.m {
			if expired(v) {
				delete(sh.m, k)
			}
		}
		n := len(sh.m)
		if sh.peak >= shrinkMinimum && n < sh.peak/4 {
			fresh := make(map[uint64]V, n)
			for k, v := range sh.m {
				fresh[k] = v
			}
			sh.m = fresh
			sh.peak = n
		}
		sh.mu.Unlock()
		left += n
	}
	return left
}

// len returns the number of entries. It locks each shard in turn, so the
// total is not a snapshot.
func (s *shardedMap[V]) len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// notePeak records the map's size after an insert.
func (sh *shard[V]) notePeak() {
	if n := len(sh.m); n > sh.peak {
		sh.peak = n
	}
}
