package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"acme-mobile", true},
		{"A.b_c-9", true},
		{strings.Repeat("x", MaxIDLen), true},
		{"", false},
		{strings.Repeat("x", MaxIDLen+1), false},
		{"a b", false},
		{"a/b", false},
		{"é", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q): got %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestRoleRank(t *testing.T) {
	if !(RoleRank(RoleViewer) < RoleRank(RoleOperator) && RoleRank(RoleOperator) < RoleRank(RoleAdmin)) {
		t.Errorf("ranks: got viewer %d, operator %d, admin %d, want increasing",
			RoleRank(RoleViewer), RoleRank(RoleOperator), RoleRank(RoleAdmin))
	}
	if ValidRole("root") {
		t.Error("ValidRole(root): got true, want false")
	}
}

func TestKeyState(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		key  Key
		want string
	}{
		{"no expiry", Key{}, KeyActive},
		{"future expiry", Key{ExpiresAt: now.Add(time.Second)}, KeyActive},
		{"expiry reached", Key{ExpiresAt: now}, KeyExpired},
		{"revoked", Key{RevokedAt: now.Add(-time.Hour)}, KeyRevoked},
		{"revoked in the future", Key{RevokedAt: now.Add(time.Hour)}, KeyRevoked},
		{"revoked and expired", Key{RevokedAt: now, ExpiresAt: now.Add(-time.Hour)}, KeyRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.key.State(now); got != tt.want {
				t.Errorf("State: got %q, want %q", got, tt.want)
			}
			if got := tt.key.Active(now); got != (tt.want == KeyActive) {
				t.Errorf("Active: got %v, want %v", got, tt.want == KeyActive)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	in := time.Date(2025, 1, 1, 3, 0, 0, 1999, time.FixedZone("UTC+3", 3*3600))
	got := Normalize(in)
	if want := time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Normalize: got %v, want %v", got, want)
	}
	if !Normalize(time.Time{}).IsZero() {
		t.Error("Normalize(zero): got a non-zero time")
	}
}

func TestCheckRotation(t *testing.T) {
	tests := []struct {
		name string
		old  Key
		next Key
		want error
	}{
		{"ok", Key{ID: "a", ConsumerID: "c"}, Key{ID: "b"}, nil},
		{"revoked", Key{ID: "a", ConsumerID: "c", RevokedAt: time.Unix(1, 0)}, Key{ID: "b"}, ErrConflict},
		{"rotated", Key{ID: "a", ConsumerID: "c", ReplacedBy: "x"}, Key{ID: "b"}, ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRotation(&tt.old, &tt.next)
			if !errors.Is(err, tt.want) {
				t.Errorf("CheckRotation: got %v, want %v", err, tt.want)
			}
			if tt.want == nil && tt.next.ConsumerID != "c" {
				t.Errorf("next.ConsumerID: got %q, want c", tt.next.ConsumerID)
			}
		})
	}

	err := CheckRotation(&Key{ID: "a", ConsumerID: "c"}, &Key{ID: "b", ConsumerID: "other"})
	if err == nil {
		t.Error("CheckRotation(other consumer): got no error")
	}
}
