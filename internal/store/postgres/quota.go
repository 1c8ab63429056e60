package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/warden-api/warden/internal/store"
)

// AddQuotaUsage adds u.Requests and u.Bytes to the consumer's usage of the
// quota in the period starting at u.PeriodStart and returns the totals.
// One upsert statement does it, so concurrent adds from any number of
// nodes never lose an update. It returns store.ErrNotFound when the
// consumer does not exist.
func (s *Store) AddQuotaUsage(ctx context.Context, u store.QuotaUsage) (store.QuotaUsage, error) {
	u.PeriodStart = store.Normalize(u.PeriodStart)
	err := s.pool.QueryRow(ctx, `INSERT INTO quota_usage (consumer_id, quota, period_start, requests, bytes)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (consumer_id, quota, period_start) DO UPDATE
SET requests = quota_usage.requests + excluded.requests, bytes = quota_usage.bytes + excluded.bytes
RETURNING requests, bytes`,
		u.ConsumerID, u.Quota, u.PeriodStart, u.Requests, u.Bytes).Scan(&u.Requests, &u.Bytes)
	if err != nil {
		return store.QuotaUsage{}, fmt.Errorf("adding usage of quota %q for consumer %q: %w", u.Quota, u.ConsumerID, mapError(err))
	}
	return u, nil
}

// ListQuotaUsage returns the consumer's usage in periods starting at or
// after since, ordered by period start and then quota name.
func (s *Store) ListQuotaUsage(ctx context.Context, consumerID string, since time.Time) ([]store.QuotaUsage, error) {
	rows, err := s.pool.Query(ctx, `SELECT consumer_id, quota, period_start, requests, bytes
FROM quota_usage WHERE consumer_id = $1 AND ($2::timestamptz IS NULL OR period_start >= $2)
ORDER BY period_start, quota COLLATE "C"`, consumerID, timeArg(since))
	if err != nil {
		return nil, fmt.Errorf("listing quota usage of consumer %q: %w", consumerID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.QuotaUsage, error) {
		var u store.QuotaUsage
		err := r.Scan(&u.ConsumerID, &u.Quota, &u.PeriodStart, &u.Requests, &u.Bytes)
		u.PeriodStart = u.PeriodStart.UTC()
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing quota usage of consumer %q: %w", consumerID, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
