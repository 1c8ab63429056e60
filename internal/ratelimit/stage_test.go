package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

func TestStageHeaders(t *testing.T) {
	clock := newFakeClock(epoch)
	l := newTestLimiter(t, config.RateLimit{}, clock, nil)
	s := newTestStage(t, l, &config.RouteRateLimit{Limits: []config.Limit{
		limit("burst", "ip", 100, time.Minute, 0),
	}})

	x := exchange("203.0.113.7", nil)
	res := s.Check(context.Background(), x)
	if res.Decision != pipeline.Allow {
		t.Fatalf("decision = %v, want allow", res.Decision)
	}
	if got, want := res.Headers.Get(HeaderPolicy), `"burst";q=100;w=60`; got != want {
		t.Errorf("%s = %q, want %q", HeaderPolicy, got, want)
	}
	// One request used: 99 left, and the next unit returns in 600ms,
	// rounded up to 1s.
	if got, want := res.Headers.Get(HeaderRateLimit), `"burst";r=99;t=1`; got != want {
		t.Errorf("%s = %q, want %q", HeaderRateLimit, got, want)
	}
	if got := x.Attrs["ratelimit.limit"]; got != "burst" {
		t.Errorf("attr ratelimit.limit = %v, want burst", got)
	}
	if got := x.Attrs["ratelimit.remaining"]; got != int64(99) {
		t.Errorf("attr ratelimit.remaining = %v, want 99", got)
	}
	if got := x.Attrs["ratelimit.key_kind"]; got != "ip" {
		t.Errorf("attr ratelimit.key_kind = %v, want ip", got)
	}
}

func TestStageHeadersOff(t *testing.T) {
	off := false
	l := newTestLimiter(t, config.RateLimit{Headers: &off}, newFakeClock(epoch), nil)
	s := newTestStage(t, l, &config.RouteRateLimit{Limits: []config.Limit{limit("a", "ip", 1, time.Second, 1)}})
	if res := s.Check(context.Background(), exchange("192.0.2.1", nil)); res.Headers != nil {
		t.Errorf("allow headers = %v, want none", res.Headers)
	}
	res := s.Check(context.Background(), exchange("192.0.2.1", nil))
	if res.Decision != pipeline.Deny {
		t.Fatalf("second request: decision = %v, want deny", res.Decision)
	}
	if got := res.Headers.Get(HeaderRetryAfter); got != "1" {
		t.Errorf("Retry-After = %q, want \"1\" even with headers off", got)
	}
	if res.Headers.Get(HeaderRateLimit) != "" {
		t.Errorf("RateLimit header present with headers off")
	}
}

func TestStageDeny(t *testing.T) {
	clock := newFakeClock(epoch)
	l := newTestLimiter(t, config.RateLimit{}, clock, nil)
	s := newTestStage(t, l, &config.RouteRateLimit{Limits: []config.Limit{
		limit("per-second", "route+consumer", 2, time.Second, 0),
		limit("per-minute", "consumer", 30, time.Minute, 0),
	}})
	id := consumer("alice", "")
	for i := range 2 {
		if res := s.Check(context.Background(), exchange("192.0.2.1", id)); res.Decision != pipeline.Allow {
			t.Fatalf("request %d: decision = %v, want allow", i+1, res.Decision)
		}
	}
	x := exchange("192.0.2.1", id)
	res := s.Check(context.Background(), x)
	if res.Decision != pipeline.Deny || res.Status != http.StatusTooManyRequests {
		t.Fatalf("third request: decision %v status %d, want deny 429", res.Decision, res.Status)
	}
	if res.Problem != "rate-limited" || res.Reason != ReasonRateLimited {
		t.Errorf("problem %q reason %q, want rate-limited and %s", res.Problem, res.Reason, ReasonRateLimited)
	}
	if got := res.Headers.Get(HeaderRetryAfter); got != "1" {
		t.Errorf("Retry-After = %q, want \"1\" (500ms rounded up)", got)
	}
	wantPolicy := `"per-second";q=2;w=1, "per-minute";q=30;w=60`
	if got := res.Headers.Get(HeaderPolicy); got != wantPolicy {
		t.Errorf("%s = %q, want %q", HeaderPolicy, got, wantPolicy)
	}
	wantLimit := `"per-second";r=0;t=1, "per-minute";r=28;t=2`
	if got := res.Headers.Get(HeaderRateLimit); got != wantLimit {
		t.Errorf("%s = %q, want %q", HeaderRateLimit, got, wantLimit)
	}
	if got := x.Attrs["ratelimit.limit"]; got != "per-second" {
		t.Errorf("attr ratelimit.limit = %v, want per-second", got)
	}
	if got := x.Attrs["ratelimit.key_kind"]; got != "route+consumer" {
		t.Errorf("attr ratelimit.key_kind = %v, want route+consumer", got)
	}

	other := s.Check(context.Background(), exchange("192.0.2.1", consumer("bob", "")))
	if other.Decision != pipeline.Allow {
		t.Errorf("another consumer: decision = %v, want allow (own bucket)", other.Decision)
	}
}

