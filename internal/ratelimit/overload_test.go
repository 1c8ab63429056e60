package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

func TestConcurrencyFull(t *testing.T) {
	c := NewConcurrency(2, 0, time.Second)
	r1, ok1 := c.Acquire(context.Background())
	_, ok2 := c.Acquire(context.Background())
	if !ok1 || !ok2 {
		t.Fatalf("first two acquires: %v %v, want both ok", ok1, ok2)
	}
	start := time.Now()
	if _, ok := c.Acquire(context.Background()); ok {
		t.Fatalf("third acquire without a queue: ok, want refused")
	}
	if waited := time.Since(start); waited > 50*time.Millisecond {
		t.Errorf("refusal took %v, want immediate without a queue", waited)
	}
	if c.InFlight() != 2 {
		t.Errorf("in flight = %d, want 2", c.InFlight())
	}
	r1()
	if _, ok := c.Acquire(context.Background()); !ok {
		t.Errorf("acquire after a release: refused, want ok")
	}
}

func TestConcurrencyQueue(t *testing.T) {
	c := NewConcurrency(1, 1, 2*time.Second)
	release, _ := c.Acquire(context.Background())

	got := make(chan bool, 1)
	go func() {
		r, ok := c.Acquire(context.Background())
		if ok {
			r()
		}
		got <- ok
	}()
	waitFor(t, func() bool { return c.Waiting() == 1 })

	if _, ok := c.Acquire(context.Background()); ok {
		t.Errorf("acquire with the queue full: ok, want refused")
	}
	release()
	if ok := <-got; !ok {
		t.Errorf("queued acquire: refused, want the released slot")
	}
}

func TestConcurrencyQueueTimeout(t *testing.T) {
	c := NewConcurrency(1, 4, 30*time.Millisecond)
	release, _ := c.Acquire(context.Background())
	defer release()
	start := time.Now()
	if _, ok := c.Acquire(context.Background()); ok {
		t.Fatalf("acquire while full: ok, want refused after the queue timeout")
	}
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Errorf("refused after %v, want after the 30ms queue timeout", waited)
	}
	if c.Waiting() != 0 {
		t.Errorf("waiting = %d after a timeout, want 0", c.Waiting())
	}
}

func TestConcurrencyContextCancel(t *testing.T) {
	c := NewConcurrency(1, 4, time.Minute)
	release, _ := c.Acquire(context.Background())
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, ok := c.Acquire(ctx); ok {
		t.Errorf("acquire with an ended context: ok, want refused")
	}
}

func TestConcurrencyNoLimit(t *testing.T) {
	var c *Concurrency
	for range 100 {
		release, ok := c.Acquire(context.Background())
		if !ok {
			t.Fatalf("nil limit refused a request")
		}
		release()
	}
	if NewConcurrency(0, 10, time.Second) != nil {
		t.Errorf("NewConcurrency(0, ...) is not nil, want no limit")
	}
}

func TestConcurrencyBounded(t *testing.T) {
	c := NewConcurrency(4, 8, 200*time.Millisecond)
	var mu sync.Mutex
	inside, peak, refused := 0, 0, 0
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, ok := c.Acquire(context.Background())
			mu.Lock()
			if !ok {
				refused++
				mu.Unlock()
				return
			}
			inside++
			peak = max(peak, inside)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			release()
		}()
	}
	wg.Wait()
	if peak > 4 {
		t.Errorf("peak in flight = %d, want at most 4", peak)
	}
	if refused == 0 {
		t.Errorf("no request refused with 40 at once, 4 slots and 8 queue places")
	}
}

func TestOverloadedResult(t *testing.T) {
	res := OverloadedResult()
	if res.Decision != pipeline.Deny || res.Status != http.StatusServiceUnavailable {
		t.Errorf("result = %v %d, want deny 503", res.Decision, res.Status)
	}
	if res.Headers.Get(HeaderRetryAfter) != "1" {
		t.Errorf("Retry-After = %q, want 1", res.Headers.Get(HeaderRetryAfter))
	}
}

func TestNewOverload(t *testing.T) {
	tests := []struct {
		name     string
		cfg      config.Overload
		wantPath string
		wantNil  bool
	}{
		{"off", config.Overload{}, "", true},
		{"on", config.Overload{MaxInFlight: 100, QueueSize: 10}, "", false},
		{"negative", config.Overload{MaxInFlight: -1}, "rate_limit.overload.max_in_flight", true},
		{"queue without limit", config.Overload{QueueSize: 5}, "rate_limit.overload.queue_size", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewOverload(tt.cfg, "rate_limit.overload")
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("error = %v, want none", err)
				}
				if (c == nil) != tt.wantNil {
					t.Errorf("limit nil = %v, want %v", c == nil, tt.wantNil)
				}
				return
			}
			var errs config.Errors
			if !errors.As(err, &errs) || errs[0].Path != tt.wantPath {
				t.Errorf("error = %v, want a field error at %s", err, tt.wantPath)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkConcurrencyAcquire(b *testing.B) {
	c := NewConcurrency(1024, 0, time.Second)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if release, ok := c.Acquire(context.Background()); ok {
				release()
			}
		}
	})
}
