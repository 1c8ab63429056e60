package sqlite

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/storetest"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "warden.db"), discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestOpenPragmas(t *testing.T) {
	s := openTemp(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := s.db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s: got %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warden.db")
	s, err := Open(path, discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.CreateConsumer(context.Background(), &store.Consumer{ID: "acme"}); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path, discardLogger())
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s.Close()
	if _, err := s.GetConsumer(context.Background(), "acme"); err != nil {
		t.Errorf("GetConsumer after reopen: %v", err)
	}
	var versions int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatalf("counting migrations: %v", err)
	}
	if versions != len(migrations) {
		t.Errorf("recorded migrations: got %d, want %d", versions, len(migrations))
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warden.db")
	s, err := Open(path, discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_, err = s.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', ?)`,
		SchemaVersion()+1, encodeTime(time.Now()))
	if err != nil {
		t.Fatalf("recording a future migration: %v", err)
	}
	_ = s.Close()

	_, err = Open(path, discardLogger())
	if err == nil {
		t.Fatal("Open: got no error for a newer schema")
	}
	if !strings.Contains(err.Error(), "upgrade warden") {
		t.Errorf("Open: got %q, want a message that says to upgrade warden", err)
	}
}

func TestOpenInvalidPath(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"empty", ""},
		{"query", filepath.Join(t.TempDir(), "warden.db?mode=ro")},
		{"missing dir", filepath.Join(t.TempDir(), "no", "such", "dir", "warden.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path, discardLogger())
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%q): got no error", tt.path)
			}
		})
	}
}

func TestStoredTimesAreUTCText(t *testing.T) {
	s := openTemp(t)
	created := time.Date(2025, 1, 2, 3, 4, 5, 6007, time.FixedZone("EST", -5*3600))
	if err := s.CreateConsumer(context.Background(), &store.Consumer{ID: "acme", CreatedAt: created}); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	var got string
	if err := s.db.QueryRow(`SELECT created_at FROM consumers WHERE id = 'acme'`).Scan(&got); err != nil {
		t.Fatalf("reading created_at: %v", err)
	}
	if want := "2025-01-02T08:04:05.000006Z"; got != want {
		t.Errorf("stored created_at: got %q, want %q", got, want)
	}
}

func BenchmarkGetKey(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "warden.db"), discardLogger())
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateConsumer(ctx, &store.Consumer{ID: "acme"}); err != nil {
		b.Fatalf("CreateConsumer: %v", err)
	}
	if err := s.CreateKey(ctx, &store.Key{ID: "k1", ConsumerID: "acme", Hash: []byte("h"), Scopes: []string{"a", "b"}}); err != nil {
		b.Fatalf("CreateKey: %v", err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.GetKey(ctx, "k1"); err != nil {
			b.Fatalf("GetKey: %v", err)
		}
	}
}

func BenchmarkAddQuotaUsage(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "warden.db"), discardLogger())
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateConsumer(ctx, &store.Consumer{ID: "acme"}); err != nil {
		b.Fatalf("CreateConsumer: %v", err)
	}
	u := store.QuotaUsage{ConsumerID: "acme", Quota: "monthly", PeriodStart: time.Now(), Requests: 1, Bytes: 100}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.AddQuotaUsage(ctx, u); err != nil {
			b.Fatalf("AddQuotaUsage: %v", err)
		}
	}
}
