package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/warden-api/warden/internal/store"
)

const keyColumns = `id, consumer_id, name, hash, scopes, expires_at, revoked_at, replaced_by,
created_at, last_used_at, last_used_ip`

// CreateKey stores k. It returns store.ErrNotFound when the consumer does
// not exist and store.ErrConflict when the key id is taken. A zero
// CreatedAt becomes the current time.
func (s *Store) CreateKey(ctx context.Context, k *store.Key) error {
	defer s.watch.changed()
	if err := insertKey(ctx, s.db, k); err != nil {
		return fmt.Errorf("creating key %q: %w", k.ID, err)
	}
	return nil
}

// execer is *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertKey(ctx context.Context, db execer, k *store.Key) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	normalizeKeyTimes(k)
	scopes, err := encodeStrings(k.Scopes)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.ConsumerID, k.Name, k.Hash, scopes, encodeTime(k.ExpiresAt), encodeTime(k.RevokedAt),
		k.ReplacedBy, encodeTime(k.CreatedAt), encodeTime(k.LastUsedAt), k.LastUsedIP)
	return mapError(err)
}

func normalizeKeyTimes(k *store.Key) {
	k.CreatedAt = store.Normalize(k.CreatedAt)
	k.ExpiresAt = store.Normalize(k.ExpiresAt)
	k.RevokedAt = store.Normalize(k.RevokedAt)
	k.LastUsedAt = store.Normalize(k.LastUsedAt)
}

// GetKey returns the key with the id, or store.ErrNotFound.
func (s *Store) GetKey(ctx context.Context, id string) (*store.Key, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id)
	k, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("key %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading key %q: %w", id, err)
	}
	return k, nil
}

// ListKeys returns the consumer's keys, or every key when consumerID is
// "", ordered by creation time and then id. An unknown consumer has no
// keys, which is not an error.
func (s *Store) ListKeys(ctx context.Context, consumerID string) ([]store.Key, error) {
	query := `SELECT ` + keyColumns + ` FROM api_keys`
	var args []any
	if consumerID != "" {
		query += ` WHERE consumer_id = ?`
		args = append(args, consumerID)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	defer rows.Close()

	var out []store.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("listing keys: %w", err)
		}
		out = append(out, *k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	return out, nil
}

// RevokeKey marks the key revoked at at. Revoking a revoked key keeps the
// first revocation time.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	defer s.watch.changed()
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
		encodeTime(at), id)
	if err != nil {
		return fmt.Errorf("revoking key %q: %w", id, err)
	}
	return checkAffected(res, "key", id)
}

// RotateKey stores next and, in the same transaction, points the old key's
// ReplacedBy at it and moves the old key's expiry to oldExpiresAt unless
// the old key already expires earlier. next.ConsumerID defaults to the old
// key's consumer and must not name another one. It returns
// store.ErrNotFound when the old key does not exist and store.ErrConflict
// when it is revoked or was already rotated; nothing is stored then.
func (s *Store) RotateKey(ctx context.Context, oldID string, oldExpiresAt time.Time, next *store.Key) error {
	defer s.watch.changed()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		old, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, oldID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("key %q: %w", oldID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := store.CheckRotation(old, next); err != nil {
			return err
		}

		if err := insertKey(ctx, tx, next); err != nil {
			return err
		}
		expires := encodeTime(oldExpiresAt)
		_, err = tx.ExecContext(ctx, `UPDATE api_keys
SET replaced_by = ?,
    expires_at = CASE WHEN expires_at IS NOT NULL AND expires_at < ? THEN expires_at ELSE ? END
WHERE id = ?`, next.ID, expires, expires, oldID)
		return err
	})
	if err != nil {
		return fmt.Errorf("rotating key %q: %w", oldID, err)
	}
	return nil
}

// TouchKey records the last use of the key.
func (s *Store) TouchKey(ctx context.Context, id string, at time.Time, ip string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ?, last_used_ip = ? WHERE id = ?`,
		encodeTime(at), ip, id)
	if err != nil {
		return fmt.Errorf("recording use of key %q: %w", id, err)
	}
	return checkAffected(res, "key", id)
}

func scanKey(r rowScanner) (*store.Key, error) {
	var (
		k                                           store.Key
		scopes                                      string
		expiresAt, revokedAt, createdAt, lastUsedAt sql.NullString
	)
	err := r.Scan(&k.ID, &k.ConsumerID, &k.Name, &k.Hash, &scopes, &expiresAt, &revokedAt, &k.ReplacedBy,
		&createdAt, &lastUsedAt, &k.LastUsedIP)
	if err != nil {
		return nil, err
	}
	if k.Scopes, err = decodeStrings(scopes); err != nil {
		return nil, err
	}
	var td timeDecoder
	k.ExpiresAt, k.RevokedAt = td.decode(expiresAt), td.decode(revokedAt)
	k.CreatedAt, k.LastUsedAt = td.decode(createdAt), td.decode(lastUsedAt)
	return &k, td.err
}
