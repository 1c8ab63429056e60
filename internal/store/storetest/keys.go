package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/store"
)

func normalizedKey(k *store.Key) store.Key {
	n := *k
	n.CreatedAt = store.Normalize(k.CreatedAt)
	n.ExpiresAt = store.Normalize(k.ExpiresAt)
	n.RevokedAt = store.Normalize(k.RevokedAt)
	n.LastUsedAt = store.Normalize(k.LastUsedAt)
	return n
}

func testKeyRoundTrip(t *testing.T, s store.Store) {
	mustCreateConsumer(t, s, "acme")
	want := newKey("k1", "acme")
	mustCreateKey(t, s, want)
	wantEqual(t, "key", *mustGetKey(t, s, "k1"), normalizedKey(want))

	// A key without expiry, scopes or name.
	bare := &store.Key{ID: "k2", ConsumerID: "acme", Hash: []byte{0, 1, 2, 255}, CreatedAt: at(0)}
	mustCreateKey(t, s, bare)
	wantEqual(t, "bare key", *mustGetKey(t, s, "k2"), normalizedKey(bare))
}

func testKeyErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateConsumer(t, s, "acme")
	mustCreateKey(t, s, newKey("k1", "acme"))

	err := s.CreateKey(ctx, newKey("k1", "acme"))
	wantErr(t, "CreateKey(duplicate)", err, store.ErrConflict)
	err = s.CreateKey(ctx, newKey("k2", "missing"))
	wantErr(t, "CreateKey(unknown consumer)", err, store.ErrNotFound)
	_, err = s.GetKey(ctx, "missing")
	wantErr(t, "GetKey", err, store.ErrNotFound)
	err = s.RevokeKey(ctx, "missing", at(0))
	wantErr(t, "RevokeKey", err, store.ErrNotFound)
	err = s.TouchKey(ctx, "missing", at(0), "127.0.0.1")
	wantErr(t, "TouchKey", err, store.ErrNotFound)
}

func testKeyList(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateConsumer(t, s, "acme")
	mustCreateConsumer(t, s, "other")
	k1, k2, k3 := newKey("k1", "acme"), newKey("k2", "other"), newKey("k3", "acme")
	k1.CreatedAt, k2.CreatedAt, k3.CreatedAt = at(3*time.Second), at(2*time.Second), at(time.Second)
	for _, k := range []*store.Key{k1, k2, k3} {
		mustCreateKey(t, s, k)
	}

	tests := []struct {
		consumer string
		want     []string
	}{
		{"acme", []string{"k3", "k1"}},
		{"other", []string{"k2"}},
		{"", []string{"k3", "k2", "k1"}},
		{"missing", nil},
	}
	for _, tt := range tests {
		keys, err := s.ListKeys(ctx, tt.consumer)
		if err != nil {
			t.Fatalf("ListKeys(%q): %v", tt.consumer, err)
		}
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		wantEqual(t, "ListKeys("+tt.consumer+")", ids, tt.want)
	}

	keys, err := s.ListKeys(ctx, "acme")
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	wantEqual(t, "listed key", keys[1], normalizedKey(k1))
}

func testKeyRevoke(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateConsumer(t, s, "acme")
	mustCreateKey(t, s, newKey("k1", "acme"))

	if err := s.RevokeKey(ctx, "k1", at(time.Hour)); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	wantTime(t, "revoked_at", mustGetKey(t, s, "k1").RevokedAt, at(time.Hour))

	// A second revocation keeps the first time.
	if err := s.RevokeKey(ctx, "k1", at(2*time.Hour)); err != nil {
		t.Fatalf("RevokeKey(again): %v", err)
	}
	wantTime(t, "revoked_at after second revoke", mustGetKey(t, s, "k1").RevokedAt, at(time.Hour))
}

func testKeyRotate(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateConsumer(t, s, "acme")
	old := newKey("old", "acme")
	mustCreateKey(t, s, old)

	next := newKey("new", "")
	next.CreatedAt = at(time.Hour)
	if err := s.RotateKey(ctx, "old", at(25*time.Hour), next); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if next.ConsumerID != "acme" {
		t.Errorf("next.ConsumerID: got %q, want %q", next.ConsumerID, "acme")
	}

	gotOld := mustGetKey(t, s, "old")
	wantTime(t, "old expires_at", gotOld.ExpiresAt, at(25*time.Hour))
	if gotOld.ReplacedBy != "new" {
		t.Errorf("old replaced_by: got %q, want %q", gotOld.ReplacedBy, "new")
	}
	want := normalizedKey(next)
	want.ConsumerID = "acme"
	wantEqual(t, "new key", *mustGetKey(t, s, "new"), want)
}

