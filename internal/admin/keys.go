package admin

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/store"
)

// ListKeys returns the consumer's keys, or every key when consumerID is "".
// An unknown consumer is an error, unlike in the store.
func (s *Service) ListKeys(ctx context.Context, consumerID string) ([]APIKey, error) {
	if consumerID != "" {
		if _, err := s.getConsumer(ctx, consumerID); err != nil {
			return nil, err
		}
	}
	keys, err := s.store.ListKeys(ctx, consumerID)
	if err != nil {
		return nil, internal(err)
	}
	now := s.now()
	out := make([]APIKey, len(keys))
	for i := range keys {
		out[i] = keyFromStore(&keys[i], now)
	}
	return out, nil
}

// GetKey returns the key with the id, without its secret.
func (s *Service) GetKey(ctx context.Context, id string) (APIKey, error) {
	k, err := s.getKey(ctx, id)
	if err != nil {
		return APIKey{}, err
	}
	return keyFromStore(k, s.now()), nil
}

func (s *Service) getKey(ctx context.Context, id string) (*store.Key, error) {
	k, err := s.store.GetKey(ctx, id)
	if err != nil {
		return nil, storeError(err, fmt.Sprintf("key %q not found", id), "")
	}
	return k, nil
}

// CreateKey issues a new API key for the consumer and returns it with its
// plain text, which is not stored and cannot be shown again.
func (s *Service) CreateKey(ctx context.Context, actor Actor, consumerID string, req KeyCreate) (CreatedKey, error) {
	c, err := s.getConsumer(ctx, consumerID)
	if err != nil {
		return CreatedKey{}, err
	}
	now := s.now()
	var v validator
	v.name("name", req.Name)
	v.words("scopes", req.Scopes)
	v.subset("scopes", req.Scopes, c.Scopes)
	expiresAt := v.expiry(req, now)
	if err := v.err(); err != nil {
		return CreatedKey{}, err
	}

	scopes := req.Scopes
	if len(scopes) == 0 {
		scopes = c.Scopes
	}
	k := &store.Key{ConsumerID: c.ID, Name: req.Name, Scopes: scopes, ExpiresAt: expiresAt, CreatedAt: now}
	plain, err := generateKey(k)
	if err != nil {
		return CreatedKey{}, err
	}
	if err := s.store.CreateKey(ctx, k); err != nil {
		return CreatedKey{}, storeError(err, fmt.Sprintf("consumer %q not found", consumerID), "key id already taken: retry")
	}
	s.audit(ctx, actor, "key.create", k.ID, map[string]any{
		"consumer_id": k.ConsumerID, "name": k.Name, "scopes": nonNil(k.Scopes), "expires_at": timePtr(k.ExpiresAt),
	})
	return CreatedKey{APIKey: keyFromStore(k, now), Key: plain}, nil
}

// expiry returns the expiry that a KeyCreate requests, or zero for none.
func (v *validator) expiry(req KeyCreate, now time.Time) time.Time {
	switch {
	case req.ExpiresIn != "" && req.ExpiresAt != nil:
		v.add("expires_at", "set expires_in or expires_at, not both")
	case req.ExpiresIn != "":
		d, ok := v.duration("expires_in", req.ExpiresIn, 0)
		if !ok {
			return time.Time{}
		}
		if d == 0 {
			v.add("expires_in", "must be more than zero; leave it out for a key that never expires")
			return time.Time{}
		}
		return now.Add(d)
	case req.ExpiresAt != nil:
		if !req.ExpiresAt.After(now) {
			v.add("expires_at", "must be in the future")
		}
		return *req.ExpiresAt
	}
	return time.Time{}
}

// generateKey fills in k's id and hash and returns the plain key.
func generateKey(k *store.Key) (string, error) {
	plain, parsed, err := apikey.Generate()
	if err != nil {
		return "", internal(fmt.Errorf("generating api key: %w", err))
	}
	k.ID, k.Hash = parsed.ID, parsed.Hash()
	return plain, nil
}

