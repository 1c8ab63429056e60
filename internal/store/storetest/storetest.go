// Package storetest is the conformance suite that every store.Store
// implementation passes. An implementation's test calls Run with a function
// that opens a new, empty store.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/store"
)

// Run runs the conformance suite. open returns a new, empty store for each
// subtest and arranges its cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"consumer round trip", testConsumerRoundTrip},
		{"consumer list order", testConsumerList},
		{"consumer update", testConsumerUpdate},
		{"consumer not found", testConsumerNotFound},
		{"consumer conflict", testConsumerConflict},
		{"consumer delete cascades", testConsumerDeleteCascades},
		{"key round trip", testKeyRoundTrip},
		{"key errors", testKeyErrors},
		{"key list", testKeyList},
		{"key revoke", testKeyRevoke},
		{"key rotate", testKeyRotate},
		{"key rotate keeps earlier expiry", testKeyRotateEarlierExpiry},
		{"key rotate rejected", testKeyRotateRejected},
		{"key rotate concurrent", testKeyRotateConcurrent},
		{"key touch", testKeyTouch},
		{"admin tokens", testAdminTokens},
		{"admin token errors", testAdminTokenErrors},
		{"audit order", testAuditOrder},
		{"quota usage", testQuotaUsage},
		{"quota concurrent adds", testQuotaConcurrent},
		{"quota unknown consumer", testQuotaUnknownConsumer},
		{"ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// base is a fixed time with a sub-microsecond part and a non-UTC zone, so
// round trips check both normalizations.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("UTC+2", 2*3600))

func at(d time.Duration) time.Time { return base.Add(d) }

func newConsumer(id string) *store.Consumer {
	return &store.Consumer{
		ID:        id,
		Name:      "Consumer " + id,
		Roles:     []string{"reader"},
		Scopes:    []string{"books:read", "books:write"},
		Plan:      "gold",
		Metadata:  map[string]string{"team": "mobile"},
		Status:    store.StatusActive,
		CreatedAt: at(0),
		UpdatedAt: at(0),
	}
}

func newKey(id, consumerID string) *store.Key {
	return &store.Key{
		ID:         id,
		ConsumerID: consumerID,
		Name:       "key " + id,
		Hash:       []byte("hash-of-" + id),
		Scopes:     []string{"books:read"},
		ExpiresAt:  at(30 * 24 * time.Hour),
		CreatedAt:  at(time.Minute),
	}
}

func mustCreateConsumer(t *testing.T, s store.Store, id string) *store.Consumer {
	t.Helper()
	c := newConsumer(id)
	if err := s.CreateConsumer(context.Background(), c); err != nil {
		t.Fatalf("CreateConsumer(%q): %v", id, err)
	}
	return c
}

func mustCreateKey(t *testing.T, s store.Store, k *store.Key) {
	t.Helper()
	if err := s.CreateKey(context.Background(), k); err != nil {
		t.Fatalf("CreateKey(%q): %v", k.ID, err)
	}
}

func mustGetKey(t *testing.T, s store.Store, id string) *store.Key {
	t.Helper()
	k, err := s.GetKey(context.Background(), id)
	if err != nil {
		t.Fatalf("GetKey(%q): %v", id, err)
	}
	return k
}

func wantErr(t *testing.T, op string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", op, err, want)
	}
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	want = store.Normalize(want)
	if !got.Equal(want) || got.Location() != want.Location() {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
