package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/store"
)

func normalizedConsumer(c *store.Consumer) store.Consumer {
	n := *c
	n.CreatedAt = store.Normalize(c.CreatedAt)
	n.UpdatedAt = store.Normalize(c.UpdatedAt)
	return n
}

func testConsumerRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	want := newConsumer("acme-mobile")
	if err := s.CreateConsumer(ctx, want); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	got, err := s.GetConsumer(ctx, "acme-mobile")
	if err != nil {
		t.Fatalf("GetConsumer: %v", err)
	}
	wantEqual(t, "consumer", *got, normalizedConsumer(want))
	wantTime(t, "created_at", got.CreatedAt, base)

	// Empty lists and maps read back as nil, and an empty status is active.
	bare := &store.Consumer{ID: "bare", CreatedAt: at(0), UpdatedAt: at(0)}
	if err := s.CreateConsumer(ctx, bare); err != nil {
		t.Fatalf("CreateConsumer(bare): %v", err)
	}
	got, err = s.GetConsumer(ctx, "bare")
	if err != nil {
		t.Fatalf("GetConsumer(bare): %v", err)
	}
	wantEqual(t, "bare consumer", *got, store.Consumer{
		ID: "bare", Status: store.StatusActive,
		CreatedAt: store.Normalize(at(0)), UpdatedAt: store.Normalize(at(0)),
	})
}

func testConsumerList(t *testing.T, s store.Store) {
	ctx := context.Background()
	got, err := s.ListConsumers(ctx)
	if err != nil {
		t.Fatalf("ListConsumers(empty): %v", err)
	}
	if len(got) != 0 {
		t.Errorf("ListConsumers(empty): got %d consumers, want 0", len(got))
	}

	for _, id := range []string{"charlie", "alpha", "bravo"} {
		mustCreateConsumer(t, s, id)
	}
	got, err = s.ListConsumers(ctx)
	if err != nil {
		t.Fatalf("ListConsumers: %v", err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	wantEqual(t, "ids", ids, []string{"alpha", "bravo", "charlie"})
	wantEqual(t, "first consumer", got[0], normalizedConsumer(newConsumer("alpha")))
}

func testConsumerUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := mustCreateConsumer(t, s, "acme")

	c.Name = "Acme Inc."
	c.Roles = nil
	c.Scopes = []string{"books:read"}
	c.Plan = "silver"
	c.Metadata = map[string]string{"team": "web", "owner": "ops"}
	c.Status = store.StatusSuspended
	c.CreatedAt = at(time.Hour) // ignored: CreatedAt is not mutable
	c.UpdatedAt = at(2 * time.Hour)
	if err := s.UpdateConsumer(ctx, c); err != nil {
		t.Fatalf("UpdateConsumer: %v", err)
	}

	got, err := s.GetConsumer(ctx, "acme")
	if err != nil {
		t.Fatalf("GetConsumer: %v", err)
	}
	want := normalizedConsumer(c)
	want.CreatedAt = store.Normalize(at(0))
	wantEqual(t, "updated consumer", *got, want)
}

func testConsumerNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetConsumer(ctx, "missing")
	wantErr(t, "GetConsumer", err, store.ErrNotFound)
	err = s.UpdateConsumer(ctx, newConsumer("missing"))
	wantErr(t, "UpdateConsumer", err, store.ErrNotFound)
	err = s.DeleteConsumer(ctx, "missing")
	wantErr(t, "DeleteConsumer", err, store.ErrNotFound)
}

func testConsumerConflict(t *testing.T, s store.Store) {
	mustCreateConsumer(t, s, "acme")
	dup := newConsumer("acme")
	dup.Name = "Another"
	err := s.CreateConsumer(context.Background(), dup)
	wantErr(t, "CreateConsumer(duplicate)", err, store.ErrConflict)

	got, err := s.GetConsumer(context.Background(), "acme")
	if err != nil {
		t.Fatalf("GetConsumer: %v", err)
	}
	if got.Name != "Consumer acme" {
		t.Errorf("name after rejected duplicate: got %q, want %q", got.Name, "Consumer acme")
	}
}

func testConsumerDeleteCascades(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateConsumer(t, s, "acme")
	mustCreateConsumer(t, s, "other")
	mustCreateKey(t, s, newKey("key1", "acme"))
	mustCreateKey(t, s, newKey("key2", "acme"))
	mustCreateKey(t, s, newKey("key3", "other"))
	if _, err := s.AddQuotaUsage(ctx, store.QuotaUsage{ConsumerID: "acme", Quota: "monthly", PeriodStart: at(0), Requests: 1}); err != nil {
		t.Fatalf("AddQuotaUsage: %v", err)
	}

	if err := s.DeleteConsumer(ctx, "acme"); err != nil {
		t.Fatalf("DeleteConsumer: %v", err)
	}

	_, err := s.GetConsumer(ctx, "acme")
	wantErr(t, "GetConsumer after delete", err, store.ErrNotFound)
	for _, id := range []string{"key1", "key2"} {
		_, err := s.GetKey(ctx, id)
		wantErr(t, "GetKey("+id+") after delete", err, store.ErrNotFound)
	}
	keys, err := s.ListKeys(ctx, "")
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	if len(keys) != 1 || keys[0].ID != "key3" {
		t.Errorf("keys left: got %+v, want only key3", keys)
	}
	usage, err := s.ListQuotaUsage(ctx, "acme", time.Time{})
	if err != nil {
		t.Fatalf("ListQuotaUsage: %v", err)
	}
	if len(usage) != 0 {
		t.Errorf("quota usage left: got %+v, want none", usage)
	}
}