func TestStageAnonymousFallsBackToIP(t *testing.T) {
	l := newTestLimiter(t, config.RateLimit{}, newFakeClock(epoch), nil)
	s := newTestStage(t, l, &config.RouteRateLimit{Limits: []config.Limit{limit("c", "consumer", 1, time.Minute, 1)}})
	x := exchange("198.51.100.1", nil)
	if res := s.Check(context.Background(), x); res.Decision != pipeline.Allow {
		t.Fatalf("decision = %v, want allow", res.Decision)
	}
	if got := x.Attrs["ratelimit.key_kind"]; got != "ip" {
		t.Errorf("key kind = %v, want ip for an anonymous request", got)
	}
	if res := s.Check(context.Background(), exchange("198.51.100.1", nil)); res.Decision != pipeline.Deny {
		t.Errorf("same IP: decision = %v, want deny", res.Decision)
	}
	if res := s.Check(context.Background(), exchange("198.51.100.2", nil)); res.Decision != pipeline.Allow {
		t.Errorf("other IP: decision = %v, want allow", res.Decision)
	}
}

func TestStageIPv6Aggregation(t *testing.T) {
	tests := []struct {
		name       string
		prefix     int
		first      string
		second     string
		sameBucket bool
	}{
		{"same /64", 0, "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
		{"other /64", 0, "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"same /48 when configured", 48, "2001:db8:1:2::1", "2001:db8:1:3::1", true},
		{"mapped IPv4 is IPv4", 0, "::ffff:192.0.2.10", "192.0.2.10", true},
		{"IPv4 not aggregated", 0, "192.0.2.10", "192.0.2.11", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLimiter(t, config.RateLimit{IPv6Prefix: tt.prefix}, newFakeClock(epoch), nil)
			s := newTestStage(t, l, &config.RouteRateLimit{Limits: []config.Limit{limit("ip", "ip", 1, time.Minute, 1)}})
			s.Check(context.Background(), exchange(tt.first, nil))
			res := s.Check(context.Background(), exchange(tt.second, nil))
			if got := res.Decision == pipeline.Deny; got != tt.sameBucket {
				t.Errorf("second address denied = %v, want %v", got, tt.sameBucket)
			}
		})
	}
}

func TestStagePlanAndOverrides(t *testing.T) {
	cfg := config.RateLimit{Plans: map[string]config.Plan{
		"free": {Limits: []config.Limit{limit("plan-rate", "consumer", 2, time.Minute, 0)}},
	}}
	tests := []struct {
		name     string
		route    *config.RouteRateLimit
		identity *pipeline.Identity
		want     int // allowed out of 10
	}{
		{"plan applies", nil, consumer("a", "free"), 2},
		{"plan turned off on route", &config.RouteRateLimit{Plan: new(bool)}, consumer("a", "free"), 10},
		{"unknown plan", nil, consumer("a", "gold"), 10},
		{"anonymous has no plan", nil, nil, 10},
		{"rate override", nil, withMeta(consumer("a", "free"), "ratelimit.plan-rate.rate", "5"), 5},
		{"burst override", nil, withMeta(consumer("a", "free"), "ratelimit.plan-rate.burst", "3"), 3},
		{"unlimited", nil, withMeta(consumer("a", "free"), "ratelimit.plan-rate.rate", Unlimited), 10},
		{"invalid override ignored", nil, withMeta(consumer("a", "free"), "ratelimit.plan-rate.rate", "-4"), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLimiter(t, cfg, newFakeClock(epoch), nil)
			s := newTestStage(t, l, tt.route)
			allowed := 0
			for range 10 {
				if s.Check(context.Background(), exchange("192.0.2.1", tt.identity)).Decision == pipeline.Allow {
					allowed++
				}
			}
			if allowed != tt.want {
				t.Errorf("allowed %d of 10, want %d", allowed, tt.want)
			}
		})
	}
}

func withMeta(id *pipeline.Identity, kv ...string) *pipeline.Identity {
	id.Metadata = map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		id.Metadata[kv[i]] = kv[i+1]
	}
	return id
}

func TestStageNoLimits(t *testing.T) {
	l := newTestLimiter(t, config.RateLimit{}, newFakeClock(epoch), nil)
	s := newTestStage(t, l, nil)
	res := s.Check(context.Background(), exchange("192.0.2.1", nil))
	if res.Decision != pipeline.Allow || res.Headers != nil {
		t.Errorf("result = %+v, want a plain allow", res)
	}
}

