package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/admin"
	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/store"
)

var printedKey = regexp.MustCompile(`wdn_[0-9A-Za-z]+_[0-9A-Za-z]+`)

func TestKeysCommands(t *testing.T) {
	for _, mode := range []cliMode{directMode(t), remoteMode(t)} {
		t.Run(mode.name, func(t *testing.T) {
			mustRunAdmin(t, runConsumers, withMode(mode, "create", "acme", "--scopes", "books:read,books:write")...)

			// Text output prints the key once with a warning.
			r := mustRunAdmin(t, runKeys, withMode(mode, "create", "--consumer", "acme", "--name", "web", "--scopes", "books:read", "--expires-in", "720h")...)
			plain := printedKey.FindString(r.stdout)
			if _, err := apikey.Parse(plain); err != nil {
				t.Fatalf("printed key %q does not parse: %v\n%s", plain, err, r.stdout)
			}
			if !strings.Contains(r.stdout, "will not be shown again") {
				t.Errorf("create output: got %q, want a line saying the key will not be shown again", r.stdout)
			}

			// JSON output for scripts.
			r = mustRunAdmin(t, runKeys, withMode(mode, "create", "--consumer", "acme", "--output", "json")...)
			created := decodeCLIOutput[admin.CreatedKey](t, r)
			if _, err := apikey.Parse(created.Key); err != nil {
				t.Errorf("JSON key %q does not parse: %v", created.Key, err)
			}

			r = mustRunAdmin(t, runKeys, withMode(mode, "list", "--consumer", "acme", "--output", "json")...)
			keys := decodeCLIOutput[admin.List[admin.APIKey]](t, r).Items
			if len(keys) != 2 {
				t.Fatalf("keys: got %d, want 2", len(keys))
			}
			r = mustRunAdmin(t, runKeys, withMode(mode, "list")...)
			if strings.Contains(r.stdout, plain) || strings.Contains(r.stdout, created.Key) {
				t.Error("keys list printed a secret")
			}

			r = mustRunAdmin(t, runKeys, withMode(mode, "rotate", created.ID, "--overlap", "1h", "--output", "json")...)
			rotated := decodeCLIOutput[admin.RotatedKey](t, r)
			if rotated.Previous.ReplacedBy != rotated.ID {
				t.Errorf("replaced_by: got %q, want %q", rotated.Previous.ReplacedBy, rotated.ID)
			}
			r = runAdminCLI(runKeys, withMode(mode, "rotate", created.ID)...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "already rotated") {
				t.Errorf("second rotate: got code %d stderr %q, want 1 and already rotated", r.code, r.stderr)
			}

			r = mustRunAdmin(t, runKeys, withMode(mode, "revoke", rotated.ID)...)
			if !strings.Contains(r.stdout, "Revoked key "+rotated.ID) {
				t.Errorf("revoke output: got %q", r.stdout)
			}
			r = mustRunAdmin(t, runKeys, withMode(mode, "list", "--output", "json")...)
			for _, k := range decodeCLIOutput[admin.List[admin.APIKey]](t, r).Items {
				if k.ID == rotated.ID && k.State != store.KeyRevoked {
					t.Errorf("state of revoked key: got %q, want revoked", k.State)
				}
			}

			r = runAdminCLI(runKeys, withMode(mode, "create", "--consumer", "acme", "--scopes", "admin")...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "scopes[0]") {
				t.Errorf("scope outside consumer: got code %d stderr %q, want 1 naming scopes[0]", r.code, r.stderr)
			}
			r = runAdminCLI(runKeys, withMode(mode, "create", "--consumer", "acme", "--expires-in", "30d")...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "expires_in") {
				t.Errorf("invalid duration: got code %d stderr %q, want 1 naming expires_in", r.code, r.stderr)
			}

			checkAudit(t, mode, []string{"consumer.create", "key.create", "key.create", "key.rotate", "key.revoke"})
		})
	}
}
