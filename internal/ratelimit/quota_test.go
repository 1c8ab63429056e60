package ratelimit

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/store"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available (install tzdata): %v", name, err)
	}
	return loc
}

func TestPeriodBounds(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		name      string
		now       time.Time
		period    string
		loc       *time.Location
		wantStart time.Time
		wantLen   time.Duration
	}{
		{"utc day", time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC), PeriodDay, time.UTC,
			time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), 24 * time.Hour},
		{"utc month end of year", time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), PeriodMonth, time.UTC,
			time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 31 * 24 * time.Hour},
		{"february", time.Date(2028, 2, 10, 0, 0, 0, 0, time.UTC), PeriodMonth, time.UTC,
			time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC), 29 * 24 * time.Hour},
		{"local day before utc day", time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC), PeriodDay, ny,
			time.Date(2026, 3, 2, 0, 0, 0, 0, ny), 24 * time.Hour},
		{"spring forward day", time.Date(2026, 3, 8, 12, 0, 0, 0, ny), PeriodDay, ny,
			time.Date(2026, 3, 8, 0, 0, 0, 0, ny), 23 * time.Hour},
		{"fall back day", time.Date(2026, 11, 1, 12, 0, 0, 0, ny), PeriodDay, ny,
			time.Date(2026, 11, 1, 0, 0, 0, 0, ny), 25 * time.Hour},
		{"month with spring forward", time.Date(2026, 3, 20, 0, 0, 0, 0, ny), PeriodMonth, ny,
			time.Date(2026, 3, 1, 0, 0, 0, 0, ny), 31*24*time.Hour - time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end := periodBounds(tt.now, tt.period, tt.loc)
			if !start.Equal(tt.wantStart) {
				t.Errorf("start = %v, want %v", start, tt.wantStart)
			}
			if got := end.Sub(start); got != tt.wantLen {
				t.Errorf("length = %v, want %v", got, tt.wantLen)
			}
		})
	}
}

// quotaSetup returns a stage with a plan quota of 3 requests per period
// for consumer "alice".
func quotaSetup(t *testing.T, period, zone string, clock *fakeClock, st store.Store) (*Limiter, *Stage) {
	t.Helper()
	cfg := config.RateLimit{TimeZone: zone, Plans: map[string]config.Plan{
		"free": {Quotas: []config.Quota{{Name: "calls", Period: period, Requests: 3}}},
	}}
	l := newTestLimiter(t, cfg, clock, st)
	return l, newTestStage(t, l, nil)
}

func checkN(s *Stage, id *pipeline.Identity, n int) (allowed int, last pipeline.Result) {
	for range n {
		last = s.Check(context.Background(), exchange("192.0.2.1", id))
		if last.Decision == pipeline.Allow {
			allowed++
		}
	}
	return allowed, last
}

func TestQuotaCalendarReset(t *testing.T) {
	tests := []struct {
		name      string
		period    string
		zone      string
		start     string // RFC 3339, shortly before the boundary
		boundary  string // RFC 3339, the next period's start
		wantRetry int64
	}{
		{"utc day", PeriodDay, "UTC", "2026-03-02T23:59:00Z", "2026-03-03T00:00:00Z", 60},
		{"utc month", PeriodMonth, "UTC", "2026-01-31T23:00:00Z", "2026-02-01T00:00:00Z", 3600},
		{"berlin day", PeriodDay, "Europe/Berlin", "2026-03-02T22:30:00Z", "2026-03-02T23:00:00Z", 1800},
		{"new york spring forward", PeriodDay, "America/New_York", "2026-03-08T12:00:00-04:00", "2026-03-09T00:00:00-04:00", 12 * 3600},
		{"new york fall back", PeriodDay, "America/New_York", "2026-11-01T00:30:00-04:00", "2026-11-02T00:00:00-05:00", 24*3600 + 1800},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustZone(t, tt.zone)
			start, _ := time.Parse(time.RFC3339, tt.start)
			boundary, _ := time.Parse(time.RFC3339, tt.boundary)
			clock := newFakeClock(start)
			_, s := quotaSetup(t, tt.period, tt.zone, clock, nil)
			id := consumer("alice", "free")

			allowed, last := checkN(s, id, 5)
			if allowed != 3 {
				t.Fatalf("allowed %d of 5, want 3", allowed)
			}
			if last.Problem != "quota-exceeded" || last.Status != http.StatusTooManyRequests {
				t.Errorf("denial = %d %q, want 429 quota-exceeded", last.Status, last.Problem)
			}
			if got := last.Headers.Get(HeaderRetryAfter); got != strconv.FormatInt(tt.wantRetry, 10) {
				t.Errorf("Retry-After = %s, want %d (seconds to the local period end)", got, tt.wantRetry)
			}

			clock.Set(boundary.Add(-time.Second))
			if allowed, _ := checkN(s, id, 1); allowed != 0 {
				t.Errorf("allowed one second before the boundary, want denied")
			}
			clock.Set(boundary)
			if allowed, _ := checkN(s, id, 5); allowed != 3 {
				t.Errorf("allowed %d of 5 in the next period, want 3", allowed)
			}
		})
	}
}

