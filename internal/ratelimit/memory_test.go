package ratelimit

import (
	"context"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var epoch = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func allowOne(t testing.TB, b Backend, w Window) Verdict {
	t.Helper()
	out := make([]Verdict, 1)
	if err := b.Allow(context.Background(), []Window{w}, out); err != nil {
		t.Fatalf("Allow: %v", err)
	}
	return out[0]
}

func TestMemoryBurst(t *testing.T) {
	tests := []struct {
		name  string
		rule  Rule
		burst int
	}{
		{"burst equals rate", Rule{Rate: 5, Period: time.Second, Burst: 5}, 5},
		{"burst below rate", Rule{Rate: 100, Period: time.Minute, Burst: 10}, 10},
		{"burst above rate", Rule{Rate: 2, Period: time.Second, Burst: 50}, 50},
		{"burst of one", Rule{Rate: 1, Period: time.Hour, Burst: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(epoch)
			m := NewMemory(clock.Now)
			w := Window{Key: "k", Rule: tt.rule}
			for i := range tt.burst {
				v := allowOne(t, m, w)
				if !v.Allowed {
					t.Fatalf("request %d denied, want the first %d allowed", i+1, tt.burst)
				}
				if want := int64(tt.burst - i - 1); v.Remaining != want {
					t.Errorf("request %d: remaining = %d, want %d", i+1, v.Remaining, want)
				}
			}
			v := allowOne(t, m, w)
			if v.Allowed {
				t.Fatalf("request %d allowed, want denied after the burst", tt.burst+1)
			}
			if v.RetryAfter != tt.rule.Interval() {
				t.Errorf("retry after = %v, want one interval %v", v.RetryAfter, tt.rule.Interval())
			}
			clock.Advance(v.RetryAfter)
			if v := allowOne(t, m, w); !v.Allowed {
				t.Errorf("denied after waiting retry-after, want allowed")
			}
		})
	}
}

// TestMemoryConcurrentExactness hammers one key from many goroutines with
// a clock that moves a fixed step on every reading, so the test covers a
// known span of time whatever the scheduling. Each step divides the
// emission interval: with burst 1 GCRA has no tolerance, so a request that
// finds the key ready late by part of a step loses that part.
func TestMemoryConcurrentExactness(t *testing.T) {
	tests := []struct {
		name     string
		rule     Rule
		attempts int
		span     time.Duration
	}{
		{"1000 per second", Rule{Rate: 1000, Period: time.Second, Burst: 1000}, 200_000, 10 * time.Second},
		{"50 per second burst 1", Rule{Rate: 50, Period: time.Second, Burst: 1}, 120_000, 60 * time.Second},
		{"600 per minute", Rule{Rate: 600, Period: time.Minute, Burst: 60}, 100_000, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(epoch)
			clock.step.Store(int64(tt.span) / int64(tt.attempts))
			m := NewMemory(clock.Now)
			const workers = 8
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for g := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					w := []Window{{Key: "shared", Rule: tt.rule}}
					out := make([]Verdict, 1)
					for i := g; i < tt.attempts; i += workers {
						_ = m.Allow(context.Background(), w, out)
						if out[0].Allowed {
							allowed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			// The first request finds a full burst; after it the key
			// refills at Rate per Period.
			want := float64(tt.rule.Burst) + float64(tt.span)/float64(tt.rule.Interval())
			got := float64(allowed.Load())
			if math.Abs(got-want)/want > 0.01 {
				t.Errorf("allowed %v of %d attempts, want %v within 1%%", got, tt.attempts, want)
			}
		})
	}
}

func TestMemoryMultipleWindows(t *testing.T) {
	clock := newFakeClock(epoch)
	m := NewMemory(clock.Now)
	windows := []Window{
		{Key: "second", Rule: Rule{Rate: 10, Period: time.Second, Burst: 10}},
		{Key: "minute", Rule: Rule{Rate: 15, Period: time.Minute, Burst: 15}},
	}
	out := make([]Verdict, 2)
	check := func() bool {
		if err := m.Allow(context.Background(), windows, out); err != nil {
			t.Fatalf("Allow: %v", err)
		}
		return out[0].Allowed && out[1].Allowed
	}
	for i := range 10 {
		if !check() {
			t.Fatalf("request %d denied, want 10 allowed by both windows", i+1)
		}
	}
	if check() {
		t.Fatalf("request 11 allowed, want denied by the per-second window")
	}
	if out[0].Allowed || !out[1].Allowed {
		t.Errorf("window verdicts = %v, %v; want second denied, minute allowing", out[0].Allowed, out[1].Allowed)
	}
	if out[1].Remaining != 5 {
		t.Errorf("minute remaining after a denied request = %d, want 5 (a denied request consumes nothing)", out[1].Remaining)
	}

	clock.Advance(time.Second)
	for i := range 5 {
		if !check() {
			t.Fatalf("request %d after 1s denied, want 5 more allowed", i+1)
		}
	}
	if check() {
		t.Fatalf("request 16 allowed, want denied by the per-minute window")
	}
	if !out[0].Allowed || out[1].Allowed {
		t.Errorf("window verdicts = %v, %v; want second allowing, minute denied", out[0].Allowed, out[1].Allowed)
	}
	if out[0].Remaining != 5 {
		t.Errorf("second remaining = %d, want 5: the per-minute denial must not consume it", out[0].Remaining)
	}
}

func TestMemorySweep(t *testing.T) {
	clock := newFakeClock(epoch)
	m := NewMemory(clock.Now)
	short := Rule{Rate: 1, Period: time.Second, Burst: 1}
	long := Rule{Rate: 1, Period: time.Hour, Burst: 1}
	for i := range 5000 {
		allowOne(t, m, Window{Key: "short-" + strconv.Itoa(i), Rule: short})
	}
	allowOne(t, m, Window{Key: "long", Rule: long})
	if got := m.Len(); got != 5001 {
		t.Fatalf("tracked keys = %d, want 5001", got)
	}
	clock.Advance(2 * time.Second)
	if got := m.Sweep(); got != 1 {
		t.Errorf("keys left after sweep = %d, want 1 (only the hourly key is not full again)", got)
	}
	if v := allowOne(t, m, Window{Key: "long", Rule: long}); v.Allowed {
		t.Errorf("hourly key allowed after sweep, want its state kept")
	}
}

// BenchmarkMemoryAllowParallel measures one check of one window from
// parallel goroutines over 10,000 keys.
func BenchmarkMemoryAllowParallel(b *testing.B) {
	m := NewMemory(nil)
	rule := Rule{Rate: 1_000_000, Period: time.Second, Burst: 1_000_000}
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = "r:books|c" + strconv.Itoa(i)
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)) * 7919
		w := make([]Window, 1)
		out := make([]Verdict, 1)
		for pb.Next() {
			w[0] = Window{Key: keys[i%len(keys)], Rule: rule}
			_ = m.Allow(context.Background(), w, out)
			i++
		}
	})
}

// BenchmarkMemoryOneKeyParallel measures the worst case: every goroutine
// on one key, so one shard lock.
func BenchmarkMemoryOneKeyParallel(b *testing.B) {
	m := NewMemory(nil)
	w := []Window{{Key: "hot", Rule: Rule{Rate: 1_000_000, Period: time.Second, Burst: 1_000_000}}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]Verdict, 1)
		for pb.Next() {
			_ = m.Allow(context.Background(), w, out)
		}
	})
}

// BenchmarkMemoryMillionKeys reports the heap held per tracked key with
// one million keys.
func BenchmarkMemoryMillionKeys(b *testing.B) {
	const keys = 1_000_000
	rule := Rule{Rate: 1, Period: time.Hour, Burst: 10}
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := NewMemory(nil)
		w := make([]Window, 1)
		out := make([]Verdict, 1)
		for i := range keys {
			w[0] = Window{Key: "r:books|n5:burst|i203.0." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + "/" + strconv.Itoa(i>>16), Rule: rule}
			_ = m.Allow(context.Background(), w, out)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if m.Len() != keys {
			b.Fatalf("tracked %d keys, want %d", m.Len(), keys)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/keys, "bytes/key")
		runtime.KeepAlive(m)
	}
}
