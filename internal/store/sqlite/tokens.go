package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/warden-api/warden/internal/store"
)

const tokenColumns = `id, name, role, hash, created_at, revoked_at`

// CreateAdminToken stores t, or returns store.ErrConflict when the id is
// taken. A zero CreatedAt becomes the current time.
func (s *Store) CreateAdminToken(ctx context.Context, t *store.AdminToken) error {
	defer s.watch.changed()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	t.CreatedAt, t.RevokedAt = store.Normalize(t.CreatedAt), store.Normalize(t.RevokedAt)
	_, err := s.db.ExecContext(ctx, `INSERT INTO admin_tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Role, t.Hash, encodeTime(t.CreatedAt), encodeTime(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("creating admin token %q: %w", t.ID, mapError(err))
	}
	return nil
}

// GetAdminToken returns the token with the id, or store.ErrNotFound.
func (s *Store) GetAdminToken(ctx context.Context, id string) (*store.AdminToken, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM admin_tokens WHERE id = ?`, id)
	t, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("admin token %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading admin token %q: %w", id, err)
	}
	return t, nil
}

// ListAdminTokens returns every admin token, revoked ones included,
// ordered by creation time and then id.
func (s *Store) ListAdminTokens(ctx context.Context) ([]store.AdminToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM admin_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("listing admin tokens: %w", err)
	}
	defer rows.Close()

	var out []store.AdminToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("listing admin tokens: %w", err)
		}
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing admin tokens: %w", err)
	}
	return out, nil
}

// RevokeAdminToken marks the token revoked at at. Revoking a revoked token
// keeps the first revocation time.
func (s *Store) RevokeAdminToken(ctx context.Context, id string, at time.Time) error {
	defer s.watch.changed()
	res, err := s.db.ExecContext(ctx, `UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
		encodeTime(at), id)
	if err != nil {
		return fmt.Errorf("revoking admin token %q: %w", id, err)
	}
	return checkAffected(res, "admin token", id)
}

func scanToken(r rowScanner) (*store.AdminToken, error) {
	var (
		t                    store.AdminToken
		createdAt, revokedAt sql.NullString
	)
	if err := r.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &createdAt, &revokedAt); err != nil {
		return nil, err
	}
	var td timeDecoder
	t.CreatedAt, t.RevokedAt = td.decode(createdAt), td.decode(revokedAt)
	return &t, td.err
}

// AppendAudit stores e and sets e.ID to its position in the trail. A zero
// At becomes the current time.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = store.Normalize(e.At)
	err := s.db.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor, action, target, source_ip, detail)
VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		encodeTime(e.At), e.Actor, e.Action, e.Target, e.SourceIP, e.Detail).Scan(&e.ID)
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
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, actor, action, target, source_ip, detail
FROM audit_log ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing audit entries: %w", err)
	}
	defer rows.Close()

	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at sql.NullString
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.SourceIP, &e.Detail); err != nil {
			return nil, fmt.Errorf("listing audit entries: %w", err)
		}
		if e.At, err = decodeTime(at); err != nil {
			return nil, fmt.Errorf("listing audit entries: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing audit entries: %w", err)
	}
	return out, nil
}
