package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
)

func TestRetryIdempotentOnly(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			good := newSwitchable(t, "good")
			tests := []struct {
				method       string
				body         string
				wantStatus   int
				wantAttempts int
			}{
				{"GET", "", 200, 2},
				{"HEAD", "", 200, 2},
				{"DELETE", "", 200, 2},
				{"PUT", "", 200, 2},
				{"POST", "", 502, 1},
				{"PUT", "payload", 502, 1},
			}
			for _, tc := range tests {
				t.Run(tc.method+"-"+tc.body, func(t *testing.T) {
					obs := &recorder{}
					// The refused target comes first in round robin order
					// for the first request.
					u := newTestUpstream(t, config.Upstream{
						Targets: []string{"http://" + refusedAddr(t), good.URL},
						Retries: config.Retries{Attempts: intp(2), Backoff: config.Duration(time.Millisecond)},
					}, Options{Observer: obs, UseNetHTTP: tr.useNetHTTP})
					u.next.Store(uint64(len(u.targets)) - 1)
					g := newGateway(t, u, nil)

					var body *strings.Reader
					if tc.body != "" {
						body = strings.NewReader(tc.body)
					}
					var status int
					if body != nil {
						status, _ = g.do(t, tc.method, "/", body)
					} else {
						status, _ = g.do(t, tc.method, "/", nil)
					}
					if status != tc.wantStatus {
						t.Errorf("status = %d, want %d", status, tc.wantStatus)
					}
					res := g.lastResult()
					if res.Attempts != tc.wantAttempts {
						t.Errorf("attempts = %d, want %d", res.Attempts, tc.wantAttempts)
					}
					if got := obs.retryCount(); got != tc.wantAttempts-1 {
						t.Errorf("observed retries = %d, want %d", got, tc.wantAttempts-1)
					}
					if tc.wantStatus == 502 && res.Kind != KindConnect {
						t.Errorf("kind = %v, want connect", res.Kind)
					}
				})
			}
		})
	}
}

func TestRetryBudgetExhaustion(t *testing.T) {
	obs := &recorder{}
	clock := newFakeClock()
	u := newTestUpstream(t, config.Upstream{
		Targets: []string{"http://" + refusedAddr(t), "http://" + refusedAddr(t)},
		Retries: config.Retries{Attempts: intp(1), Backoff: config.Duration(time.Millisecond), BudgetPercent: intp(20)},
		// Keep both targets in use so that every request fails the same way.
		HealthCheck: config.HealthCheck{Passive: config.PassiveHealth{MaxFailures: -1}},
	}, Options{Observer: obs, Now: clock.Now})
	g := newGateway(t, u, nil)

	const requests = 30
	for range requests {
		if status, _ := g.do(t, "GET", "/", nil); status != http.StatusBadGateway {
			t.Fatalf("status = %d, want 502", status)
		}
	}
	// 30 requests at 20% allow 6 retries, below the floor of 10.
	if got := obs.retryCount(); got != budgetMinRetries {
		t.Errorf("retries = %d, want the budget floor %d", got, budgetMinRetries)
	}
	if res := g.lastResult(); res.Attempts != 1 {
		t.Errorf("last request made %d attempts, want 1 once the budget is spent", res.Attempts)
	}

	// The window slides: ten seconds later retries are allowed again.
	clock.Advance(11 * time.Second)
	g.do(t, "GET", "/", nil)
	if res := g.lastResult(); res.Attempts != 2 {
		t.Errorf("after the window passed the request made %d attempts, want 2", res.Attempts)
	}
}

func TestRetryBudgetPercent(t *testing.T) {
	var b retryBudget
	now := time.Unix(100, 0)
	for range 1000 {
		b.addRequest(now)
	}
	allowed := 0
	for range 500 {
		if b.tryRetry(now, 20) {
			allowed++
		}
	}
	if allowed != 200 {
		t.Errorf("allowed %d retries for 1000 requests at 20%%, want 200", allowed)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	base := 100 * time.Millisecond
	tests := []struct {
		retry    int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 200 * time.Millisecond, 400 * time.Millisecond},
		{10, 500 * time.Millisecond, time.Second},
	}
	for _, tc := range tests {
		for range 20 {
			if d := backoff(base, tc.retry); d < tc.min || d > tc.max {
				t.Errorf("backoff(%v, %d) = %v, want within [%v, %v]", base, tc.retry, d, tc.min, tc.max)
			}
		}
	}
}
