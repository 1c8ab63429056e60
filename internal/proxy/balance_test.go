package proxy

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
)

func TestRoundRobinDistribution(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			a, b, c := namedServer(t, "a"), namedServer(t, "b"), namedServer(t, "c")
			u := newTestUpstream(t, config.Upstream{Targets: []string{a.URL, b.URL, c.URL}},
				Options{UseNetHTTP: tr.useNetHTTP})
			g := newGateway(t, u, nil)

			counts := map[string]int{}
			for range 30 {
				status, body := g.do(t, "GET", "/", nil)
				if status != http.StatusOK {
					t.Fatalf("status = %d, want 200", status)
				}
				counts[body]++
			}
			for _, name := range []string{"a", "b", "c"} {
				if counts[name] != 10 {
					t.Errorf("target %s got %d requests, want 10 (all: %v)", name, counts[name], counts)
				}
			}
		})
	}
}

func TestLeastRequestsAvoidsBusyTarget(t *testing.T) {
	release := make(chan struct{})
	holding := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/hold" {
				<-release
			}
			w.Write([]byte(name))
		}))
		t.Cleanup(s.Close)
		return s
	}
	a, b := holding("a"), holding("b")
	u := newTestUpstream(t, config.Upstream{
		Targets:   []string{a.URL, b.URL},
		Balancing: "least_requests",
	}, Options{})
	g := newGateway(t, u, nil)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		g.do(t, "GET", "/hold", nil)
	}()
	waitFor(t, "a request held on one target", func() bool {
		return u.targets[0].inFlight.Load()+u.targets[1].inFlight.Load() == 1
	})
	idle := "b"
	if u.targets[1].inFlight.Load() == 1 {
		idle = "a"
	}
	for range 10 {
		if _, body := g.do(t, "GET", "/", nil); body != idle {
			t.Fatalf("request went to %q, want the idle target %q", body, idle)
		}
	}
	close(release)
	wg.Wait()

	counts := map[string]int{}
	for range 10 {
		_, body := g.do(t, "GET", "/", nil)
		counts[body]++
	}
	if counts["a"] == 0 || counts["b"] == 0 {
		t.Errorf("with equal load the requests went %v, want both targets used", counts)
	}
}

func TestPickSkipsTriedTarget(t *testing.T) {
	a, b := namedServer(t, "a"), namedServer(t, "b")
	u := newTestUpstream(t, config.Upstream{Targets: []string{a.URL, b.URL}}, Options{})
	now := time.Now()
	for range 4 {
		first, _ := u.pick(now, nil)
		second, _ := u.pick(now, []*target{first})
		if second == first {
			t.Fatalf("retry pick = %s, want the other target", second.name)
		}
	}
	only := newTestUpstream(t, config.Upstream{Targets: []string{a.URL}}, Options{})
	first, _ := only.pick(now, nil)
	if again, _ := only.pick(now, []*target{first}); again != first {
		t.Errorf("single-target retry pick = %v, want the same target", again)
	}
}
