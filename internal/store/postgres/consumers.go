package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/warden-api/warden/internal/store"
)

const consumerColumns = `id, name, roles, scopes, plan, metadata, status, created_at, updated_at`

// CreateConsumer stores c. An empty Status becomes store.StatusActive, and
// zero CreatedAt and UpdatedAt become the current time; c is updated to
// the stored values.
func (s *Store) CreateConsumer(ctx context.Context, c *store.Consumer) error {
	if c.Status == "" {
		c.Status = store.StatusActive
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.CreatedAt, c.UpdatedAt = store.Normalize(c.CreatedAt), store.Normalize(c.UpdatedAt)

	_, err := s.execNotify(ctx, `INSERT INTO consumers (`+consumerColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.Name, stringsArg(c.Roles), stringsArg(c.Scopes), c.Plan, metadataArg(c.Metadata), c.Status,
		c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("creating consumer %q: %w", c.ID, mapError(err))
	}
	return nil
}

// GetConsumer returns the consumer with the id, or store.ErrNotFound.
func (s *Store) GetConsumer(ctx context.Context, id string) (*store.Consumer, error) {
	c, err := scanConsumer(s.pool.QueryRow(ctx, `SELECT `+consumerColumns+` FROM consumers WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "consumer", id)
	}
	return c, nil
}

// ListConsumers returns every consumer, ordered by id.
func (s *Store) ListConsumers(ctx context.Context) ([]store.Consumer, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+consumerColumns+` FROM consumers ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("listing consumers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Consumer, error) {
		c, err := scanConsumer(r)
		if err != nil {
			return store.Consumer{}, err
		}
		return *c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing consumers: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// UpdateConsumer replaces the name, roles, scopes, plan, metadata, status
// and UpdatedAt of the consumer with c.ID. A zero UpdatedAt becomes the
// current time. CreatedAt is left as stored.
func (s *Store) UpdateConsumer(ctx context.Context, c *store.Consumer) error {
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = time.Now()
	}
	c.UpdatedAt = store.Normalize(c.UpdatedAt)
	if c.Status == "" {
		c.Status = store.StatusActive
	}
	tag, err := s.execNotify(ctx, `UPDATE consumers
SET name = $1, roles = $2, scopes = $3, plan = $4, metadata = $5, status = $6, updated_at = $7
WHERE id = $8`,
		c.Name, stringsArg(c.Roles), stringsArg(c.Scopes), c.Plan, metadataArg(c.Metadata), c.Status, c.UpdatedAt, c.ID)
	if err != nil {
		return fmt.Errorf("updating consumer %q: %w", c.ID, mapError(err))
	}
	return checkAffected(tag, "consumer", c.ID)
}

// DeleteConsumer deletes the consumer; its keys and quota usage go with it
// through ON DELETE CASCADE.
func (s *Store) DeleteConsumer(ctx context.Context, id string) error {
	tag, err := s.execNotify(ctx, `DELETE FROM consumers WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("deleting consumer %q: %w", id, err)
	}
	return checkAffected(tag, "consumer", id)
}

// metadataArg returns m for a jsonb NOT NULL parameter: nil becomes {}.
func metadataArg(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func scanConsumer(r pgx.Row) (*store.Consumer, error) {
	var (
		c                    store.Consumer
		meta                 map[string]string
		createdAt, updatedAt time.Time
	)
	err := r.Scan(&c.ID, &c.Name, &c.Roles, &c.Scopes, &c.Plan, &meta, &c.Status, &createdAt, &updatedAt)
	if err != nil {
		return nil, err
	}
	c.Roles, c.Scopes = stringsValue(c.Roles), stringsValue(c.Scopes)
	if len(meta) > 0 {
		c.Metadata = meta
	}
	c.CreatedAt, c.UpdatedAt = createdAt.UTC(), updatedAt.UTC()
	return &c, nil
}
