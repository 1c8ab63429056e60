package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadMinimalAppliesDefaults(t *testing.T) {
	cfg, err := Load("testdata/minimal.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := cfg.Admin.Address, DefaultAdminAddress; got != want {
		t.Errorf("admin address = %q, want %q", got, want)
	}
	if got, want := cfg.Listeners[0].Timeouts.ReadHeader.D(), 5*time.Second; got != want {
		t.Errorf("read header timeout = %v, want %v", got, want)
	}
	if got, want := cfg.Routes[0].MaxBodyBytes, ByteSize(DefaultMaxBodyBytes); got != want {
		t.Errorf("route max body = %d, want %d", got, want)
	}
	if got, want := *cfg.Upstreams[0].Retries.Attempts, 1; got != want {
		t.Errorf("retries = %d, want %d", got, want)
	}
	if got, want := cfg.Store.Path, filepath.Join("testdata", DefaultDataDir, "warden.db"); got != want {
		t.Errorf("store path = %q, want %q", got, want)
	}
}

// TestLoadBadConfigs loads every testdata/bad-*.yaml and compares all of its
// errors with the lines of the matching .errors file.
func TestLoadBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad-*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad config fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".errors")
			if err != nil {
				t.Fatalf("reading expected errors: %v", err)
			}
			_, loadErr := Load(f)
			if loadErr == nil {
				t.Fatal("Load succeeded, want errors")
			}
			got := strings.ReplaceAll(loadErr.Error(), "testdata/", "")
			if strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
				t.Errorf("errors differ\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"empty", "", "config file is empty"},
		{"syntax", "listeners: [", "invalid YAML"},
		{"list for mapping", "admin: [1]", "expected admin settings (a mapping), got a list"},
		{"negative duration", "gateway: {shutdown_timeout: -1s}", "must not be negative"},
		{"bad size", "gateway: {max_body_bytes: 10 potatoes}", "invalid size"},
		{"postgres without dsn", "store: {driver: postgres}", "no DSN is set"},
		{"tls without files", "listeners: [{address: ':8443', tls: {}}]", "missing certificate file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WARDEN_STORE_DSN", "")
			_, err := Parse("inline.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLocateBuildError(t *testing.T) {
	cfg, err := Load("testdata/minimal.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var es Errors
	es.Add("routes[0].paths[0]", "invalid pattern")
	located := cfg.Locate(es.Err()).(Errors)
	if got, want := located[0].Line, 5; got != want {
		t.Errorf("line = %d, want %d", got, want)
	}
	if got, want := located[0].File, "testdata/minimal.yaml"; got != want {
		t.Errorf("file = %q, want %q", got, want)
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
	}{
		{"4096", 4096}, {"64KiB", 64 << 10}, {"10MiB", 10 << 20}, {"1GiB", 1 << 30},
		{"1kB", 1000}, {"2MB", 2000000}, {"7B", 7},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if err != nil {
			t.Errorf("ParseByteSize(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "-1", "1XB", "99999999999999GiB", "1.5MiB"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q) succeeded, want error", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"minimal.yaml", "bad-fields.yaml", "bad-values.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("routes: [{name: a, paths: ['/'], upstream: u}]\nupstreams: [{name: u, targets: [x]}]"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil && cfg == nil {
			t.Fatal("Parse returned neither config nor error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
