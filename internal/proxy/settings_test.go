package proxy

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
)

func TestNewUpstreamConfigErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name     string
		cfg      config.Upstream
		wantPath string
		wantText string
	}{
		{"no targets", config.Upstream{Name: "a"}, "upstreams[3].targets", "missing targets"},
		{"bad scheme", config.Upstream{Name: "a", Targets: []string{"http://ok:1", "ftp://x"}}, "upstreams[3].targets[1]", "scheme must be http or https"},
		{"no host", config.Upstream{Name: "a", Targets: []string{"http://"}}, "upstreams[3].targets[0]", "missing host"},
		{"user info", config.Upstream{Name: "a", Targets: []string{"http://u:p@h"}}, "upstreams[3].targets[0]", "user info"},
		{"query", config.Upstream{Name: "a", Targets: []string{"http://h/?a=1"}}, "upstreams[3].targets[0]", "query"},
		{"no name", config.Upstream{Targets: []string{"http://h"}}, "upstreams[3].name", "missing upstream name"},
		{"balancing", config.Upstream{Name: "a", Targets: []string{"http://h"}, Balancing: "random"}, "upstreams[3].balancing", `"random"`},
		{"ca file", config.Upstream{Name: "a", Targets: []string{"https://h"}, TLS: &config.UpstreamTLS{CAFile: missing}}, "upstreams[3].tls.ca_file", missing},
		{"half a key pair", config.Upstream{Name: "a", Targets: []string{"https://h"}, TLS: &config.UpstreamTLS{CertFile: missing}}, "upstreams[3].tls", "set both cert_file and key_file"},
		{"key pair", config.Upstream{Name: "a", Targets: []string{"https://h"}, TLS: &config.UpstreamTLS{CertFile: missing, KeyFile: missing}}, "upstreams[3].tls.cert_file", missing},
		{"budget", config.Upstream{Name: "a", Targets: []string{"http://h"}, Retries: config.Retries{BudgetPercent: intp(120)}}, "upstreams[3].retries.budget_percent", "0 to 100"},
		{"probe path", config.Upstream{Name: "a", Targets: []string{"http://h"}, HealthCheck: config.HealthCheck{Active: config.ActiveHealth{Path: "healthz"}}}, "upstreams[3].health_check.active.path", "must start with"},
		{"max failures", config.Upstream{Name: "a", Targets: []string{"http://h"}, HealthCheck: config.HealthCheck{Passive: config.PassiveHealth{MaxFailures: -2}}}, "upstreams[3].health_check.passive.max_failures", "-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewUpstream(tc.cfg, Options{Path: "upstreams[3]"})
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error = %v, want config.Errors", err)
			}
			for _, fe := range errs {
				if fe.Path == tc.wantPath && strings.Contains(fe.Message, tc.wantText) {
					return
				}
			}
			t.Errorf("errors = %v, want one at %s containing %q", err, tc.wantPath, tc.wantText)
		})
	}
}

func TestDefaultsApplied(t *testing.T) {
	u, err := NewUpstream(config.Upstream{Name: "a", Targets: []string{"http://127.0.0.1:1"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Stop()
	s := u.cfg
	checks := []struct {
		name      string
		got, want any
	}{
		{"connect", s.timeouts.connect, 5 * time.Second},
		{"response header", s.timeouts.responseHeader, 30 * time.Second},
		{"total", s.timeouts.total, 60 * time.Second},
		{"attempts", s.retries.attempts, 1},
		{"backoff", s.retries.backoff, 25 * time.Millisecond},
		{"budget", s.retries.budgetPercent, 20},
		{"max idle", s.maxIdleConns, 256},
		{"max failures", s.passive.maxFailures, 5},
		{"cooldown", s.passive.cooldown, 10 * time.Second},
		{"interval", s.active.interval, 10 * time.Second},
		{"probe timeout", s.active.timeout, 2 * time.Second},
		{"expected status", s.active.expectedStatus, 200},
		{"healthy after", s.active.healthyAfter, 2},
		{"unhealthy after", s.active.unhealthyAfter, 3},
		{"balancing", s.balancing, "round_robin"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRouteOverrides(t *testing.T) {
	base := mergeTimeouts(timeouts{}, config.UpstreamTimeouts{Connect: config.Duration(time.Second)})
	got := mergeTimeouts(base, config.UpstreamTimeouts{Total: config.Duration(3 * time.Second)})
	want := timeouts{connect: time.Second, responseHeader: 30 * time.Second, total: 3 * time.Second}
	if got != want {
		t.Errorf("merged timeouts = %+v, want %+v", got, want)
	}
	r := mergeRetries(defaultRetries, config.Retries{Attempts: intp(0)})
	if r.attempts != 0 || r.budgetPercent != 20 {
		t.Errorf("merged retries = %+v, want attempts 0 and the default budget", r)
	}
}