func TestQuotaHeaders(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC))
	_, s := quotaSetup(t, PeriodDay, "UTC", clock, nil)
	res := s.Check(context.Background(), exchange("192.0.2.1", consumer("alice", "free")))
	if got, want := res.Headers.Get(HeaderPolicy), `"calls";q=3;w=86400`; got != want {
		t.Errorf("%s = %q, want %q", HeaderPolicy, got, want)
	}
	if got, want := res.Headers.Get(HeaderRateLimit), `"calls";r=2;t=21600`; got != want {
		t.Errorf("%s = %q, want %q", HeaderRateLimit, got, want)
	}
}

func TestQuotaPersistsAcrossRestart(t *testing.T) {
	st := newQuotaStore()
	clock := newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	l1, s1 := quotaSetup(t, PeriodDay, "UTC", clock, st)
	id := consumer("alice", "free")
	if allowed, _ := checkN(s1, id, 2); allowed != 2 {
		t.Fatalf("allowed %d of 2, want 2", allowed)
	}
	if st.adds != 0 {
		t.Errorf("store written %d times before a flush, want 0", st.adds)
	}
	if err := l1.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	dayStart := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	if got := st.stored("alice", "calls", dayStart).Requests; got != 2 {
		t.Fatalf("stored requests after stop = %d, want 2", got)
	}

	_, s2 := quotaSetup(t, PeriodDay, "UTC", clock, st)
	if allowed, _ := checkN(s2, id, 3); allowed != 1 {
		t.Errorf("allowed %d of 3 after restart, want 1 (2 of 3 used before)", allowed)
	}
}

// TestQuotaSharedStore has two nodes count against one stored quota. Each
// node reads the other's usage from the totals that its own flush returns.
func TestQuotaSharedStore(t *testing.T) {
	st := newQuotaStore()
	clock := newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	cfg := config.RateLimit{Plans: map[string]config.Plan{
		"free": {Quotas: []config.Quota{{Name: "calls", Period: PeriodDay, Requests: 10}}},
	}}
	l1 := newTestLimiter(t, cfg, clock, st)
	l2 := newTestLimiter(t, cfg, clock, st)
	s1, s2 := newTestStage(t, l1, nil), newTestStage(t, l2, nil)
	id := consumer("alice", "free")
	checkN(s1, id, 4)
	checkN(s2, id, 4)
	for _, l := range []*Limiter{l1, l2} {
		if err := l.Flush(context.Background()); err != nil {
			t.Fatalf("Flush: %v", err)
		}
	}
	if err := l1.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	// Node 1 saw its own total (4) at its flush, then node 2's flush made
	// it 8; the second flush has nothing pending, so node 1 still counts
	// from its last view until it writes again.
	checkN(s1, id, 1)
	if err := l1.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if allowed, _ := checkN(s1, id, 5); allowed != 1 {
		t.Errorf("node 1 allowed %d of 5, want 1 (9 of 10 used across nodes)", allowed)
	}
}

func TestQuotaResponseBytes(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	cfg := config.RateLimit{}
	l := newTestLimiter(t, cfg, clock, nil)
	s := newTestStage(t, l, &config.RouteRateLimit{Quotas: []config.Quota{
		{Name: "egress", Period: PeriodDay, ResponseBytes: 1000},
	}})
	id := consumer("alice", "")
	for i, size := range []int64{400, 500} {
		x := exchange("192.0.2.1", id)
		if res := s.Check(context.Background(), x); res.Decision != pipeline.Allow {
			t.Fatalf("request %d: decision = %v, want allow", i+1, res.Decision)
		}
		x.Record(StageName, pipeline.Allowed)
		s.Finish(x, 200, size)
	}
	x := exchange("192.0.2.1", id)
	res := s.Check(context.Background(), x)
	if res.Decision != pipeline.Allow {
		t.Fatalf("third request with 900 of 1000 bytes used: decision = %v, want allow", res.Decision)
	}
	if got, want := res.Headers.Get(HeaderRateLimit), `"egress";r=100;t=50400`; got != want {
		t.Errorf("%s = %q, want %q", HeaderRateLimit, got, want)
	}
	x.Record(StageName, res)
	s.Finish(x, 200, 200)
	if res := s.Check(context.Background(), exchange("192.0.2.1", id)); res.Problem != "quota-exceeded" {
		t.Errorf("after 1100 of 1000 bytes: problem = %q, want quota-exceeded", res.Problem)
	}

	denied := exchange("192.0.2.1", id)
	denied.Record(StageName, pipeline.Result{Decision: pipeline.Deny})
	s.Finish(denied, 429, 300)
	deniedLater := exchange("192.0.2.1", id)
	deniedLater.Record(StageName, pipeline.Allowed)
	deniedLater.Record("waf", pipeline.Result{Decision: pipeline.Deny})
	s.Finish(deniedLater, 403, 300)
	notRun := exchange("192.0.2.1", id)
	notRun.Record("authz", pipeline.Allowed)
	s.Finish(notRun, 200, 300)
	usage, err := l.Usage(context.Background(), "alice")
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if len(usage) != 1 || usage[0].Bytes != 1100 {
		t.Errorf("usage = %+v, want one quota with 1100 bytes (denied responses not counted)", usage)
	}
}

