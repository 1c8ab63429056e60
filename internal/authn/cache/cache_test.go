package cache

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestStates(t *testing.T) {
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := New[string, int](10, clk.Now)
	c.Set("a", 1, clk.now.Add(time.Second), clk.now.Add(time.Minute))
	tests := []struct {
		name      string
		advance   time.Duration
		wantValue int
		wantState State
	}{
		{"fresh", 0, 1, Fresh},
		{"stale", time.Second, 1, Stale},
		{"still stale", 58 * time.Second, 1, Stale},
		{"missing", time.Second, 0, Missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.now = clk.now.Add(tt.advance)
			v, st := c.Get("a")
			if v != tt.wantValue || st != tt.wantState {
				t.Errorf("Get = %d, %v, want %d, %v", v, st, tt.wantValue, tt.wantState)
			}
		})
	}
}

func TestStaleRaisedToFresh(t *testing.T) {
	clk := &clock{now: time.Unix(0, 0)}
	c := New[string, int](10, clk.Now)
	c.Set("a", 1, clk.now.Add(time.Minute), clk.now)
	clk.now = clk.now.Add(30 * time.Second)
	if _, st := c.Get("a"); st != Fresh {
		t.Errorf("state = %v, want Fresh", st)
	}
}

func TestBounded(t *testing.T) {
	clk := &clock{now: time.Unix(0, 0)}
	c := New[int, int](100, clk.Now)
	for i := range 1000 {
		c.Set(i, i, clk.now.Add(time.Hour), clk.now.Add(time.Hour))
		if n := c.Len(); n > 100 {
			t.Fatalf("Len = %d after %d sets, want at most 100", n, i+1)
		}
	}
	if _, st := c.Get(999); st != Fresh {
		t.Errorf("latest entry state = %v, want Fresh", st)
	}
}

func TestEvictsExpiredFirst(t *testing.T) {
	clk := &clock{now: time.Unix(0, 0)}
	c := New[int, int](4, clk.Now)
	c.Set(1, 1, clk.now.Add(time.Second), clk.now.Add(time.Second))
	for i := 2; i <= 4; i++ {
		c.Set(i, i, clk.now.Add(time.Hour), clk.now.Add(time.Hour))
	}
	clk.now = clk.now.Add(2 * time.Second)
	c.Set(5, 5, clk.now.Add(time.Hour), clk.now.Add(time.Hour))
	for i := 2; i <= 5; i++ {
		if _, st := c.Get(i); st != Fresh {
			t.Errorf("entry %d state = %v, want Fresh", i, st)
		}
	}
}

func TestDelete(t *testing.T) {
	c := New[string, int](10, nil)
	far := time.Now().Add(time.Hour)
	c.Set("a", 1, far, far)
	c.Set("b", 2, far, far)
	c.Set("c", 3, far, far)
	c.Delete("a")
	c.DeleteFunc(func(_ string, v int) bool { return v == 2 })
	if got := c.Len(); got != 1 {
		t.Errorf("Len = %d, want 1", got)
	}
	if v, st := c.Get("c"); v != 3 || st != Fresh {
		t.Errorf("Get(c) = %d, %v, want 3, Fresh", v, st)
	}
}

func TestConcurrent(t *testing.T) {
	c := New[string, int](50, nil)
	far := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				k := strconv.Itoa(w*1000 + i)
				c.Set(k, i, far, far)
				c.Get(k)
				if i%10 == 0 {
					c.Delete(k)
				}
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n > 50 {
		t.Errorf("Len = %d, want at most 50", n)
	}
}
