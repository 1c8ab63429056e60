package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/ratelimit"
	"github.com/warden-api/warden/internal/store"
)

// usageLimiter returns an option that serves usage from a limiter over
// the env's store and clock, with quotas in Europe/Berlin. Plan "gold" has
// a daily request quota and a monthly byte quota. Route "search" has its
// own daily quota "hits".
func usageLimiter(t *testing.T) func(*Options) {
	return func(o *Options) {
		l, err := ratelimit.New(config.RateLimit{
			TimeZone: "Europe/Berlin",
			Plans: map[string]config.Plan{"gold": {Quotas: []config.Quota{
				{Name: "daily", Period: "day", Requests: 1000},
				{Name: "egress", Period: "month", ResponseBytes: 1 << 30},
			}}},
		}, ratelimit.Options{Store: o.Store, Now: o.Now})
		if err != nil {
			t.Fatalf("ratelimit.New: %v", err)
		}
		t.Cleanup(func() { _ = l.Stop(context.Background()) })
		_, err = ratelimit.NewStage(l, "search", &config.RouteRateLimit{
			Quotas: []config.Quota{{Name: "hits", Period: "day", Requests: 100}},
		}, "routes[0].rate_limit")
		if err != nil {
			t.Fatalf("ratelimit.NewStage: %v", err)
		}
		o.Usage = l.Usage
	}
}

func ptr(n int64) *int64 { return &n }

func TestConsumerUsage(t *testing.T) {
	e := newEnv(t, usageLimiter(t))
	viewer := e.createToken(store.RoleViewer)
	e.createConsumer(ConsumerCreate{ID: "acme", Plan: "gold", Metadata: map[string]string{"quota.daily.requests": "2000"}})

	// The clock is 2025-06-01 12:00 UTC, 14:00 in Berlin, so the day and
	// the month both began at 22:00 UTC the day before.
	berlinMidnight := time.Date(2025, 5, 31, 22, 0, 0, 0, time.UTC)
	for _, u := range []store.QuotaUsage{
		{ConsumerID: "acme", Quota: "daily", PeriodStart: berlinMidnight, Requests: 42},
		{ConsumerID: "acme", Quota: "egress", PeriodStart: berlinMidnight, Requests: 42, Bytes: 5000},
		{ConsumerID: "acme", Quota: "search/hits", PeriodStart: berlinMidnight, Requests: 7},
		// Usage of the previous day is not reported.
		{ConsumerID: "acme", Quota: "daily", PeriodStart: berlinMidnight.Add(-24 * time.Hour), Requests: 900},
	} {
		if _, err := e.store.AddQuotaUsage(context.Background(), u); err != nil {
			t.Fatalf("AddQuotaUsage: %v", err)
		}
	}

	r := e.do(t, "GET", "/admin/consumers/acme/usage", viewer.Token, nil)
	wantStatus(t, "usage", r, http.StatusOK)
	got := decode[ConsumerUsage](t, r)
	dayEnd := berlinMidnight.Add(24 * time.Hour)
	monthEnd := time.Date(2025, 6, 30, 22, 0, 0, 0, time.UTC)
	want := ConsumerUsage{ConsumerID: "acme", Plan: "gold", Quotas: []QuotaUsage{
		{Name: "daily", Period: "day", PeriodStart: berlinMidnight, PeriodEnd: dayEnd, RequestsUsed: 42, RequestsAllowed: ptr(2000)},
		{Name: "egress", Period: "month", PeriodStart: berlinMidnight, PeriodEnd: monthEnd, RequestsUsed: 42, BytesUsed: 5000, BytesAllowed: ptr(1 << 30)},
		{Name: "search/hits", Route: "search", Period: "day", PeriodStart: berlinMidnight, PeriodEnd: dayEnd, RequestsUsed: 7, RequestsAllowed: ptr(100)},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("usage:\n got %s\nwant %s", formatUsage(got), formatUsage(want))
	}
	if body := string(r.body); strings.Contains(body, "requests_allowed\":0") || strings.Contains(body, "bytes_allowed\":0") {
		t.Errorf("body: got %s, want no allowance of 0", body)
	}
}

// formatUsage prints the allowances' values, which %+v shows as pointers.
func formatUsage(u ConsumerUsage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s plan=%s", u.ConsumerID, u.Plan)
	for _, q := range u.Quotas {
		fmt.Fprintf(&b, "\n  %s route=%q %s %s..%s requests=%d/%s bytes=%d/%s", q.Name, q.Route, q.Period,
			q.PeriodStart.Format(time.RFC3339), q.PeriodEnd.Format(time.RFC3339),
			q.RequestsUsed, formatAllowance(q.RequestsAllowed), q.BytesUsed, formatAllowance(q.BytesAllowed))
	}
	return b.String()
}

func formatAllowance(n *int64) string {
	if n == nil {
		return "none"
	}
	return fmt.Sprint(*n)
}

func TestConsumerUsageWithoutQuotas(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Usage = func(context.Context, string) ([]ratelimit.QuotaStatus, error) { return nil, nil }
	})
	e.createConsumer(ConsumerCreate{ID: "acme"})
	r := e.do(t, "GET", "/admin/consumers/acme/usage", bootstrapToken, nil)
	wantStatus(t, "usage", r, http.StatusOK)
	if got, want := strings.TrimSpace(string(r.body)), `{"consumer_id":"acme","plan":"","quotas":[]}`; got != want {
		t.Errorf("body: got %s, want %s", got, want)
	}
}

