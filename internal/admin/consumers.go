package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/warden-api/warden/internal/store"
)

// ListConsumers returns every consumer, ordered by id.
func (s *Service) ListConsumers(ctx context.Context) ([]Consumer, error) {
	list, err := s.store.ListConsumers(ctx)
	if err != nil {
		return nil, internal(err)
	}
	out := make([]Consumer, len(list))
	for i := range list {
		out[i] = consumerFromStore(&list[i])
	}
	return out, nil
}

// GetConsumer returns the consumer with the id.
func (s *Service) GetConsumer(ctx context.Context, id string) (Consumer, error) {
	c, err := s.getConsumer(ctx, id)
	if err != nil {
		return Consumer{}, err
	}
	return consumerFromStore(c), nil
}

func (s *Service) getConsumer(ctx context.Context, id string) (*store.Consumer, error) {
	c, err := s.store.GetConsumer(ctx, id)
	if err != nil {
		return nil, storeError(err, fmt.Sprintf("consumer %q not found", id), "")
	}
	return c, nil
}

// CreateConsumer validates req and stores a new, active consumer.
func (s *Service) CreateConsumer(ctx context.Context, actor Actor, req ConsumerCreate) (Consumer, error) {
	var v validator
	v.consumerID("id", req.ID)
	v.name("name", req.Name)
	v.words("roles", req.Roles)
	v.words("scopes", req.Scopes)
	v.plan("plan", req.Plan)
	v.metadata("metadata", req.Metadata)
	if err := v.err(); err != nil {
		return Consumer{}, err
	}

	now := s.now()
	c := &store.Consumer{
		ID: req.ID, Name: req.Name, Roles: req.Roles, Scopes: req.Scopes, Plan: req.Plan,
		Metadata: req.Metadata, Status: store.StatusActive, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.store.CreateConsumer(ctx, c); err != nil {
		return Consumer{}, storeError(err, "", fmt.Sprintf("consumer %q already exists", req.ID))
	}
	s.audit(ctx, actor, "consumer.create", c.ID, map[string]any{
		"name": c.Name, "roles": nonNil(c.Roles), "scopes": nonNil(c.Scopes), "plan": c.Plan,
		"metadata_keys": metadataKeys(c.Metadata),
	})
	return consumerFromStore(c), nil
}

// UpdateConsumer applies the non-nil fields of patch to the consumer.
// Existing keys keep their stored scopes when the consumer's scopes
// change.
func (s *Service) UpdateConsumer(ctx context.Context, actor Actor, id string, patch ConsumerPatch) (Consumer, error) {
	var v validator
	if patch.Name != nil {
		v.name("name", *patch.Name)
	}
	if patch.Roles != nil {
		v.words("roles", *patch.Roles)
	}
	if patch.Scopes != nil {
		v.words("scopes", *patch.Scopes)
	}
	if patch.Plan != nil {
		v.plan("plan", *patch.Plan)
	}
	if patch.Metadata != nil {
		v.metadata("metadata", *patch.Metadata)
	}
	if err := v.err(); err != nil {
		return Consumer{}, err
	}

	c, err := s.getConsumer(ctx, id)
	if err != nil {
		return Consumer{}, err
	}
	changed := applyPatch(c, patch)
	if len(changed) == 0 {
		return consumerFromStore(c), nil
	}
	c.UpdatedAt = s.now()
	if err := s.store.UpdateConsumer(ctx, c); err != nil {
		return Consumer{}, storeError(err, fmt.Sprintf("consumer %q not found", id), "")
	}
	s.audit(ctx, actor, "consumer.update", id, changed)
	return consumerFromStore(c), nil
}

// applyPatch copies the patch into c and returns the changed fields for
// the audit entry. Metadata values are left out of it: they are free text
// that may hold something an operator would not want in the audit trail.
func applyPatch(c *store.Consumer, p ConsumerPatch) map[string]any {
	changed := map[string]any{}
	if p.Name != nil && *p.Name != c.Name {
		c.Name = *p.Name
		changed["name"] = c.Name
	}
	if p.Roles != nil {
		c.Roles = *p.Roles
		changed["roles"] = nonNil(c.Roles)
	}
	if p.Scopes != nil {
		c.Scopes = *p.Scopes
		changed["scopes"] = nonNil(c.Scopes)
	}
	if p.Plan != nil && *p.Plan != c.Plan {
		c.Plan = *p.Plan
		changed["plan"] = c.Plan
	}
	if p.Metadata != nil {
		c.Metadata = *p.Metadata
		changed["metadata_keys"] = metadataKeys(c.Metadata)
	}
	return changed
}

// SetConsumerStatus suspends (store.StatusSuspended) or activates
// (store.StatusActive) the consumer. Setting the current status again
// changes nothing and writes no audit entry.
func (s *Service) SetConsumerStatus(ctx context.Context, actor Actor, id, status string) (Consumer, error) {
	action := map[string]string{store.StatusActive: "consumer.activate", store.StatusSuspended: "consumer.suspend"}[status]
	if action == "" {
		return Consumer{}, invalidField("status", "must be %q or %q", store.StatusActive, store.StatusSuspended)
	}
	c, err := s.getConsumer(ctx, id)
	if err != nil {
		return Consumer{}, err
	}
	if c.Status == status {
		return consumerFromStore(c), nil
	}
	previous := c.Status
	c.Status, c.UpdatedAt = status, s.now()
	if err := s.store.UpdateConsumer(ctx, c); err != nil {
		return Consumer{}, storeError(err, fmt.Sprintf("consumer %q not found", id), "")
	}
	s.audit(ctx, actor, action, id, map[string]any{"status": status, "previous_status": previous})
	return consumerFromStore(c), nil
}

// DeleteConsumer deletes the consumer with all its keys.
func (s *Service) DeleteConsumer(ctx context.Context, actor Actor, id string) error {
	keys, err := s.store.ListKeys(ctx, id)
	if err != nil {
		return internal(err)
	}
	if err := s.store.DeleteConsumer(ctx, id); err != nil {
		return storeError(err, fmt.Sprintf("consumer %q not found", id), "")
	}
	keyIDs := make([]string, len(keys))
	for i, k := range keys {
		keyIDs[i] = k.ID
	}
	s.audit(ctx, actor, "consumer.delete", id, map[string]any{"deleted_keys": keyIDs})
	return nil
}

func metadataKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
