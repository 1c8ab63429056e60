package main

import (
	"math"
	"math/bits"
	"time"
)

// histogram counts latencies in log-linear buckets: 128 buckets per power
// of two, so a reported percentile is within 1/128 (0.8 %) of the true
// value, from 1 ns to the largest time.Duration. It is the bucketing of
// HdrHistogram with two significant digits, written here in a few lines so
// the gateway module takes no dependency for a benchmark tool. A histogram
// is not safe for concurrent use: each worker keeps its own and the results
// are merged.
type histogram struct {
	counts [bucketCount]uint64
	total  uint64
	max    int64
}

const (
	subBucketBits = 7
	subBuckets    = 1 << subBucketBits // 128
	// bucketCount covers every int64: the 128 exact buckets, then 128 for
	// each shift from 0 to 55.
	bucketCount = subBuckets * (64 - subBucketBits)
)

// record adds one latency. Negative values count as zero.
func (h *histogram) record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(v)]++
	h.total++
	h.max = max(h.max, v)
}

// merge adds the counts of o to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// percentile returns the latency below or at which p percent of the
// recorded values lie, as the highest value of its bucket, or 0 when the
// histogram is empty. p is in [0, 100].
func (h *histogram) percentile(p float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}

// bucketOf returns the bucket of v >= 0. Values below 128 have a bucket
// each; above, the top 8 significant bits pick the bucket.
func bucketOf(v int64) int {
	if v < subBuckets {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBucketBits + 1)
	return (shift+1)*subBuckets + int(v>>shift) - subBuckets
}

// bucketHigh returns the largest value that falls in bucket i.
func bucketHigh(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	shift := i/subBuckets - 1
	mantissa := uint64(i%subBuckets + subBuckets)
	// In uint64, the last bucket's bound is exactly math.MaxInt64.
	return int64((mantissa+1)<<shift - 1)
}
