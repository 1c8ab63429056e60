package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/storetest"
)

// openPair opens two Stores on one new database file, as the gateway and
// the CLI would.
func openPair(t *testing.T) (a, b *Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "warden.db")
	for _, s := range []**Store{&a, &b} {
		var err error
		if *s, err = Open(path, discardLogger()); err != nil {
			t.Fatalf("Open: %v", err)
		}
		st := *s
		t.Cleanup(func() { _ = st.Close() })
	}
	return a, b
}

func waitSignal(ch <-chan struct{}, d time.Duration) bool {
	select {
	case _, ok := <-ch:
		return ok
	case <-time.After(d):
		return false
	}
}

func TestChangesFromOtherStore(t *testing.T) {
	writer, watched := openPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	storetest.RunNotifier(t, writer, watched.Changes(ctx))
}

func TestChangesQuietWithoutWrites(t *testing.T) {
	_, watched := openPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := watched.Changes(ctx)
	if waitSignal(ch, 3*PollInterval) {
		t.Errorf("got a signal with no write")
	}
}

func TestChangesOwnWriteAtOnce(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := s.Changes(ctx)
	if err := s.CreateConsumer(ctx, &store.Consumer{ID: "acme"}); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	// The write signals before it returns, not at the next poll.
	select {
	case <-ch:
	default:
		t.Errorf("no signal pending when CreateConsumer returned")
	}
}

func TestChangesClosed(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "warden.db"), discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	byCancel, byClose := s.Changes(ctx), s.Changes(context.Background())

	cancel()
	if _, open := <-byCancel; open {
		t.Errorf("channel open after its context ended")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, open := <-byClose; open {
		t.Errorf("channel open after Close")
	}
	if _, open := <-s.Changes(context.Background()); open {
		t.Errorf("Changes after Close: got an open channel, want a closed one")
	}
}

// helperEnv names the database file that TestHelperWriteProcess writes to
// when this test binary runs as the second process.
const helperEnv = "WARDEN_SQLITE_HELPER_DB"

// TestHelperWriteProcess is not a test: TestChangesFromOtherProcess runs the
// test binary again with helperEnv set, and this function then revokes a key
// as `warden keys revoke` would.
func TestHelperWriteProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("runs only as the helper process of TestChangesFromOtherProcess")
	}
	s, err := Open(path, discardLogger())
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: Open:", err)
		os.Exit(1)
	}
	defer s.Close()
	if err := s.RevokeKey(context.Background(), "k1", time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "helper: RevokeKey:", err)
		os.Exit(1)
	}
}

func TestChangesFromOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warden.db")
	s, err := Open(path, discardLogger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateConsumer(ctx, &store.Consumer{ID: "acme"}); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	if err := s.CreateKey(ctx, &store.Key{ID: "k1", ConsumerID: "acme", Hash: []byte("h")}); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	ch := s.Changes(ctx)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriteProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	if !waitSignal(ch, time.Second) {
		t.Fatal("got no signal within 1s of the other process's revocation")
	}
	k, err := s.GetKey(ctx, "k1")
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if k.RevokedAt.IsZero() {
		t.Errorf("key k1 not revoked after the helper process ran")
	}
}

// BenchmarkDataVersion measures one poll of the change watch.
func BenchmarkDataVersion(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "warden.db"), discardLogger())
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	vc, _, err := s.watch.connect(ctx)
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	defer vc.close()
	for b.Loop() {
		if _, err := vc.read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