func TestQuotaNotConsumedByRateLimitDenial(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	l := newTestLimiter(t, config.RateLimit{}, clock, nil)
	s := newTestStage(t, l, &config.RouteRateLimit{
		Limits: []config.Limit{limit("fast", "consumer", 1, time.Minute, 1)},
		Quotas: []config.Quota{{Name: "calls", Period: PeriodDay, Requests: 100}},
	})
	checkN(s, consumer("alice", ""), 5)
	usage, err := l.Usage(context.Background(), "alice")
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if len(usage) != 1 || usage[0].Requests != 1 {
		t.Errorf("usage = %+v, want 1 request (4 were denied by the rate limit)", usage)
	}
}

func TestUsage(t *testing.T) {
	st := newQuotaStore()
	st.consumers["alice"] = &store.Consumer{ID: "alice", Plan: "free", Metadata: map[string]string{"quota.calls.requests": "50"}}
	clock := newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	cfg := config.RateLimit{Plans: map[string]config.Plan{
		"free": {Quotas: []config.Quota{
			{Name: "calls", Period: PeriodDay, Requests: 10},
			{Name: "monthly", Period: PeriodMonth, Requests: 100, ResponseBytes: 1 << 20},
		}},
	}}
	l := newTestLimiter(t, cfg, clock, st)
	s := newTestStage(t, l, nil)
	id := withMeta(consumer("alice", "free"), "quota.calls.requests", "50")
	checkN(s, id, 3)
	if err := l.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	checkN(s, id, 2)

	usage, err := l.Usage(context.Background(), "alice")
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if len(usage) != 2 {
		t.Fatalf("got %d quotas, want 2: %+v", len(usage), usage)
	}
	calls, monthly := usage[0], usage[1]
	if calls.Name != "calls" || calls.Requests != 5 || calls.RequestsLimit != 50 {
		t.Errorf("calls = %+v, want 5 of 50 requests (override applied, flushed plus pending)", calls)
	}
	if !calls.ResetAt.Equal(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("calls reset at %v, want the next midnight", calls.ResetAt)
	}
	if monthly.Requests != 5 || monthly.BytesLimit != 1<<20 || monthly.Period != PeriodMonth {
		t.Errorf("monthly = %+v, want 5 requests and a 1MiB byte limit", monthly)
	}

	if _, err := l.Usage(context.Background(), "nobody"); err == nil {
		t.Errorf("Usage of an unknown consumer: no error, want not found")
	}
}

func TestQuotaStoreDownFailsOpen(t *testing.T) {
	st := newQuotaStore()
	st.fail = true
	clock := newFakeClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	obs := newRecordingObserver()
	cfg := config.RateLimit{Plans: map[string]config.Plan{
		"free": {Quotas: []config.Quota{{Name: "calls", Period: PeriodDay, Requests: 3}}},
	}}
	l, err := New(cfg, Options{Logger: quietLogger(), Now: clock.Now, Store: st, Observer: obs})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s := newTestStage(t, l, nil)
	if allowed, _ := checkN(s, consumer("alice", "free"), 5); allowed != 3 {
		t.Errorf("allowed %d of 5 with the store down, want 3 (counted in memory)", allowed)
	}
	if err := l.Flush(context.Background()); err == nil {
		t.Errorf("Flush with the store down: no error, want one")
	}
	if obs.flushErrs != 1 {
		t.Errorf("observer saw %d flush failures, want 1", obs.flushErrs)
	}
	st.fail = false
	if err := l.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after the store came back: %v", err)
	}
	if got := st.stored("alice", "calls", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)).Requests; got != 3 {
		t.Errorf("stored requests = %d, want 3 kept through the failed flush", got)
	}
}
