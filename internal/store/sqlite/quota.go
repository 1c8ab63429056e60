package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/warden-api/warden/internal/store"
)

// AddQuotaUsage adds u.Requests and u.Bytes to the consumer's usage of the
// quota in the period starting at u.PeriodStart and returns the totals.
// One upsert statement does it, so concurrent adds never lose an update. It
// returns store.ErrNotFound when the consumer does not exist.
func (s *Store) AddQuotaUsage(ctx context.Context, u store.QuotaUsage) (store.QuotaUsage, error) {
	u.PeriodStart = store.Normalize(u.PeriodStart)
	err := s.db.QueryRowContext(ctx, `INSERT INTO quota_usage (consumer_id, quota, period_start, requests, bytes)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (consumer_id, quota, period_start) DO UPDATE
SET requests = requests + excluded.requests, bytes = bytes + excluded.bytes
RETURNING requests, bytes`,
		u.ConsumerID, u.Quota, encodeTime(u.PeriodStart), u.Requests, u.Bytes).Scan(&u.Requests, &u.Bytes)
	if err != nil {
		return store.QuotaUsage{}, fmt.Errorf("adding usage of quota %q for consumer %q: %w", u.Quota, u.ConsumerID, mapError(err))
	}
	return u, nil
}

// ListQuotaUsage returns the consumer's usage in periods starting at or
// after since, ordered by period start and then quota name.
func (s *Store) ListQuotaUsage(ctx context.Context, consumerID string, since time.Time) ([]store.QuotaUsage, error) {
	// The empty string sorts before every stored time, so a zero since
	// lists every period.
	sinceText := ""
	if !since.IsZero() {
		sinceText = store.Normalize(since).Format(timeLayout)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT consumer_id, quota, period_start, requests, bytes
FROM quota_usage WHERE consumer_id = ? AND period_start >= ?
ORDER BY period_start, quota`, consumerID, sinceText)
	if err != nil {
		return nil, fmt.Errorf("listing quota usage of consumer %q: %w", consumerID, err)
	}
	defer rows.Close()

	var out []store.QuotaUsage
	for rows.Next() {
		var u store.QuotaUsage
		var start sql.NullString
		if err := rows.Scan(&u.ConsumerID, &u.Quota, &start, &u.Requests, &u.Bytes); err != nil {
			return nil, fmt.Errorf("listing quota usage of consumer %q: %w", consumerID, err)
		}
		if u.PeriodStart, err = decodeTime(start); err != nil {
			return nil, fmt.Errorf("listing quota usage of consumer %q: %w", consumerID, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing quota usage of consumer %q: %w", consumerID, err)
	}
	return out, nil
}
