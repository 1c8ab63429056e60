package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/warden-api/warden/internal/store"
)

const consumerColumns = `id, name, roles, scopes, plan, metadata, status, created_at, updated_at`

// CreateConsumer stores c. An empty Status becomes store.StatusActive, and
// zero CreatedAt and UpdatedAt become the current time; c is updated to
// the stored values.
func (s *Store) CreateConsumer(ctx context.Context, c *store.Consumer) error {
	defer s.watch.changed()
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

	roles, scopes, meta, err := encodeConsumerFields(c)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO consumers (`+consumerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, roles, scopes, c.Plan, meta, c.Status, encodeTime(c.CreatedAt), encodeTime(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("creating consumer %q: %w", c.ID, mapError(err))
	}
	return nil
}

// GetConsumer returns the consumer with the id, or store.ErrNotFound.
func (s *Store) GetConsumer(ctx context.Context, id string) (*store.Consumer, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+consumerColumns+` FROM consumers WHERE id = ?`, id)
	c, err := scanConsumer(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("consumer %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading consumer %q: %w", id, err)
	}
	return c, nil
}

// ListConsumers returns every consumer, ordered by id.
func (s *Store) ListConsumers(ctx context.Context) ([]store.Consumer, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+consumerColumns+` FROM consumers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing consumers: %w", err)
	}
	defer rows.Close()

	var out []store.Consumer
	for rows.Next() {
		c, err := scanConsumer(rows)
		if err != nil {
			return nil, fmt.Errorf("listing consumers: %w", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing consumers: %w", err)
	}
	return out, nil
}

// UpdateConsumer replaces the name, roles, scopes, plan, metadata, status
// and UpdatedAt of the consumer with c.ID. A zero UpdatedAt becomes the
// current time. CreatedAt is left as stored.
func (s *Store) UpdateConsumer(ctx context.Context, c *store.Consumer) error {
	defer s.watch.changed()
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = time.Now()
	}
	c.UpdatedAt = store.Normalize(c.UpdatedAt)
	if c.Status == "" {
		c.Status = store.StatusActive
	}

	roles, scopes, meta, err := encodeConsumerFields(c)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE consumers
SET name = ?, roles = ?, scopes = ?, plan = ?, metadata = ?, status = ?, updated_at = ?
WHERE id = ?`,
		c.Name, roles, scopes, c.Plan, meta, c.Status, encodeTime(c.UpdatedAt), c.ID)
	if err != nil {
		return fmt.Errorf("updating consumer %q: %w", c.ID, mapError(err))
	}
	return checkAffected(res, "consumer", c.ID)
}

// DeleteConsumer deletes the consumer; its keys and quota usage go with it
// through ON DELETE CASCADE.
func (s *Store) DeleteConsumer(ctx context.Context, id string) error {
	defer s.watch.changed()
	res, err := s.db.ExecContext(ctx, `DELETE FROM consumers WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("deleting consumer %q: %w", id, err)
	}
	return checkAffected(res, "consumer", id)
}

func encodeConsumerFields(c *store.Consumer) (roles, scopes, meta string, err error) {
	if roles, err = encodeStrings(c.Roles); err != nil {
		return "", "", "", err
	}
	if scopes, err = encodeStrings(c.Scopes); err != nil {
		return "", "", "", err
	}
	if meta, err = encodeMap(c.Metadata); err != nil {
		return "", "", "", err
	}
	return roles, scopes, meta, nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

func scanConsumer(r rowScanner) (*store.Consumer, error) {
	var (
		c                    store.Consumer
		roles, scopes, meta  string
		createdAt, updatedAt sql.NullString
	)
	err := r.Scan(&c.ID, &c.Name, &roles, &scopes, &c.Plan, &meta, &c.Status, &createdAt, &updatedAt)
	if err != nil {
		return nil, err
	}
	if c.Roles, err = decodeStrings(roles); err != nil {
		return nil, err
	}
	if c.Scopes, err = decodeStrings(scopes); err != nil {
		return nil, err
	}
	if c.Metadata, err = decodeMap(meta); err != nil {
		return nil, err
	}
	var td timeDecoder
	c.CreatedAt, c.UpdatedAt = td.decode(createdAt), td.decode(updatedAt)
	return &c, td.err
}
