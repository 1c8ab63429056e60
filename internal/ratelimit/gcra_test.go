package ratelimit

import (
	"testing"
	"time"
)

func TestRuleEvaluate(t *testing.T) {
	r := Rule{Rate: 10, Period: time.Second, Burst: 3} // interval 100ms, limit 300ms
	ms := int64(time.Millisecond)
	const now = int64(1_000_000_000_000)
	tests := []struct {
		name          string
		tat           int64
		wantAllowed   bool
		wantTAT       int64
		wantRemaining int64
		wantReset     time.Duration
		wantRetry     time.Duration
	}{
		{"fresh key", 0, true, now + 100*ms, 2, 100 * time.Millisecond, 0},
		{"tat in past", now - 5000*ms, true, now + 100*ms, 2, 100 * time.Millisecond, 0},
		{"one used", now + 100*ms, true, now + 200*ms, 1, 200 * time.Millisecond, 0},
		{"last of burst", now + 200*ms, true, now + 300*ms, 0, 300 * time.Millisecond, 0},
		{"burst used", now + 300*ms, false, now + 300*ms, 0, 300 * time.Millisecond, 100 * time.Millisecond},
		{"partly refilled", now + 250*ms, false, now + 250*ms, 0, 250 * time.Millisecond, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tat, v := r.evaluate(tt.tat, now)
			if v.Allowed != tt.wantAllowed {
				t.Errorf("allowed = %v, want %v", v.Allowed, tt.wantAllowed)
			}
			if tat != tt.wantTAT {
				t.Errorf("tat = now%+dms, want now%+dms", (tat-now)/ms, (tt.wantTAT-now)/ms)
			}
			if v.Remaining != tt.wantRemaining {
				t.Errorf("remaining = %d, want %d", v.Remaining, tt.wantRemaining)
			}
			if v.ResetAfter != tt.wantReset {
				t.Errorf("reset after = %v, want %v", v.ResetAfter, tt.wantReset)
			}
			if v.RetryAfter != tt.wantRetry {
				t.Errorf("retry after = %v, want %v", v.RetryAfter, tt.wantRetry)
			}
		})
	}
}

func TestRuleNextUnit(t *testing.T) {
	r := Rule{Rate: 1, Period: 10 * time.Second, Burst: 5}
	tests := []struct {
		name string
		v    Verdict
		want time.Duration
	}{
		{"full", Verdict{Allowed: true, Remaining: 5}, 0},
		{"one used", Verdict{Allowed: true, Remaining: 4, ResetAfter: 10 * time.Second}, 10 * time.Second},
		{"partly refilled", Verdict{Allowed: true, Remaining: 3, ResetAfter: 13 * time.Second}, 3 * time.Second},
		{"denied", Verdict{ResetAfter: 50 * time.Second, RetryAfter: 7 * time.Second}, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.nextUnit(tt.v); got != tt.want {
				t.Errorf("nextUnit = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRuleSustainedRate checks the long-run count: over a span S starting
// from a full bucket, GCRA allows Burst + S/Interval requests.
func TestRuleSustainedRate(t *testing.T) {
	r := Rule{Rate: 100, Period: time.Minute, Burst: 20}
	var tat int64
	allowed := 0
	start := int64(0)
	for now := start; now < start+int64(10*time.Minute); now += int64(10 * time.Millisecond) {
		next, v := r.evaluate(tat, now)
		if v.Allowed {
			tat = next
			allowed++
		}
	}
	want := 20 + 1000 - 1
	if allowed < want || allowed > want+1 {
		t.Errorf("allowed %d in 10 minutes, want %d or %d", allowed, want, want+1)
	}
}
