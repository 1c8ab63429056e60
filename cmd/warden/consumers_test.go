package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/admin"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/secret"
	"github.com/warden-api/warden/internal/store"
)

func TestConsumersCommands(t *testing.T) {
	for _, mode := range []cliMode{directMode(t), remoteMode(t)} {
		t.Run(mode.name, func(t *testing.T) {
			r := mustRunAdmin(t, runConsumers, withMode(mode, "create", "acme", "--name", "Acme Inc.",
				"--roles", "partner", "--scopes", "books:read, books:write", "--plan", "gold",
				"--metadata", "team=mobile,owner=ops", "--output", "json")...)
			created := decodeCLIOutput[admin.Consumer](t, r)
			if !reflect.DeepEqual(created.Scopes, []string{"books:read", "books:write"}) {
				t.Errorf("scopes: got %v, want [books:read books:write]", created.Scopes)
			}
			if !reflect.DeepEqual(created.Metadata, map[string]string{"team": "mobile", "owner": "ops"}) {
				t.Errorf("metadata: got %v", created.Metadata)
			}

			r = mustRunAdmin(t, runConsumers, withMode(mode, "list")...)
			if !strings.Contains(r.stdout, "acme") || !strings.Contains(r.stdout, "Acme Inc.") {
				t.Errorf("list output: got %q, want the consumer", r.stdout)
			}

			r = mustRunAdmin(t, runConsumers, withMode(mode, "suspend", "acme")...)
			if !strings.Contains(r.stdout, "suspended") {
				t.Errorf("suspend output: got %q", r.stdout)
			}
			r = mustRunAdmin(t, runConsumers, withMode(mode, "get", "acme", "--output", "json")...)
			if got := decodeCLIOutput[admin.Consumer](t, r).Status; got != store.StatusSuspended {
				t.Errorf("status after suspend: got %q, want suspended", got)
			}
			mustRunAdmin(t, runConsumers, withMode(mode, "activate", "acme")...)
			r = mustRunAdmin(t, runConsumers, withMode(mode, "get", "acme")...)
			if !strings.Contains(r.stdout, "metadata.owner:") || !strings.Contains(r.stdout, "active") {
				t.Errorf("get output: got %q", r.stdout)
			}

			// Flags may follow or precede the positional argument.
			r = runAdminCLI(runConsumers, append(append([]string{"create"}, mode.flags...), "acme")...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "already exists") {
				t.Errorf("duplicate create: got code %d stderr %q, want 1 and already exists", r.code, r.stderr)
			}
			r = runAdminCLI(runConsumers, withMode(mode, "create", "bad id")...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "id:") {
				t.Errorf("invalid id: got code %d stderr %q, want 1 naming the id field", r.code, r.stderr)
			}

			mustRunAdmin(t, runConsumers, withMode(mode, "delete", "acme", "--yes")...)
			r = runAdminCLI(runConsumers, withMode(mode, "get", "acme")...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "not found") {
				t.Errorf("get after delete: got code %d stderr %q, want 1 and not found", r.code, r.stderr)
			}

			checkAudit(t, mode, []string{"consumer.create", "consumer.suspend", "consumer.activate", "consumer.delete"})
		})
	}
}

// checkAudit checks that the mode's store holds the actions, oldest
// first, all made by the mode's actor.
func checkAudit(t *testing.T, mode cliMode, want []string) {
	t.Helper()
	entries, err := mode.auditStore(t).ListAudit(context.Background(), 1000)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	var got []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Actor != mode.actor {
			t.Errorf("audit entry %s: got actor %q, want %q", e.Action, e.Actor, mode.actor)
		}
		got = append(got, e.Action)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit actions: got %v, want %v", got, want)
	}
}

// usageConfig has a plan with a daily request quota and a monthly byte
// quota, and a route with its own daily quota "hits". Quotas reset at
// midnight UTC.
const usageConfig = `data_dir: state
listeners:
  - address: 127.0.0.1:8080
rate_limit:
  plans:
    gold:
      quotas:
        - {name: daily, period: day, requests: 1000}
        - {name: egress, period: month, response_bytes: 1GiB}
routes:
  - name: search
    paths: ["/search"]
    upstream: api
    rate_limit:
      quotas:
        - {name: hits, period: day, requests: 100}
upstreams:
  - name: api
    targets: ["http://127.0.0.1:9000"]
`

