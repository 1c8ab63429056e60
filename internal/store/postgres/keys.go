package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/warden-api/warden/internal/store"
)

const keyColumns = `id, consumer_id, name, hash, scopes, expires_at, revoked_at, replaced_by,
created_at, last_used_at, last_used_ip`

// CreateKey stores k. It returns store.ErrNotFound when the consumer does
// not exist and store.ErrConflict when the key id is taken. A zero
// CreatedAt becomes the current time.
func (s *Store) CreateKey(ctx context.Context, k *store.Key) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		return notifyChange(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("creating key %q: %w", k.ID, err)
	}
	return nil
}

// execer is *pgxpool.Pool or pgx.Tx.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertKey(ctx context.Context, db execer, k *store.Key) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	k.CreatedAt = store.Normalize(k.CreatedAt)
	k.ExpiresAt = store.Normalize(k.ExpiresAt)
	k.RevokedAt = store.Normalize(k.RevokedAt)
	k.LastUsedAt = store.Normalize(k.LastUsedAt)
	_, err := db.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		k.ID, k.ConsumerID, k.Name, k.Hash, stringsArg(k.Scopes), timeArg(k.ExpiresAt), timeArg(k.RevokedAt),
		k.ReplacedBy, k.CreatedAt, timeArg(k.LastUsedAt), k.LastUsedIP)
	return mapError(err)
}

// GetKey returns the key with the id, or store.ErrNotFound.
func (s *Store) GetKey(ctx context.Context, id string) (*store.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "key", id)
	}
	return k, nil
}

// ListKeys returns the consumer's keys, or every key when consumerID is
// "", ordered by creation time and then id. An unknown consumer has no
// keys, which is not an error.
func (s *Store) ListKeys(ctx context.Context, consumerID string) ([]store.Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys
WHERE $1 = '' OR consumer_id = $1
ORDER BY created_at, id COLLATE "C"`, consumerID)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Key, error) {
		k, err := scanKey(r)
		if err != nil {
			return store.Key{}, err
		}
		return *k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// RevokeKey marks the key revoked at at. Revoking a revoked key keeps the
// first revocation time.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	tag, err := s.execNotify(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`,
		timeArg(at), id)
	if err != nil {
		return fmt.Errorf("revoking key %q: %w", id, err)
	}
	return checkAffected(tag, "key", id)
}

// RotateKey stores next and, in the same transaction, points the old key's
// ReplacedBy at it and moves the old key's expiry to oldExpiresAt unless
// the old key already expires earlier. The old key's row is locked for the
// transaction, so two concurrent rotations cannot both succeed. Errors are
// as for store.CheckRotation, plus store.ErrNotFound for a missing old key.
func (s *Store) RotateKey(ctx context.Context, oldID string, oldExpiresAt time.Time, next *store.Key) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		old, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1 FOR UPDATE`, oldID))
		if err != nil {
			return notFound(err, "key", oldID)
		}
		if err := store.CheckRotation(old, next); err != nil {
			return err
		}
		if err := insertKey(ctx, tx, next); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE api_keys
SET replaced_by = $1,
    expires_at = CASE WHEN expires_at IS NOT NULL AND expires_at < $2 THEN expires_at ELSE $2 END
WHERE id = $3`, next.ID, timeArg(oldExpiresAt), oldID)
		if err != nil {
			return err
		}
		return notifyChange(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("rotating key %q: %w", oldID, err)
	}
	return nil
}

// TouchKey records the last use of the key.
func (s *Store) TouchKey(ctx context.Context, id string, at time.Time, ip string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $1, last_used_ip = $2 WHERE id = $3`,
		timeArg(at), ip, id)
	if err != nil {
		return fmt.Errorf("recording use of key %q: %w", id, err)
	}
	return checkAffected(tag, "key", id)
}

func scanKey(r pgx.Row) (*store.Key, error) {
	var (
		k                                store.Key
		createdAt                        time.Time
		expiresAt, revokedAt, lastUsedAt *time.Time
	)
	err := r.Scan(&k.ID, &k.ConsumerID, &k.Name, &k.Hash, &k.Scopes, &expiresAt, &revokedAt, &k.ReplacedBy,
		&createdAt, &lastUsedAt, &k.LastUsedIP)
	if err != nil {
		return nil, err
	}
	k.Scopes = stringsValue(k.Scopes)
	k.CreatedAt = createdAt.UTC()
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = timeValue(expiresAt), timeValue(revokedAt), timeValue(lastUsedAt)
	return &k, nil
}
