package authn

import (
	"context"
	"errors"
	"slices"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/store"
)

const keyDetail = "The API key is not valid."

// verifyKey checks an API key string and returns the identity of its
// consumer. credID is the key id once the key has parsed, so that failures
// name the key; the id is public and safe to record.
func (a *Authenticator) verifyKey(ctx context.Context, raw, clientIP string) (id *pipeline.Identity, credID string, f *failure) {
	k, err := apikey.Parse(raw)
	switch {
	case errors.Is(err, apikey.ErrChecksum):
		return nil, "", invalid(ReasonKeyChecksum, keyDetail)
	case err != nil:
		return nil, "", invalid(ReasonKeyInvalidFormat, keyDetail)
	}

	rec, ok, err := a.keys.get(ctx, k.ID)
	switch {
	case err != nil:
		return nil, k.ID, unavailable(ReasonStoreUnavailable, err)
	case !ok:
		return nil, k.ID, invalid(ReasonKeyNotFound, keyDetail)
	case !k.Matches(rec.Hash):
		return nil, k.ID, invalid(ReasonKeySecretMismatch, keyDetail)
	}
	switch rec.State(a.now()) {
	case store.KeyRevoked:
		return nil, k.ID, invalid(ReasonKeyRevoked, keyDetail)
	case store.KeyExpired:
		return nil, k.ID, invalid(ReasonKeyExpired, "The API key has expired.")
	}

	c, f := a.requireConsumer(ctx, rec.ConsumerID)
	if f != nil {
		return nil, k.ID, f
	}
	a.touches.record(k.ID, clientIP)
	return &pipeline.Identity{
		ConsumerID:   c.ID,
		ConsumerName: c.Name,
		Method:       "api_key",
		CredentialID: k.ID,
		Scopes:       keyScopes(rec.Scopes, c.Scopes),
		Roles:        c.Roles,
		Plan:         c.Plan,
		Metadata:     c.Metadata,
	}, k.ID, nil
}

// requireConsumer returns the active consumer with id, which must exist.
func (a *Authenticator) requireConsumer(ctx context.Context, id string) (*store.Consumer, *failure) {
	c, ok, err := a.consumers.get(ctx, id)
	switch {
	case err != nil:
		return nil, unavailable(ReasonStoreUnavailable, err)
	case !ok:
		return nil, invalid(ReasonConsumerNotFound, keyDetail)
	case c.Status != store.StatusActive:
		// Any status other than active, not only "suspended", is rejected, so
		// that an unknown status fails closed.
		return nil, invalid(ReasonConsumerSuspended, "The consumer is suspended.")
	}
	return c, nil
}

// keyScopes returns the scopes a key grants: its own scopes, or its
// consumer's when the key has none, limited to the consumer's scopes when
// the consumer has any.
func keyScopes(key, consumer []string) []string {
	switch {
	case len(key) == 0:
		return consumer
	case len(consumer) == 0:
		return key
	}
	out := make([]string, 0, len(key))
	for _, s := range key {
		if slices.Contains(consumer, s) {
			out = append(out, s)
		}
	}
	return out
}
