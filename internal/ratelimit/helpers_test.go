package ratelimit

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/store"
)

// fakeClock is a clock that moves only when advanced or set, and by step
// on every reading when step is set.
type fakeClock struct {
	ns   atomic.Int64
	step atomic.Int64
}

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time {
	return time.Unix(0, c.ns.Add(c.step.Load())).UTC()
}

func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func (c *fakeClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// recordingObserver counts the events it receives.
type recordingObserver struct {
	mu        sync.Mutex
	states    []bool
	failModes map[string]int
	flushErrs int
	lockouts  map[string]int
}

func newRecordingObserver() *recordingObserver {
	return &recordingObserver{failModes: map[string]int{}, lockouts: map[string]int{}}
}

func (o *recordingObserver) BackendStateChanged(_ string, available bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.states = append(o.states, available)
}

func (o *recordingObserver) FailModeApplied(mode string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failModes[mode]++
}

func (o *recordingObserver) QuotaFlushFailed(error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushErrs++
}

func (o *recordingObserver) Lockout(kind string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lockouts[kind]++
}

func (o *recordingObserver) stateChanges() []bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]bool(nil), o.states...)
}

// quotaStore is a store.Store that implements the consumer and quota
// methods in memory. Other methods panic through the nil embedded
// interface, which no code under test calls.
type quotaStore struct {
	store.Store
	mu        sync.Mutex
	consumers map[string]*store.Consumer
	usage     map[string]store.QuotaUsage
	adds      int
	fail      bool
}

func newQuotaStore() *quotaStore {
	return &quotaStore{consumers: map[string]*store.Consumer{}, usage: map[string]store.QuotaUsage{}}
}

func usageKey(consumer, quota string, start time.Time) string {
	return consumer + "|" + quota + "|" + start.UTC().Format(time.RFC3339)
}

func (s *quotaStore) AddQuotaUsage(_ context.Context, u store.QuotaUsage) (store.QuotaUsage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return store.QuotaUsage{}, errStoreDown
	}
	s.adds++
	k := usageKey(u.ConsumerID, u.Quota, u.PeriodStart)
	cur := s.usage[k]
	cur.ConsumerID, cur.Quota, cur.PeriodStart = u.ConsumerID, u.Quota, u.PeriodStart
	cur.Requests += u.Requests
	cur.Bytes += u.Bytes
	s.usage[k] = cur
	return cur, nil
}

func (s *quotaStore) ListQuotaUsage(_ context.Context, consumerID string, since time.Time) ([]store.QuotaUsage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return nil, errStoreDown
	}
	var out []store.QuotaUsage
	for _, u := range s.usage {
		if u.ConsumerID == consumerID && !u.PeriodStart.Before(since) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (s *quotaStore) GetConsumer(_ context.Context, id string) (*store.Consumer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.consumers[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	return c, nil
}

func (s *quotaStore) stored(consumer, quota string, start time.Time) store.QuotaUsage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage[usageKey(consumer, quota, start)]
}

type storeError string

func (e storeError) Error() string { return string(e) }

const errStoreDown = storeError("store unreachable")

// newTestLimiter builds a memory Limiter on clock with cfg.
func newTestLimiter(t testing.TB, cfg config.RateLimit, clock *fakeClock, st store.Store) *Limiter {
	t.Helper()
	opts := Options{Logger: quietLogger(), Now: clock.Now}
	if st != nil {
		opts.Store = st
	}
	l, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = l.Stop(context.Background()) })
	return l
}

// newTestStage builds the stage of route "books" with cfg.
func newTestStage(t testing.TB, l *Limiter, cfg *config.RouteRateLimit) *Stage {
	t.Helper()
	st, err := NewStage(l, "books", cfg, "routes[0].rate_limit")
	if err != nil {
		t.Fatalf("NewStage: %v", err)
	}
	return st.(*Stage)
}

// exchange returns an exchange from ip with identity id (nil: anonymous).
func exchange(ip string, id *pipeline.Identity) *pipeline.Exchange {
	r := httptest.NewRequest("GET", "/books", nil)
	return &pipeline.Exchange{
		ID:       "req-1",
		Request:  r,
		Route:    "books",
		ClientIP: netip.MustParseAddr(ip),
		PeerIP:   netip.MustParseAddr(ip),
		Identity: id,
	}
}

func consumer(id, plan string) *pipeline.Identity {
	return &pipeline.Identity{ConsumerID: id, CredentialID: "key-" + id, Plan: plan, Method: "api_key"}
}

func limit(name, key string, rate int64, period time.Duration, burst int64) config.Limit {
	return config.Limit{Name: name, Key: key, Rate: rate, Period: config.Duration(period), Burst: burst}
}
