package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/admin"
	"github.com/warden-api/warden/internal/secret"
	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/sqlite"
)

const testBootstrapToken = "cli-test-bootstrap-token-0123456789"

// cliMode is one way the admin commands reach the store.
type cliMode struct {
	name string
	// flags select the mode on every command.
	flags []string
	// auditStore opens the store that the mode changes, for checks.
	auditStore func(t *testing.T) store.Store
	// actor is the audit actor of the mode's changes.
	actor string
}

// directMode works on a SQLite store in a temporary data directory.
func directMode(t *testing.T) cliMode {
	dir := t.TempDir()
	return cliMode{
		name:  "direct",
		flags: []string{"--data-dir", dir},
		auditStore: func(t *testing.T) store.Store {
			return openTestStore(t, filepath.Join(dir, "warden.db"))
		},
		actor: cliActor(),
	}
}

// remoteMode runs the admin API on a loopback test server over its own
// SQLite store and points the commands at it with a token file.
func remoteMode(t *testing.T) cliMode {
	st := openTestStore(t, filepath.Join(t.TempDir(), "warden.db"))
	url := remoteModeOver(t, st)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(testBootstrapToken+"\n"), 0o600); err != nil {
		t.Fatalf("writing token file: %v", err)
	}
	return cliMode{
		name:       "remote",
		flags:      []string{"--admin-url", url, "--token-file", tokenFile},
		auditStore: func(*testing.T) store.Store { return st },
		actor:      admin.BootstrapActor,
	}
}

// remoteModeOver serves the admin API over st on a loopback test server
// and returns its URL.
func remoteModeOver(t *testing.T, st store.Store) string {
	srv := httptest.NewServer(admin.NewHandler(admin.Options{
		Store: st, Logger: slog.New(slog.DiscardHandler), BootstrapToken: secret.New(testBootstrapToken),
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func openTestStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// cliResult is the outcome of one command.
type cliResult struct {
	code           int
	stdout, stderr string
}

type cliFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

func runAdminCLI(fn cliFunc, args ...string) cliResult {
	var out, errOut bytes.Buffer
	code := fn(context.Background(), args, &out, &errOut)
	return cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// mustRun runs a command that must succeed.
func mustRunAdmin(t *testing.T, fn cliFunc, args ...string) cliResult {
	t.Helper()
	r := runAdminCLI(fn, args...)
	if r.code != exitOK {
		t.Fatalf("%v: got exit code %d, want 0; stderr: %s", args, r.code, r.stderr)
	}
	return r
}

// decodeOutput decodes a command's JSON output.
func decodeCLIOutput[T any](t *testing.T, r cliResult) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("decoding output %q: %v", r.stdout, err)
	}
	return v
}

// withMode appends the mode's flags to a command line.
func withMode(mode cliMode, args ...string) []string {
	return append(args, mode.flags...)
}

func TestAdminFlagErrors(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("t"), 0o600); err != nil {
		t.Fatalf("writing token file: %v", err)
	}
	t.Setenv(adminTokenEnv, "")
	tests := []struct {
		name string
		fn   cliFunc
		args []string
		code int
		want string
	}{
		{"no subcommand", runConsumers, nil, exitUsage, "Usage: warden consumers"},
		{"unknown subcommand", runKeys, []string{"frobnicate"}, exitUsage, "unknown subcommand"},
		{"group help", runTokens, []string{"--help"}, exitOK, ""},
		{"missing argument", runConsumers, []string{"get"}, exitUsage, "got 0 arguments, want 1"},
		{"extra argument", runConsumers, []string{"get", "a", "b"}, exitUsage, "got 2 arguments, want 1"},
		{"unknown flag", runKeys, []string{"list", "--colour"}, exitUsage, "flag provided but not defined"},
		{"bad output", runConsumers, []string{"list", "--output", "yaml"}, exitUsage, "invalid --output"},
		{"url and data dir", runConsumers, []string{"list", "--admin-url", "http://127.0.0.1:1", "--data-dir", "x"}, exitUsage, "cannot be combined"},
		{"data dir and config", runConsumers, []string{"list", "--config", "x.yaml", "--data-dir", "x"}, exitUsage, "cannot be combined"},
		{"token file without url", runConsumers, []string{"list", "--token-file", tokenFile}, exitUsage, "needs --admin-url"},
		{"url without token", runConsumers, []string{"list", "--admin-url", "http://127.0.0.1:1"}, exitUsage, adminTokenEnv},
		{"bad url", runConsumers, []string{"list", "--admin-url", "127.0.0.1:9901", "--token-file", tokenFile}, exitUsage, "invalid admin URL"},
		{"key without consumer", runKeys, []string{"create"}, exitUsage, "--consumer is required"},
		{"token without role", runTokens, []string{"create"}, exitUsage, "--role is required"},
		{"delete without yes", runConsumers, []string{"delete", "acme"}, exitUsage, "--yes"},
		{"bad metadata", runConsumers, []string{"create", "acme", "--metadata", "novalue"}, exitUsage, "key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAdminCLI(tt.fn, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code: got %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr+r.stdout, tt.want) {
				t.Errorf("output: got %q, want it to contain %q", r.stderr+r.stdout, tt.want)
			}
		})
	}
}

