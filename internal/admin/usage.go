package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/warden-api/warden/internal/ratelimit"
	"github.com/warden-api/warden/internal/store"
)

// ErrUsageUnavailable is the error an Options.Usage function wraps when
// it cannot read usage for now, such as before the gateway's rate limiter
// has started. The admin API returns it as 503.
var ErrUsageUnavailable = errors.New("quota usage is unavailable")

// ConsumerUsage is the body of GET /admin/consumers/{id}/usage.
type ConsumerUsage struct {
	ConsumerID string `json:"consumer_id"`
	// Plan is the consumer's rate-limit plan, "" for none.
	Plan string `json:"plan"`
	// Quotas are the plan's quotas followed by the route quotas, by route
	// name. Empty when no quota applies to the consumer.
	Quotas []QuotaUsage `json:"quotas"`
}

// QuotaUsage is a consumer's use of one quota in the current period.
type QuotaUsage struct {
	// Name is the plan quota's name, or "<route>/<name>" for a route quota.
	Name string `json:"name"`
	// Route is the route of a route quota, absent for a plan quota.
	Route string `json:"route,omitempty"`
	// Period is "day" or "month".
	Period string `json:"period"`
	// PeriodStart and PeriodEnd bound the current period in UTC. The usage
	// returns to zero at PeriodEnd.
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	// RequestsUsed and BytesUsed count the stored usage plus what the
	// gateway counted and has not stored yet.
	RequestsUsed int64 `json:"requests_used"`
	BytesUsed    int64 `json:"bytes_used"`
	// RequestsAllowed and BytesAllowed are the consumer's allowances after
	// metadata overrides; nil when the quota does not limit that measure.
	RequestsAllowed *int64 `json:"requests_allowed,omitempty"`
	BytesAllowed    *int64 `json:"bytes_allowed,omitempty"`
}

// ConsumerUsage returns the consumer's quota usage in the current period,
// read through Options.Usage. An unknown consumer is a 404, even when
// usage is unavailable; missing or failing usage is a 503.
func (s *Service) ConsumerUsage(ctx context.Context, id string) (ConsumerUsage, error) {
	c, err := s.getConsumer(ctx, id)
	if err != nil {
		return ConsumerUsage{}, err
	}
	if s.usage == nil {
		return ConsumerUsage{}, unavailable("quota usage is not available: this admin API runs without the gateway's rate limiter", ErrUsageUnavailable)
	}

	list, err := s.usage(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The consumer was deleted after the read above.
		return ConsumerUsage{}, notFound("consumer", id)
	case errors.Is(err, ErrUsageUnavailable):
		return ConsumerUsage{}, unavailable("quota usage is not available yet: the gateway's rate limiter is not running; try again shortly", err)
	case err != nil:
		return ConsumerUsage{}, unavailable("reading quota usage from the store failed; try again shortly",
			fmt.Errorf("reading quota usage of consumer %q: %w", id, err))
	}

	out := ConsumerUsage{ConsumerID: c.ID, Plan: c.Plan, Quotas: make([]QuotaUsage, len(list))}
	for i, q := range list {
		out.Quotas[i] = quotaUsageFrom(q)
	}
	return out, nil
}

func quotaUsageFrom(q ratelimit.QuotaStatus) QuotaUsage {
	return QuotaUsage{
		Name: q.Name, Route: q.Route, Period: q.Period,
		PeriodStart: q.PeriodStart.UTC(), PeriodEnd: q.ResetAt.UTC(),
		RequestsUsed: q.Requests, BytesUsed: q.Bytes,
		RequestsAllowed: allowance(q.RequestsLimit), BytesAllowed: allowance(q.BytesLimit),
	}
}

// allowance maps the limiter's "0 means not limited" to nil.
func allowance(n int64) *int64 {
	if n <= 0 {
		return nil
	}
	return &n
}