// writeUsageConfig writes usageConfig to a temporary directory and
// returns its path.
func writeUsageConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "warden.yaml")
	if err := os.WriteFile(path, []byte(usageConfig), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	return path
}

// addUsage stores usage of consumer acme in the current day and month.
// It returns the start of the day.
func addUsage(t *testing.T, st store.Store) time.Time {
	t.Helper()
	now := time.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for _, u := range []store.QuotaUsage{
		{ConsumerID: "acme", Quota: "daily", PeriodStart: day, Requests: 42},
		{ConsumerID: "acme", Quota: "egress", PeriodStart: month, Requests: 42, Bytes: 5 << 10},
		{ConsumerID: "acme", Quota: "search/hits", PeriodStart: day, Requests: 7},
	} {
		if _, err := st.AddQuotaUsage(context.Background(), u); err != nil {
			t.Fatalf("AddQuotaUsage: %v", err)
		}
	}
	return day
}

// usageDirectMode creates consumer acme with plan gold in the store of a
// config's data_dir, adds usage, and returns the flags that read it.
func usageDirectMode(t *testing.T) ([]string, time.Time) {
	cfgPath := writeUsageConfig(t)
	mustRunAdmin(t, runConsumers, "create", "acme", "--plan", "gold", "--config", cfgPath)
	st := openTestStore(t, filepath.Join(filepath.Dir(cfgPath), "state", "warden.db"))
	return []string{"--config", cfgPath}, addUsage(t, st)
}

// usageRemoteMode serves the admin API with usage from a limiter built
// like the gateway's, over a store with consumer acme and its usage.
func usageRemoteMode(t *testing.T) ([]string, time.Time) {
	cfg, err := config.Load(writeUsageConfig(t))
	if err != nil {
		t.Fatalf("loading config: %v", err)
	}
	st := openTestStore(t, filepath.Join(t.TempDir(), "warden.db"))
	logger := slog.New(slog.DiscardHandler)
	l, err := newUsageLimiter(cfg, st, logger)
	if err != nil {
		t.Fatalf("newUsageLimiter: %v", err)
	}
	t.Cleanup(func() { _ = l.Stop(context.Background()) })
	srv := httptest.NewServer(admin.NewHandler(admin.Options{
		Store: st, Logger: logger, BootstrapToken: secret.New(testBootstrapToken), Usage: l.Usage,
	}))
	t.Cleanup(srv.Close)

	svc := admin.NewService(admin.Options{Store: st})
	if _, err := svc.CreateConsumer(context.Background(), admin.Actor{ID: "test"}, admin.ConsumerCreate{ID: "acme", Plan: "gold"}); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	return []string{"--admin-url", srv.URL, "--token-file", writeTokenFile(t)}, addUsage(t, st)
}

func writeTokenFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(testBootstrapToken+"\n"), 0o600); err != nil {
		t.Fatalf("writing token file: %v", err)
	}
	return path
}