// RotateKey issues a new key that replaces the key with the id. The old
// key keeps working until the overlap ends (or until its own expiry, when
// that is earlier). The new key has the old key's name and scopes, less
// any scope that the consumer no longer has.
func (s *Service) RotateKey(ctx context.Context, actor Actor, id string, req KeyRotate) (RotatedKey, error) {
	var v validator
	overlap, _ := v.duration("overlap", req.Overlap, DefaultOverlap)
	lifetime, _ := v.duration("expires_in", req.ExpiresIn, 0)
	if err := v.err(); err != nil {
		return RotatedKey{}, err
	}

	old, err := s.getKey(ctx, id)
	if err != nil {
		return RotatedKey{}, err
	}
	now := s.now()
	if err := checkRotatable(old, now); err != nil {
		return RotatedKey{}, err
	}
	c, err := s.getConsumer(ctx, old.ConsumerID)
	if err != nil {
		return RotatedKey{}, err
	}

	next := &store.Key{ConsumerID: old.ConsumerID, Name: old.Name, Scopes: old.Scopes, CreatedAt: now}
	if len(c.Scopes) > 0 {
		next.Scopes = slices.DeleteFunc(slices.Clone(old.Scopes), func(sc string) bool { return !slices.Contains(c.Scopes, sc) })
	}
	if req.ExpiresIn == "" && !old.ExpiresAt.IsZero() {
		lifetime = old.ExpiresAt.Sub(old.CreatedAt)
	}
	if lifetime > 0 {
		next.ExpiresAt = now.Add(lifetime)
	}
	plain, err := generateKey(next)
	if err != nil {
		return RotatedKey{}, err
	}
	if err := s.store.RotateKey(ctx, id, now.Add(overlap), next); err != nil {
		return RotatedKey{}, storeError(err, fmt.Sprintf("key %q not found", id), fmt.Sprintf("key %q was revoked or rotated meanwhile", id))
	}

	previous, err := s.getKey(ctx, id)
	if err != nil {
		return RotatedKey{}, err
	}
	s.audit(ctx, actor, "key.rotate", id, map[string]any{
		"consumer_id": old.ConsumerID, "new_key_id": next.ID, "overlap": overlap.String(),
		"old_expires_at": timePtr(previous.ExpiresAt), "expires_at": timePtr(next.ExpiresAt),
	})
	return RotatedKey{
		CreatedKey: CreatedKey{APIKey: keyFromStore(next, now), Key: plain},
		Previous:   keyFromStore(previous, now),
	}, nil
}

func checkRotatable(k *store.Key, now time.Time) error {
	switch {
	case k.ReplacedBy != "":
		return conflict("key %q was already rotated to %q: rotate %q instead", k.ID, k.ReplacedBy, k.ReplacedBy)
	case k.State(now) == store.KeyRevoked:
		return conflict("key %q is revoked: create a new key instead", k.ID)
	case k.State(now) == store.KeyExpired:
		return conflict("key %q has expired: create a new key instead", k.ID)
	}
	return nil
}

// RevokeKey revokes the key at once. Revoking a revoked key returns it
// unchanged and writes no audit entry.
func (s *Service) RevokeKey(ctx context.Context, actor Actor, id string) (APIKey, error) {
	k, err := s.getKey(ctx, id)
	if err != nil {
		return APIKey{}, err
	}
	now := s.now()
	if !k.RevokedAt.IsZero() {
		return keyFromStore(k, now), nil
	}
	if err := s.store.RevokeKey(ctx, id, now); err != nil {
		return APIKey{}, storeError(err, fmt.Sprintf("key %q not found", id), "")
	}
	k.RevokedAt = store.Normalize(now)
	s.audit(ctx, actor, "key.revoke", id, map[string]any{"consumer_id": k.ConsumerID})
	return keyFromStore(k, now), nil
}
