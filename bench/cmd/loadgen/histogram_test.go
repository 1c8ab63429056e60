package main

import (
	"math"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	tests := []struct {
		name string
		v    int64
	}{
		{"zero", 0},
		{"last exact", 127},
		{"first shifted", 128},
		{"power of two", 1 << 20},
		{"one millisecond", int64(time.Millisecond)},
		{"one hour", int64(time.Hour)},
		{"max", math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := bucketOf(tt.v)
			if i < 0 || i >= bucketCount {
				t.Fatalf("bucketOf(%d) = %d, want in [0, %d)", tt.v, i, bucketCount)
			}
			high := bucketHigh(i)
			if high < tt.v {
				t.Errorf("bucketHigh(%d) = %d, below the value %d", i, high, tt.v)
			}
			if tt.v > 0 && float64(high-tt.v)/float64(tt.v) > 1.0/subBuckets {
				t.Errorf("bucketHigh(%d) = %d, more than 1/%d above %d", i, high, subBuckets, tt.v)
			}
		})
	}
}

func TestBucketsContiguous(t *testing.T) {
	for i := 1; i < bucketCount-1; i++ {
		low := bucketHigh(i-1) + 1
		if got := bucketOf(low); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d (the value after bucket %d)", low, got, i, i-1)
		}
	}
}

func TestPercentile(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{0, time.Microsecond},
		{50, 500 * time.Microsecond},
		{99, 990 * time.Microsecond},
		{99.9, 999 * time.Microsecond},
		{100, 1000 * time.Microsecond},
	}
	for _, tt := range tests {
		got := h.percentile(tt.p)
		if got < tt.want || float64(got-tt.want) > float64(tt.want)/subBuckets {
			t.Errorf("percentile(%v) = %v, want %v within 1/%d", tt.p, got, tt.want, subBuckets)
		}
	}
}

func TestPercentileEmpty(t *testing.T) {
	var h histogram
	if got := h.percentile(99); got != 0 {
		t.Errorf("percentile(99) of an empty histogram = %v, want 0", got)
	}
}

func TestMerge(t *testing.T) {
	var a, b histogram
	a.record(time.Millisecond)
	b.record(3 * time.Millisecond)
	b.record(-time.Second)
	a.merge(&b)
	if a.total != 3 {
		t.Errorf("total = %d, want 3", a.total)
	}
	if a.max != int64(3*time.Millisecond) {
		t.Errorf("max = %v, want 3ms", time.Duration(a.max))
	}
	if got := a.percentile(1); got != 0 {
		t.Errorf("percentile(1) = %v, want 0 for the negative value", got)
	}
}

func BenchmarkRecord(b *testing.B) {
	var h histogram
	for i := 0; b.Loop(); i++ {
		h.record(time.Duration(i%5000) * time.Microsecond)
	}
}