func TestConsumerUsageErrors(t *testing.T) {
	tests := []struct {
		name       string
		usage      func(context.Context, string) ([]ratelimit.QuotaStatus, error)
		consumer   string
		wantStatus int
		wantSlug   string
		wantDetail string
	}{
		{
			name:       "unknown consumer",
			usage:      func(context.Context, string) ([]ratelimit.QuotaStatus, error) { return nil, nil },
			consumer:   "nobody",
			wantStatus: http.StatusNotFound, wantSlug: SlugResourceNotFound, wantDetail: `consumer "nobody" not found`,
		},
		{
			name:       "unknown consumer without usage",
			consumer:   "nobody",
			wantStatus: http.StatusNotFound, wantSlug: SlugResourceNotFound, wantDetail: `consumer "nobody" not found`,
		},
		{
			name:       "consumer deleted meanwhile",
			usage:      func(context.Context, string) ([]ratelimit.QuotaStatus, error) { return nil, store.ErrNotFound },
			consumer:   "acme",
			wantStatus: http.StatusNotFound, wantSlug: SlugResourceNotFound, wantDetail: `consumer "acme" not found`,
		},
		{
			name:       "no usage function",
			consumer:   "acme",
			wantStatus: http.StatusServiceUnavailable, wantSlug: SlugServiceUnavailable, wantDetail: "without the gateway's rate limiter",
		},
		{
			name: "limiter not running",
			usage: func(context.Context, string) ([]ratelimit.QuotaStatus, error) {
				return nil, fmt.Errorf("gateway starting: %w", ErrUsageUnavailable)
			},
			consumer:   "acme",
			wantStatus: http.StatusServiceUnavailable, wantSlug: SlugServiceUnavailable, wantDetail: "rate limiter is not running",
		},
		{
			name: "store failure",
			usage: func(context.Context, string) ([]ratelimit.QuotaStatus, error) {
				return nil, errors.New("database is locked")
			},
			consumer:   "acme",
			wantStatus: http.StatusServiceUnavailable, wantSlug: SlugServiceUnavailable, wantDetail: "reading quota usage from the store failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Usage = tt.usage })
			e.createConsumer(ConsumerCreate{ID: "acme"})
			r := e.do(t, "GET", "/admin/consumers/"+tt.consumer+"/usage", bootstrapToken, nil)
			wantStatus(t, "usage", r, tt.wantStatus)
			p := decode[Problem](t, r)
			if want := "urn:warden:problem:" + tt.wantSlug; p.Type != want {
				t.Errorf("type: got %q, want %q", p.Type, want)
			}
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("detail: got %q, want it to contain %q", p.Detail, tt.wantDetail)
			}
			if strings.Contains(string(r.body), "database is locked") {
				t.Errorf("body: got %s, want no internal error text", r.body)
			}
		})
	}
}

func TestConsumerUsageNeedsToken(t *testing.T) {
	e := newEnv(t, usageLimiter(t))
	e.createConsumer(ConsumerCreate{ID: "acme"})
	r := e.do(t, "GET", "/admin/consumers/acme/usage", "", nil)
	wantStatus(t, "usage without token", r, http.StatusUnauthorized)
}

func TestClientConsumerUsage(t *testing.T) {
	e := newEnv(t, usageLimiter(t))
	e.createConsumer(ConsumerCreate{ID: "acme", Plan: "gold"})
	c := newTestClient(t, e, bootstrapToken)

	got, err := c.ConsumerUsage(context.Background(), "acme")
	if err != nil {
		t.Fatalf("ConsumerUsage: %v", err)
	}
	if len(got.Quotas) != 3 || got.Quotas[0].Name != "daily" || *got.Quotas[0].RequestsAllowed != 1000 {
		t.Errorf("usage: got %s, want daily (1000 requests), egress and search/hits", formatUsage(got))
	}

	_, err = c.ConsumerUsage(context.Background(), "nobody")
	if !IsStatus(err, http.StatusNotFound) {
		t.Errorf("unknown consumer: got %v, want a 404 *Error", err)
	}
}
