package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/storetest"
)

// The tests need a PostgreSQL server on 127.0.0.1:5432 with a database
// named test that trusts local connections as postgres or root. Each test
// works in its own schema and drops it afterwards.
const skipMessage = "PostgreSQL not reachable at 127.0.0.1:5432; start it to run these tests"

var baseDSNs = []string{
	"postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=3",
	"postgres://root@127.0.0.1:5432/test?sslmode=disable&connect_timeout=3",
}

// reachableDSN returns the first DSN that connects, or skips the test.
func reachableDSN(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, dsn := range baseDSNs {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			continue
		}
		_ = conn.Close(ctx)
		return dsn
	}
	t.Skip(skipMessage)
	return ""
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newSchema creates an empty schema and drops it when the test ends. It
// returns a DSN whose search_path is that schema.
func newSchema(t testing.TB) string {
	t.Helper()
	dsn := reachableDSN(t)
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "warden_test_" + hex.EncodeToString(b[:])

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("connecting to drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return dsn + "&search_path=" + schema
}

func openTemp(t testing.TB) *Store {
	t.Helper()
	dsn := newSchema(t)
	s, err := Open(context.Background(), dsn, discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// Registered after the schema cleanup, so it runs first.
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	reachableDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestOpenConcurrentMigrations(t *testing.T) {
	dsn := newSchema(t)
	const nodes = 4
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	stores := make([]*Store, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), dsn, discardLogger())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: Open: %v", i, err)
			continue
		}
		_ = stores[i].Close()
	}
}

func TestOpenNewerSchema(t *testing.T) {
	dsn := newSchema(t)
	s, err := Open(context.Background(), dsn, discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_, err = s.pool.Exec(context.Background(), `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`,
		SchemaVersion()+1)
	_ = s.Close()
	if err != nil {
		t.Fatalf("recording a future migration: %v", err)
	}

	_, err = Open(context.Background(), dsn, discardLogger())
	if err == nil {
		t.Fatal("Open: got no error for a newer schema")
	}
	if !strings.Contains(err.Error(), "upgrade warden") {
		t.Errorf("Open: got %q, want a message that says to upgrade warden", err)
	}
}

func TestOpenInvalidDSNHidesPassword(t *testing.T) {
	_, err := Open(context.Background(), "postgres://warden:hunter2@127.0.0.1:5432/x?sslmode=bogus", discardLogger())
	if err == nil {
		t.Fatal("Open: got no error for an invalid DSN")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open: error %q contains the password", err)
	}
}

func BenchmarkGetKey(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	if err := s.CreateConsumer(ctx, &store.Consumer{ID: "acme"}); err != nil {
		b.Fatalf("CreateConsumer: %v", err)
	}
	if err := s.CreateKey(ctx, &store.Key{ID: "k1", ConsumerID: "acme", Hash: []byte("h")}); err != nil {
		b.Fatalf("CreateKey: %v", err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.GetKey(ctx, "k1"); err != nil {
			b.Fatalf("GetKey: %v", err)
		}
	}
}