func TestNewStageErrors(t *testing.T) {
	tests := []struct {
		name     string
		cfg      config.RouteRateLimit
		wantPath string
	}{
		{"missing rate", config.RouteRateLimit{Limits: []config.Limit{{Name: "a"}}}, "routes[3].rate_limit.limits[0].rate"},
		{"bad key", config.RouteRateLimit{Limits: []config.Limit{{Rate: 1, Key: "user"}}}, "routes[3].rate_limit.limits[0].key"},
		{"repeated key part", config.RouteRateLimit{Limits: []config.Limit{{Rate: 1, Key: "ip+ip"}}}, "routes[3].rate_limit.limits[0].key"},
		{"rate too high", config.RouteRateLimit{Limits: []config.Limit{{Rate: 2_000_000}}}, "routes[3].rate_limit.limits[0].rate"},
		{"negative burst", config.RouteRateLimit{Limits: []config.Limit{{Rate: 1, Burst: -1}}}, "routes[3].rate_limit.limits[0].burst"},
		{"bad name", config.RouteRateLimit{Limits: []config.Limit{{Rate: 1, Name: `a"b`}}}, "routes[3].rate_limit.limits[0].name"},
		{"duplicate name", config.RouteRateLimit{Limits: []config.Limit{{Rate: 1, Name: "x"}, {Rate: 2, Name: "x"}}}, "routes[3].rate_limit.limits[1].name"},
		{"bad quota period", config.RouteRateLimit{Quotas: []config.Quota{{Period: "week", Requests: 1}}}, "routes[3].rate_limit.quotas[0].period"},
		{"empty quota", config.RouteRateLimit{Quotas: []config.Quota{{Period: "day"}}}, "routes[3].rate_limit.quotas[0]"},
	}
	l := newTestLimiter(t, config.RateLimit{}, newFakeClock(epoch), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewStage(l, "books", &tt.cfg, "routes[3].rate_limit")
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error = %v, want config.Errors", err)
			}
			if errs[0].Path != tt.wantPath {
				t.Errorf("path = %q, want %q (message %q)", errs[0].Path, tt.wantPath, errs[0].Message)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name     string
		cfg      config.RateLimit
		wantPath string
	}{
		{"backend", config.RateLimit{Backend: "memcached"}, "rate_limit.backend"},
		{"fail mode", config.RateLimit{FailMode: "maybe"}, "rate_limit.fail_mode"},
		{"ipv6 prefix", config.RateLimit{IPv6Prefix: 129}, "rate_limit.ipv6_prefix"},
		{"time zone", config.RateLimit{TimeZone: "Mars/Olympus"}, "rate_limit.time_zone"},
		{"plan limit", config.RateLimit{Plans: map[string]config.Plan{"free": {Limits: []config.Limit{{Rate: 0}}}}}, "rate_limit.plans.free.limits[0].rate"},
		{"plan quota", config.RateLimit{Plans: map[string]config.Plan{"free": {Quotas: []config.Quota{{Period: "year", Requests: 5}}}}}, "rate_limit.plans.free.quotas[0].period"},
		{"password file", config.RateLimit{Backend: "redis", Redis: config.Redis{PasswordFile: "/nonexistent/redis-password"}}, "rate_limit.redis.password_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, Options{Logger: quietLogger()})
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error = %v, want config.Errors", err)
			}
			if errs[0].Path != tt.wantPath {
				t.Errorf("path = %q, want %q (message %q)", errs[0].Path, tt.wantPath, errs[0].Message)
			}
			if strings.TrimSpace(errs[0].Message) == "" {
				t.Errorf("empty message for %s", errs[0].Path)
			}
		})
	}
}

// BenchmarkStageCheck measures a whole check on the memory backend: a
// route limit per IP and a plan limit per consumer, headers included.
func BenchmarkStageCheck(b *testing.B) {
	cfg := config.RateLimit{Plans: map[string]config.Plan{
		"free": {Limits: []config.Limit{limit("plan", "consumer", 1_000_000, time.Second, 0)}},
	}}
	l, err := New(cfg, Options{Logger: quietLogger()})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	st, err := NewStage(l, "books", &config.RouteRateLimit{Limits: []config.Limit{
		limit("ip", "ip", 1_000_000, time.Second, 0),
	}}, "routes[0].rate_limit")
	if err != nil {
		b.Fatalf("NewStage: %v", err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		x := exchange("2001:db8::1", consumer("alice", "free"))
		for pb.Next() {
			x.Attrs = nil
			if res := st.Check(context.Background(), x); res.Decision != pipeline.Allow {
				b.Fatalf("decision = %v, want allow", res.Decision)
			}
		}
	})
}