func TestConsumersUsage(t *testing.T) {
	modes := []struct {
		name  string
		setup func(t *testing.T) ([]string, time.Time)
	}{
		{"direct", usageDirectMode},
		{"remote", usageRemoteMode},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			flags, day := mode.setup(t)
			if today := time.Now().UTC().Truncate(24 * time.Hour); !today.Equal(day) {
				t.Skip("the UTC day changed while the test ran; run it again")
			}

			r := mustRunAdmin(t, runConsumers, append([]string{"usage", "acme", "--output", "json"}, flags...)...)
			got := decodeCLIOutput[admin.ConsumerUsage](t, r)
			if got.ConsumerID != "acme" || got.Plan != "gold" {
				t.Errorf("consumer: got %q plan %q, want acme plan gold", got.ConsumerID, got.Plan)
			}
			want := []struct {
				name            string
				requests, bytes int64
				requestsAllowed int64
				bytesAllowed    int64
				start           time.Time
			}{
				{"daily", 42, 0, 1000, 0, day},
				{"egress", 42, 5 << 10, 0, 1 << 30, time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)},
				{"search/hits", 7, 0, 100, 0, day},
			}
			if len(got.Quotas) != len(want) {
				t.Fatalf("quotas: got %d (%+v), want %d", len(got.Quotas), got.Quotas, len(want))
			}
			for i, w := range want {
				q := got.Quotas[i]
				if q.Name != w.name {
					t.Errorf("quota %d: got name %q, want %q", i, q.Name, w.name)
				}
				if q.RequestsUsed != w.requests || q.BytesUsed != w.bytes {
					t.Errorf("%s used: got %d requests %d bytes, want %d and %d", w.name, q.RequestsUsed, q.BytesUsed, w.requests, w.bytes)
				}
				if got := derefOr0(q.RequestsAllowed); got != w.requestsAllowed {
					t.Errorf("%s requests allowed: got %d, want %d", w.name, got, w.requestsAllowed)
				}
				if got := derefOr0(q.BytesAllowed); got != w.bytesAllowed {
					t.Errorf("%s bytes allowed: got %d, want %d", w.name, got, w.bytesAllowed)
				}
				if !q.PeriodStart.Equal(w.start) {
					t.Errorf("%s period start: got %v, want %v", w.name, q.PeriodStart, w.start)
				}
			}

			r = mustRunAdmin(t, runConsumers, append([]string{"usage", "acme"}, flags...)...)
			for _, s := range []string{"QUOTA", "daily", "42/1000", "0B/unlimited", "5.0KiB/1.0GiB", "search/hits", "7/100", day.Format(time.RFC3339)} {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("table does not contain %q:\n%s", s, r.stdout)
				}
			}

			r = runAdminCLI(runConsumers, append([]string{"usage", "nobody"}, flags...)...)
			if r.code != exitFailure || !strings.Contains(r.stderr, `consumer "nobody" not found`) {
				t.Errorf("unknown consumer: got code %d stderr %q, want 1 and not found", r.code, r.stderr)
			}
		})
	}
}

func derefOr0(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

func TestConsumersUsageErrors(t *testing.T) {
	t.Setenv(adminTokenEnv, "")
	noUsageURL := remoteModeOver(t, openTestStore(t, filepath.Join(t.TempDir(), "warden.db")))
	noUsageFlags := []string{"--admin-url", noUsageURL, "--token-file", writeTokenFile(t)}
	mustRunAdmin(t, runConsumers, append([]string{"create", "acme"}, noUsageFlags...)...)
	missingStore := filepath.Join(t.TempDir(), "warden.yaml")
	if err := os.WriteFile(missingStore, []byte(usageConfig), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no flags", []string{"acme"}, exitUsage, "pass --config FILE or --admin-url URL"},
		{"data dir alone", []string{"acme", "--data-dir", t.TempDir()}, exitUsage, "--data-dir alone does not name"},
		{"data dir and config", []string{"acme", "--data-dir", "x", "--config", "x.yaml"}, exitUsage, "cannot be combined"},
		{"missing argument", nil, exitUsage, "got 0 arguments, want 1"},
		{"bad output", []string{"acme", "--config", "x.yaml", "--output", "csv"}, exitUsage, "invalid --output"},
		{"url without token", []string{"acme", "--admin-url", noUsageURL}, exitUsage, adminTokenEnv},
		{"missing config", []string{"acme", "--config", filepath.Join(t.TempDir(), "absent.yaml")}, exitFailure, "absent.yaml"},
		{"missing store", []string{"acme", "--config", missingStore}, exitFailure, "no store at"},
		{"gateway without usage", append([]string{"acme"}, noUsageFlags...), exitFailure, "quota usage is not available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAdminCLI(runConsumers, append([]string{"usage"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit code: got %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr: got %q, want it to contain %q", r.stderr, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(missingStore), "state")); err == nil {
		t.Error("usage created the data directory of a config whose store did not exist")
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0B"},
		{1023, "1023B"},
		{1024, "1.0KiB"},
		{1536, "1.5KiB"},
		{5 << 20, "5.0MiB"},
		{1 << 30, "1.0GiB"},
		{3 << 40, "3.0TiB"},
		{1 << 62, "4.0EiB"},
	}
	for _, tt := range tests {
		if got := formatBytes(tt.n); got != tt.want {
			t.Errorf("formatBytes(%d): got %q, want %q", tt.n, got, tt.want)
		}
	}
}
