package postgres

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/storetest"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func openDSN(t *testing.T, dsn string, logger *slog.Logger) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, logger)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func waitSignal(ch <-chan struct{}, d time.Duration) bool {
	select {
	case _, ok := <-ch:
		return ok
	case <-time.After(d):
		return false
	}
}

// listening subscribes to s's changes and waits for the signal the
// listener sends once LISTEN takes effect.
func listening(t *testing.T, s *Store) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch := s.Changes(ctx)
	if !waitSignal(ch, 5*time.Second) {
		t.Fatal("got no signal within 5s of subscribing, want one when LISTEN takes effect")
	}
	return ch
}

func TestChangesFromOtherNode(t *testing.T) {
	dsn := newSchema(t)
	writer := openDSN(t, dsn, discardLogger())
	watched := openDSN(t, dsn, discardLogger())
	storetest.RunNotifier(t, writer, listening(t, watched))
}

func TestChangesOtherSchemaIgnored(t *testing.T) {
	watched := openDSN(t, newSchema(t), discardLogger())
	other := openDSN(t, newSchema(t), discardLogger())
	ch := listening(t, watched)
	if err := other.CreateConsumer(context.Background(), &store.Consumer{ID: "acme"}); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	if waitSignal(ch, 300*time.Millisecond) {
		t.Errorf("got a signal for a write in another schema")
	}
}

func TestChangesNotSentForFailedWrite(t *testing.T) {
	dsn := newSchema(t)
	writer := openDSN(t, dsn, discardLogger())
	ch := listening(t, openDSN(t, dsn, discardLogger()))
	ctx := context.Background()
	if err := writer.RevokeKey(ctx, "missing", time.Now()); err == nil {
		t.Fatal("RevokeKey of a missing key: got no error")
	}
	if err := writer.CreateKey(ctx, &store.Key{ID: "k1", ConsumerID: "missing", Hash: []byte("h")}); err == nil {
		t.Fatal("CreateKey for a missing consumer: got no error")
	}
	if err := writer.TouchKey(ctx, "missing", time.Now(), "127.0.0.1"); err == nil {
		t.Fatal("TouchKey of a missing key: got no error")
	}
	if waitSignal(ch, 300*time.Millisecond) {
		t.Errorf("got a signal for writes that changed nothing")
	}
}

func TestChangesAfterReconnect(t *testing.T) {
	dsn := newSchema(t)
	// A unique application_name lets the test find this listener's backend
	// among those of other tests.
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	app := "warden_test_" + u.Query().Get("search_path")
	dsn += "&application_name=" + app
	logs := &lockedBuffer{}
	watched := openDSN(t, dsn, slog.New(slog.NewTextHandler(logs, nil)))
	writer := openDSN(t, dsn, discardLogger())
	ch := listening(t, watched)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, reachableDSN(t))
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	defer conn.Close(ctx)
	var terminated int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name = $1 AND query LIKE 'LISTEN %'`, app).Scan(&terminated)
	if err != nil {
		t.Fatalf("terminating the listener's backend: %v", err)
	}
	if terminated != 1 {
		t.Fatalf("terminated %d listener backends, want 1", terminated)
	}

	// Changes made while the listener was down may have been missed, so it
	// signals once it listens again.
	if !waitSignal(ch, 5*time.Second) {
		t.Fatal("got no signal within 5s of the listener's connection being terminated")
	}
	if !strings.Contains(logs.String(), "store change listener reconnected") {
		t.Errorf("log does not mention the reconnection:\n%s", logs.String())
	}
	if err := writer.CreateConsumer(ctx, &store.Consumer{ID: "acme"}); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	if !waitSignal(ch, storetest.SignalWithin) {
		t.Errorf("got no signal within %v of a write after the reconnection", storetest.SignalWithin)
	}
}

func TestChangesClosed(t *testing.T) {
	dsn := newSchema(t)
	s, err := Open(context.Background(), dsn, discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	byCancel, byClose := s.Changes(ctx), s.Changes(context.Background())
	cancel()
	for range byCancel {
		// The listening signal may come before the close.
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range byClose {
	}
	if _, open := <-s.Changes(context.Background()); open {
		t.Errorf("Changes after Close: got an open channel, want a closed one")
	}
}

func TestChangesAfterIdlePings(t *testing.T) {
	dsn := newSchema(t)
	watched := openDSN(t, dsn, discardLogger())
	// Several idle timeouts, each followed by a ping, pass before the write.
	watched.listener.idle = 20 * time.Millisecond
	writer := openDSN(t, dsn, discardLogger())
	ch := listening(t, watched)
	time.Sleep(200 * time.Millisecond)
	select {
	case <-ch:
		// A reconnection would signal: the pings must keep the connection.
		t.Fatal("got a signal from idle pings, want none")
	default:
	}
	if err := writer.CreateConsumer(context.Background(), &store.Consumer{ID: "acme"}); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	if !waitSignal(ch, storetest.SignalWithin) {
		t.Errorf("got no signal within %v of a write after idle pings", storetest.SignalWithin)
	}
}
