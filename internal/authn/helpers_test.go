package authn

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/sqlite"
)

// t0 is the start of every test clock.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a test clock that moves only when Advance is called.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testStore is the SQLite store with switches to make reads fail and with
// counters of the reads the authenticator makes.
type testStore struct {
	store.Store
	fail     atomic.Bool
	keyReads atomic.Int64
	touches  chan string
}

var errStoreDown = errors.New("database is locked (test)")

func (s *testStore) GetKey(ctx context.Context, id string) (*store.Key, error) {
	s.keyReads.Add(1)
	if s.fail.Load() {
		return nil, errStoreDown
	}
	return s.Store.GetKey(ctx, id)
}

func (s *testStore) GetConsumer(ctx context.Context, id string) (*store.Consumer, error) {
	if s.fail.Load() {
		return nil, errStoreDown
	}
	return s.Store.GetConsumer(ctx, id)
}

func (s *testStore) ListConsumers(ctx context.Context) ([]store.Consumer, error) {
	if s.fail.Load() {
		return nil, errStoreDown
	}
	return s.Store.ListConsumers(ctx)
}

func (s *testStore) TouchKey(ctx context.Context, id string, at time.Time, ip string) error {
	err := s.Store.TouchKey(ctx, id, at, ip)
	select {
	case s.touches <- id:
	default:
	}
	return err
}

func newStore(t testing.TB) *testStore {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "warden.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("opening sqlite store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return &testStore{Store: db, touches: make(chan string, 100)}
}

func addConsumer(t testing.TB, st store.Store, c store.Consumer) *store.Consumer {
	t.Helper()
	if c.Status == "" {
		c.Status = store.StatusActive
	}
	c.CreatedAt, c.UpdatedAt = t0, t0
	if err := st.CreateConsumer(context.Background(), &c); err != nil {
		t.Fatalf("CreateConsumer(%q): %v", c.ID, err)
	}
	return &c
}

// addKey stores a new key for consumerID and returns the key string.
func addKey(t testing.TB, st store.Store, consumerID string, scopes []string, expires time.Time) (string, *store.Key) {
	t.Helper()
	raw, k, err := apikey.Generate()
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	rec := &store.Key{ID: k.ID, ConsumerID: consumerID, Name: "test", Hash: k.Hash(),
		Scopes: scopes, ExpiresAt: expires, CreatedAt: t0}
	if err := st.CreateKey(context.Background(), rec); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return raw, rec
}

// env is an authenticator under test with its store, clock and log.
type env struct {
	a     *Authenticator
	st    *testStore
	clock *clock
	logs  *syncBuffer
}

func newEnv(t testing.TB, cfg config.Authn, opts ...func(*Options)) *env {
	t.Helper()
	e := &env{st: newStore(t), clock: newClock(), logs: &syncBuffer{}}
	opt := Options{
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:        e.clock.Now,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	}
	for _, o := range opts {
		o(&opt)
	}
	a, err := New(cfg, e.st, opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.a = a
	return e
}

func (e *env) stage(t testing.TB, route config.RouteAuth) pipeline.Stage {
	t.Helper()
	s, err := e.a.Stage(route, "routes[0].auth")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	return s
}

// exchangeFor wraps r as the gateway does before the authn stage.
func exchangeFor(r *http.Request) *pipeline.Exchange {
	return &pipeline.Exchange{
		ID:       "req-1",
		Start:    t0,
		Request:  r,
		Route:    "test",
		ClientIP: netip.MustParseAddr("127.0.0.1"),
	}
}

// run sends a request with the given headers through s.
func run(s pipeline.Stage, target string, header http.Header) (*pipeline.Exchange, pipeline.Result) {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	x := exchangeFor(r)
	return x, s.Check(context.Background(), x)
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// wantDeny fails t unless res denies with status and reason.
func wantDeny(t testing.TB, res pipeline.Result, status int, reason string) {
	t.Helper()
	if res.Decision != pipeline.Deny {
		t.Fatalf("decision = %v, want deny (%s)", res.Decision, reason)
	}
	if res.Status != status {
		t.Errorf("status = %d, want %d", res.Status, status)
	}
	if res.Reason != reason {
		t.Errorf("reason = %q, want %q", res.Reason, reason)
	}
}

func wantAllow(t testing.TB, res pipeline.Result) {
	t.Helper()
	if res.Decision != pipeline.Allow {
		t.Fatalf("decision = %v (reason %q), want allow", res.Decision, res.Reason)
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