func testKeyRotateEarlierExpiry(t *testing.T, s store.Store) {
	mustCreateConsumer(t, s, "acme")
	old := newKey("old", "acme")
	old.ExpiresAt = at(2 * time.Hour)
	mustCreateKey(t, s, old)

	if err := s.RotateKey(context.Background(), "old", at(48*time.Hour), newKey("new", "acme")); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	wantTime(t, "old expires_at", mustGetKey(t, s, "old").ExpiresAt, at(2*time.Hour))

	// A key without expiry gets the overlap's end.
	noExpiry := newKey("forever", "acme")
	noExpiry.ExpiresAt = time.Time{}
	mustCreateKey(t, s, noExpiry)
	if err := s.RotateKey(context.Background(), "forever", at(time.Hour), newKey("forever2", "acme")); err != nil {
		t.Fatalf("RotateKey(no expiry): %v", err)
	}
	wantTime(t, "expires_at of key without expiry", mustGetKey(t, s, "forever").ExpiresAt, at(time.Hour))
}

func testKeyRotateRejected(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateConsumer(t, s, "acme")
	mustCreateConsumer(t, s, "other")
	mustCreateKey(t, s, newKey("rotated", "acme"))
	mustCreateKey(t, s, newKey("revoked", "acme"))
	mustCreateKey(t, s, newKey("taken", "acme"))
	if err := s.RotateKey(ctx, "rotated", at(time.Hour), newKey("next", "acme")); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if err := s.RevokeKey(ctx, "revoked", at(0)); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}

	tests := []struct {
		name string
		old  string
		next *store.Key
		want error
	}{
		{"missing", "missing", newKey("n1", "acme"), store.ErrNotFound},
		{"twice", "rotated", newKey("n2", "acme"), store.ErrConflict},
		{"revoked", "revoked", newKey("n3", "acme"), store.ErrConflict},
		{"id taken", "taken", newKey("rotated", "acme"), store.ErrConflict},
		{"other consumer", "taken", newKey("n4", "other"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.RotateKey(ctx, tt.old, at(time.Hour), tt.next)
			if err == nil {
				t.Fatalf("RotateKey(%q): got no error", tt.old)
			}
			if tt.want != nil {
				wantErr(t, "RotateKey", err, tt.want)
			}
			if tt.next.ID != "rotated" {
				_, err := s.GetKey(ctx, tt.next.ID)
				wantErr(t, "GetKey(new key of rejected rotation)", err, store.ErrNotFound)
			}
		})
	}

	// The rejected rotations left the key untouched.
	taken := mustGetKey(t, s, "taken")
	wantEqual(t, "untouched key", *taken, normalizedKey(newKey("taken", "acme")))
}

func testKeyTouch(t *testing.T, s store.Store) {
	mustCreateConsumer(t, s, "acme")
	mustCreateKey(t, s, newKey("k1", "acme"))
	if err := s.TouchKey(context.Background(), "k1", at(time.Minute), "2001:db8::1"); err != nil {
		t.Fatalf("TouchKey: %v", err)
	}
	k := mustGetKey(t, s, "k1")
	wantTime(t, "last_used_at", k.LastUsedAt, at(time.Minute))
	if k.LastUsedIP != "2001:db8::1" {
		t.Errorf("last_used_ip: got %q, want %q", k.LastUsedIP, "2001:db8::1")
	}
}

func testKeyRotateConcurrent(t *testing.T, s store.Store) {
	const rotations = 8
	mustCreateConsumer(t, s, "acme")
	mustCreateKey(t, s, newKey("old", "acme"))

	var wg sync.WaitGroup
	errs := make([]error, rotations)
	for i := range rotations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.RotateKey(context.Background(), "old", at(time.Hour), newKey(fmt.Sprintf("new%d", i), "acme"))
		}()
	}
	wg.Wait()

	succeeded := 0
	for _, err := range errs {
		switch {
		case err == nil:
			succeeded++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("RotateKey: got error %v, want nil or %v", err, store.ErrConflict)
		}
	}
	if succeeded != 1 {
		t.Errorf("successful rotations: got %d, want 1", succeeded)
	}
	keys, err := s.ListKeys(context.Background(), "acme")
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	if len(keys) != 2 {
		t.Errorf("keys after concurrent rotations: got %d, want 2", len(keys))
	}
}
