package authn

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/store"
)

func TestInvalidateAllRevokedKey(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	key, rec := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})
	_, res := run(s, "/", bearer(key))
	wantAllow(t, res)

	// Another process revokes the key: the cached record still allows it.
	if err := e.st.RevokeKey(ctx, rec.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	_, res = run(s, "/", bearer(key))
	wantAllow(t, res)

	e.a.InvalidateAll()
	_, res = run(s, "/", bearer(key))
	wantDeny(t, res, http.StatusUnauthorized, ReasonKeyRevoked)
}

func TestInvalidateAllSuspendedConsumer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, config.Authn{})
	c := addConsumer(t, e.st, store.Consumer{ID: "acme"})
	key, _ := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})
	_, res := run(s, "/", bearer(key))
	wantAllow(t, res)

	c.Status = store.StatusSuspended
	if err := e.st.UpdateConsumer(ctx, c); err != nil {
		t.Fatal(err)
	}
	e.a.InvalidateAll()
	_, res = run(s, "/", bearer(key))
	wantDeny(t, res, http.StatusUnauthorized, ReasonConsumerSuspended)
}

func TestInvalidateAllReadsOnce(t *testing.T) {
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	key, _ := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})
	_, res := run(s, "/", bearer(key))
	wantAllow(t, res)

	e.a.InvalidateAll()
	for range 3 {
		_, res = run(s, "/", bearer(key))
		wantAllow(t, res)
	}
	if got := e.st.keyReads.Load(); got != 2 {
		t.Errorf("store key reads = %d, want 2: one before and one after InvalidateAll", got)
	}
}

func TestInvalidateAllKeepsStaleFallback(t *testing.T) {
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	key, _ := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})
	_, res := run(s, "/", bearer(key))
	wantAllow(t, res)

	e.a.InvalidateAll()
	e.st.fail.Store(true)
	_, res = run(s, "/", bearer(key))
	wantAllow(t, res)
	if !strings.Contains(e.logs.String(), "using a cached record") {
		t.Errorf("log does not mention the stale record:\n%s", e.logs.String())
	}

	// The fallback ends with the record's stale period, as without
	// InvalidateAll.
	e.clock.Advance(defaultCacheTTL + staleTTL)
	_, res = run(s, "/", bearer(key))
	wantDeny(t, res, http.StatusServiceUnavailable, ReasonStoreUnavailable)
}

// TestInvalidateAllInFlightRead checks that a read that began before
// invalidateAll, and so may return the record as it was before the change,
// does not refill the cache.
func TestInvalidateAllInFlightRead(t *testing.T) {
	var reads atomic.Int64
	entered, release := make(chan struct{}), make(chan struct{})
	l := newLookup("test", time.Minute, time.Now, discardLog(), func(ctx context.Context, id string) (string, error) {
		if reads.Add(1) == 1 {
			close(entered)
			<-release
			return "before", nil
		}
		return "after", nil
	})
	ctx := context.Background()

	done := make(chan string)
	go func() {
		v, _, _ := l.get(ctx, "k")
		done <- v
	}()
	<-entered
	l.invalidateAll()

	// A get after invalidateAll does not wait for the earlier read.
	later := make(chan string)
	go func() {
		v, _, _ := l.get(ctx, "k")
		later <- v
	}()
	select {
	case got := <-later:
		if got != "after" {
			t.Errorf("get during the earlier read = %q, want %q", got, "after")
		}
	case <-time.After(time.Second):
		t.Fatal("get after invalidateAll joined the read that began before it")
	}

	close(release)
	if got := <-done; got != "before" {
		t.Fatalf("in-flight get = %q, want %q", got, "before")
	}
	v, _, err := l.get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if v != "after" {
		t.Errorf("get after both reads = %q, want %q from the cache", v, "after")
	}
	if got := reads.Load(); got != 2 {
		t.Errorf("store reads = %d, want 2", got)
	}
}

func TestInvalidateAllConcurrent(t *testing.T) {
	var reads atomic.Int64
	l := newLookup("test", time.Minute, time.Now, discardLog(), func(ctx context.Context, id string) (int64, error) {
		return reads.Add(1), nil
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, ok, err := l.get(ctx, "k"); err != nil || !ok {
					t.Errorf("get: ok %v, error %v, want the record", ok, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			l.invalidateAll()
		}
	})
	wg.Wait()

	// Once the invalidations stop, one read refills the cache for good.
	before := reads.Load()
	for range 3 {
		if _, _, err := l.get(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if got := reads.Load() - before; got > 1 {
		t.Errorf("store reads after the last invalidation = %d, want at most 1", got)
	}
}

func TestIdentityIndexMarkStale(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	clk := newClock()
	addConsumer(t, st, store.Consumer{ID: "old", Metadata: map[string]string{MTLSIdentityKey: "spiffe://a"}})
	addConsumer(t, st, store.Consumer{ID: "new"})
	ix := newIdentityIndex(st, clk.Now, discardLog())
	wantMapped(t, ix, "spiffe://a", "old")

	// The identity moves to another consumer.
	for id, meta := range map[string]map[string]string{"old": nil, "new": {MTLSIdentityKey: "spiffe://a"}} {
		c, err := st.GetConsumer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata = meta
		if err := st.UpdateConsumer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	wantMapped(t, ix, "spiffe://a", "old")
	ix.markStale()
	wantMapped(t, ix, "spiffe://a", "new")

	// A stale index is the fallback for a store that fails.
	ix.markStale()
	st.fail.Store(true)
	wantMapped(t, ix, "spiffe://a", "new")
}

func wantMapped(t *testing.T, ix *identityIndex, value, want string) {
	t.Helper()
	got, ok, err := ix.lookup(context.Background(), value)
	if err != nil || !ok || got != want {
		t.Errorf("lookup(%q) = %q, %v, %v, want %q", value, got, ok, err, want)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
