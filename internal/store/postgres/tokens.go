package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/warden-api/warden/internal/store"
)

const tokenColumns = `id, name, role, hash, created_at, revoked_at`

// CreateAdminToken stores t, or returns store.ErrConflict when the id is
// taken. A zero CreatedAt becomes the current time.
func (s *Store) CreateAdminToken(ctx context.Context, t *store.AdminToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	t.CreatedAt, t.RevokedAt = store.Normalize(t.CreatedAt), store.Normalize(t.RevokedAt)
	_, err := s.execNotify(ctx, `INSERT INTO admin_tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.Name, t.Role, t.Hash, t.CreatedAt, timeArg(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("creating admin token %q: %w", t.ID, mapError(err))
	}
	return nil
}

// GetAdminToken returns the token with the id, or store.ErrNotFound.
func (s *Store) GetAdminToken(ctx context.Context, id string) (*store.AdminToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM admin_tokens WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "admin token", id)
	}
	return t, nil
}

// ListAdminTokens returns every admin token, revoked ones included,
// ordered by creation time and then id.
func (s *Store) ListAdminTokens(ctx context.Context) ([]store.AdminToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM admin_tokens ORDER BY created_at, id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("listing admin tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AdminToken, error) {
		t, err := scanToken(r)
		if err != nil {
			return store.AdminToken{}, err
		}
		return *t, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing admin tokens: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// RevokeAdminToken marks the token revoked at at. Revoking a revoked token
// keeps the first revocation time.
func (s *Store) RevokeAdminToken(ctx context.Context, id string, at time.Time) error {
	tag, err := s.execNotify(ctx, `UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`,
		timeArg(at), id)
	if err != nil {
		return fmt.Errorf("revoking admin token %q: %w", id, err)
	}
	return checkAffected(tag, "admin token", id)
}

func scanToken(r pgx.Row) (*store.AdminToken, error) {
	var (
		t         store.AdminToken
		createdAt time.Time
		revokedAt *time.Time
	)
	if err := r.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &createdAt, &revokedAt); err != nil {
		return nil, err
	}
	t.CreatedAt, t.RevokedAt = createdAt.UTC(), timeValue(revokedAt)
	return &t, nil
}

// AppendAudit stores e and sets e.ID to its position in the trail. A zero
// At becomes the current time.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = store.Normalize(e.At)
	err := s.pool.QueryRow(ctx, `INSERT INTO audit_log (at, actor, action, target, source_ip, detail)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		e.At, e.Actor, e.Action, e.Target, e.SourceIP, e.Detail).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("appending audit entry %q: %w", e.Action, err)
	}
	return nil
}

// ListAudit returns at most limit entries, newest first. A limit of 0 or
// less returns none.
func (s *Store) ListAudit(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, action, target, source_ip, detail
FROM audit_log ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing audit entries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &e.SourceIP, &e.Detail)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing audit entries: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