func TestHelpNamesUnits(t *testing.T) {
	tests := []struct {
		fn   cliFunc
		args []string
		want []string
	}{
		{runKeys, []string{"create", "--help"}, []string{"-expires-in", "720h", "-consumer", "-data-dir", "-admin-url", "-token-file", "-output"}},
		{runKeys, []string{"rotate", "--help"}, []string{"-overlap", "24h", "KEY_ID"}},
		{runTokens, []string{"create", "--help"}, []string{"viewer", "operator", "admin"}},
		{runConsumers, []string{"create", "-h"}, []string{"-scopes", "-metadata", "key=value", " ID"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runAdminCLI(tt.fn, tt.args...)
			if r.code != exitOK {
				t.Fatalf("exit code: got %d, want 0", r.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("help does not mention %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func TestDirectReadOnlyMissingStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	r := runAdminCLI(runConsumers, "list", "--data-dir", dir)
	if r.code != exitFailure {
		t.Fatalf("exit code: got %d, want 1", r.code)
	}
	if !strings.Contains(r.stderr, "no store at") {
		t.Errorf("stderr: got %q, want it to say there is no store", r.stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("a read-only command created %s", dir)
	}
}

func TestDirectWithConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := `data_dir: state
listeners:
  - address: 127.0.0.1:8080
routes:
  - name: books
    paths: ["/books/**"]
    upstream: bookstore
upstreams:
  - name: bookstore
    targets: ["http://127.0.0.1:9000"]
`
	cfgPath := filepath.Join(dir, "warden.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	mustRunAdmin(t, runConsumers, "create", "acme", "--config", cfgPath)
	if _, err := os.Stat(filepath.Join(dir, "state", "warden.db")); err != nil {
		t.Errorf("store in the config's data_dir: %v", err)
	}
	r := mustRunAdmin(t, runConsumers, "get", "acme", "--config", cfgPath, "--output", "json")
	if got := decodeCLIOutput[admin.Consumer](t, r).ID; got != "acme" {
		t.Errorf("consumer id: got %q, want acme", got)
	}
}

func TestRemoteTokenFromEnvironment(t *testing.T) {
	mode := remoteMode(t)
	t.Setenv(adminTokenEnv, testBootstrapToken)
	url := mode.flags[1]
	r := mustRunAdmin(t, runConsumers, "list", "--admin-url", url)
	if !strings.Contains(r.stdout, "ID") {
		t.Errorf("output: got %q, want a table header", r.stdout)
	}

	t.Setenv(adminTokenEnv, "wda_wrong")
	r = runAdminCLI(runConsumers, "list", "--admin-url", url)
	if r.code != exitFailure {
		t.Fatalf("exit code with a wrong token: got %d, want 1", r.code)
	}
	if !strings.Contains(r.stderr, "admin token") {
		t.Errorf("stderr: got %q, want it to name the admin token", r.stderr)
	}
}
