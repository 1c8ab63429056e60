package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
)

// switchable is an upstream whose responses can be switched between
// 500 and 200.
type switchable struct {
	*httptest.Server
	failing atomic.Bool
	hits    atomic.Int64
}

func newSwitchable(t *testing.T, name string) *switchable {
	s := &switchable{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if s.failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Write([]byte(name))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestPassiveEjectionAndRecovery(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			bad, good := newSwitchable(t, "bad"), newSwitchable(t, "good")
			bad.failing.Store(true)
			clock := newFakeClock()
			obs := &recorder{}
			u := newTestUpstream(t, config.Upstream{
				Targets: []string{bad.URL, good.URL},
				HealthCheck: config.HealthCheck{Passive: config.PassiveHealth{
					MaxFailures: 3, Cooldown: config.Duration(10 * time.Second),
				}},
			}, Options{Now: clock.Now, Observer: obs, UseNetHTTP: tr.useNetHTTP})
			g := newGateway(t, u, nil)

			for range 6 {
				g.do(t, "GET", "/", nil)
			}
			if got := bad.hits.Load(); got != 3 {
				t.Fatalf("bad target got %d requests before ejection, want 3", got)
			}
			for range 5 {
				if status, body := g.do(t, "GET", "/", nil); status != 200 || body != "good" {
					t.Fatalf("while ejected: got %d %q, want 200 good", status, body)
				}
			}
			if got := bad.hits.Load(); got != 3 {
				t.Errorf("ejected target got %d requests, want still 3", got)
			}

			// After the cooldown one trial goes through; it fails, so the
			// target stays out for another cooldown.
			clock.Advance(11 * time.Second)
			for range 4 {
				g.do(t, "GET", "/", nil)
			}
			if got := bad.hits.Load(); got != 4 {
				t.Errorf("after cooldown the bad target got %d requests, want 4 (one trial)", got)
			}

			// Recovered: the next trial succeeds and closes the circuit.
			bad.failing.Store(false)
			clock.Advance(11 * time.Second)
			counts := map[string]int{}
			for range 10 {
				_, body := g.do(t, "GET", "/", nil)
				counts[body]++
			}
			if counts["bad"] < 4 {
				t.Errorf("after recovery the target got %d of 10 requests, want about half", counts["bad"])
			}
			want := []healthEvent{{bad.URL, false}, {bad.URL, true}}
			if got := obs.healthEvents(); !slices.Equal(got, want) {
				t.Errorf("health events = %v, want %v", got, want)
			}
		})
	}
}

func TestAllTargetsEjectedIs503(t *testing.T) {
	bad := newSwitchable(t, "bad")
	bad.failing.Store(true)
	u := newTestUpstream(t, config.Upstream{
		Targets:     []string{bad.URL},
		Retries:     config.Retries{Attempts: intp(0)},
		HealthCheck: config.HealthCheck{Passive: config.PassiveHealth{MaxFailures: 2}},
	}, Options{Now: newFakeClock().Now})
	g := newGateway(t, u, nil)

	for range 2 {
		if status, _ := g.do(t, "GET", "/", nil); status != http.StatusInternalServerError {
			t.Fatalf("status = %d, want the upstream's 500", status)
		}
	}
	status, body := g.do(t, "GET", "/", nil)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", status)
	}
	if want := `"request_id":"req-1"`; !strings.Contains(body, want) {
		t.Errorf("problem body %s lacks %s", body, want)
	}
	if res := g.lastResult(); res.Kind != KindUnavailable || res.Attempts != 0 {
		t.Errorf("result = %+v, want kind unavailable and no attempt", res)
	}
}

func TestPassiveDisabled(t *testing.T) {
	bad := newSwitchable(t, "bad")
	bad.failing.Store(true)
	u := newTestUpstream(t, config.Upstream{
		Targets:     []string{bad.URL},
		HealthCheck: config.HealthCheck{Passive: config.PassiveHealth{MaxFailures: -1}},
	}, Options{})
	g := newGateway(t, u, nil)
	for range 10 {
		g.do(t, "GET", "/", nil)
	}
	if got := bad.hits.Load(); got != 10 {
		t.Errorf("target got %d requests, want 10 with ejection disabled", got)
	}
}

func TestActiveHealthChecks(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	probed := newSwitchable(t, "probed")
	probed.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			if !healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		}
		w.Write([]byte("probed"))
	})
	other := namedServer(t, "other")
	obs := &recorder{}
	u := newTestUpstream(t, config.Upstream{
		Targets: []string{probed.URL, other.URL},
		HealthCheck: config.HealthCheck{Active: config.ActiveHealth{
			Path:           "/healthz",
			Interval:       config.Duration(10 * time.Millisecond),
			Timeout:        config.Duration(time.Second),
			HealthyAfter:   2,
			UnhealthyAfter: 2,
		}},
	}, Options{Observer: obs})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	u.Start(ctx)
	g := newGateway(t, u, nil)

	healthy.Store(false)
	waitFor(t, "target marked down", func() bool { return !u.targets[0].activeUp.Load() })
	for range 6 {
		if _, body := g.do(t, "GET", "/", nil); body != "other" {
			t.Fatalf("request went to %q while it was down", body)
		}
	}
	healthy.Store(true)
	waitFor(t, "target marked up", func() bool { return u.targets[0].activeUp.Load() })
	want := []healthEvent{{probed.URL, false}, {probed.URL, true}}
	if got := obs.healthEvents(); !slices.Equal(got, want) {
		t.Errorf("health events = %v, want %v", got, want)
	}
	u.Stop()
}

func TestBreakerTrialNeutralOutcome(t *testing.T) {
	b := breaker{maxFailures: 1, cooldown: time.Second}
	now := time.Unix(0, 0)
	if !b.record(outcomeFailure, false, now) {
		t.Fatal("first failure did not open the circuit")
	}
	if ok, _ := b.allow(now); ok {
		t.Fatal("open circuit let a request through")
	}
	now = now.Add(2 * time.Second)
	ok, trial := b.allow(now)
	if !ok || !trial {
		t.Fatalf("after cooldown allow = %v, %v; want a trial", ok, trial)
	}
	if ok, _ := b.allow(now); ok {
		t.Fatal("second request passed during the trial")
	}
	b.record(outcomeNeutral, true, now)
	if ok, trial := b.allow(now); !ok || !trial {
		t.Errorf("after a neutral trial allow = %v, %v; want a new trial", ok, trial)
	}
}
