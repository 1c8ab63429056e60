package admin

import (
	"context"
	"fmt"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/store"
)

// TokenPrefix starts every admin token. It differs from the API key
// prefix, so secret scanners tell the two apart and an API key is never
// accepted as an admin token.
const TokenPrefix = "wda_"

// tokenFormat returns the layout of admin tokens: the API key layout with
// TokenPrefix.
func tokenFormat() apikey.Format { return apikey.Format{Prefix: TokenPrefix} }

// ListTokens returns every admin token, revoked ones included.
func (s *Service) ListTokens(ctx context.Context) ([]AdminToken, error) {
	list, err := s.store.ListAdminTokens(ctx)
	if err != nil {
		return nil, internal(err)
	}
	out := make([]AdminToken, len(list))
	for i := range list {
		out[i] = tokenFromStore(&list[i])
	}
	return out, nil
}

// CreateToken issues a new admin token and returns it with its plain text,
// which is not stored and cannot be shown again.
func (s *Service) CreateToken(ctx context.Context, actor Actor, req TokenCreate) (CreatedToken, error) {
	var v validator
	v.name("name", req.Name)
	if !store.ValidRole(req.Role) {
		v.add("role", "must be %q, %q or %q", store.RoleViewer, store.RoleOperator, store.RoleAdmin)
	}
	if err := v.err(); err != nil {
		return CreatedToken{}, err
	}

	plain, parsed, err := tokenFormat().Generate()
	if err != nil {
		return CreatedToken{}, internal(fmt.Errorf("generating admin token: %w", err))
	}
	t := &store.AdminToken{ID: parsed.ID, Name: req.Name, Role: req.Role, Hash: parsed.Hash(), CreatedAt: s.now()}
	if err := s.store.CreateAdminToken(ctx, t); err != nil {
		return CreatedToken{}, storeError(err, "", "token id already taken: retry")
	}
	s.audit(ctx, actor, "token.create", t.ID, map[string]any{"name": t.Name, "role": t.Role})
	return CreatedToken{AdminToken: tokenFromStore(t), Token: plain}, nil
}

// RevokeToken revokes the admin token at once. Revoking a revoked token
// returns it unchanged and writes no audit entry.
func (s *Service) RevokeToken(ctx context.Context, actor Actor, id string) (AdminToken, error) {
	t, err := s.store.GetAdminToken(ctx, id)
	if err != nil {
		return AdminToken{}, storeError(err, fmt.Sprintf("admin token %q not found", id), "")
	}
	if t.Revoked() {
		return tokenFromStore(t), nil
	}
	now := s.now()
	if err := s.store.RevokeAdminToken(ctx, id, now); err != nil {
		return AdminToken{}, storeError(err, fmt.Sprintf("admin token %q not found", id), "")
	}
	t.RevokedAt = store.Normalize(now)
	s.audit(ctx, actor, "token.revoke", id, map[string]any{"name": t.Name, "role": t.Role})
	return tokenFromStore(t), nil
}
