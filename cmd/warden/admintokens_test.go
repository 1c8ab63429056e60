package main

import (
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/admin"
)

func TestTokensCommands(t *testing.T) {
	for _, mode := range []cliMode{directMode(t), remoteMode(t)} {
		t.Run(mode.name, func(t *testing.T) {
			r := mustRunAdmin(t, runTokens, withMode(mode, "create", "--role", "operator", "--name", "ci")...)
			if !strings.Contains(r.stdout, admin.TokenPrefix) || !strings.Contains(r.stdout, "will not be shown again") {
				t.Errorf("create output: got %q, want the token and a warning", r.stdout)
			}

			r = mustRunAdmin(t, runTokens, withMode(mode, "create", "--role", "viewer", "--output", "json")...)
			created := decodeCLIOutput[admin.CreatedToken](t, r)
			if !strings.HasPrefix(created.Token, admin.TokenPrefix) {
				t.Errorf("token: got %q, want the %s prefix", created.Token, admin.TokenPrefix)
			}

			r = mustRunAdmin(t, runTokens, withMode(mode, "revoke", created.ID)...)
			if !strings.Contains(r.stdout, "Revoked admin token "+created.ID) {
				t.Errorf("revoke output: got %q", r.stdout)
			}

			r = mustRunAdmin(t, runTokens, withMode(mode, "list", "--output", "json")...)
			list := decodeCLIOutput[admin.List[admin.AdminToken]](t, r).Items
			if len(list) != 2 {
				t.Fatalf("tokens: got %d, want 2", len(list))
			}
			for _, tok := range list {
				if revoked := tok.RevokedAt != nil; revoked != (tok.ID == created.ID) {
					t.Errorf("token %s: revoked %v, want %v", tok.ID, revoked, tok.ID == created.ID)
				}
			}
			r = mustRunAdmin(t, runTokens, withMode(mode, "list")...)
			if strings.Contains(r.stdout, created.Token) {
				t.Error("tokens list printed a secret")
			}

			r = runAdminCLI(runTokens, withMode(mode, "create", "--role", "root")...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "role:") {
				t.Errorf("invalid role: got code %d stderr %q, want 1 naming the role field", r.code, r.stderr)
			}

			checkAudit(t, mode, []string{"token.create", "token.create", "token.revoke"})
		})
	}
}

// TestCreatedTokenWorksRemotely checks the bootstrap path: a token created
// directly in the store authenticates against the admin API.
func TestCreatedTokenWorksRemotely(t *testing.T) {
	direct := directMode(t)
	r := mustRunAdmin(t, runTokens, withMode(direct, "create", "--role", "viewer", "--output", "json")...)
	token := decodeCLIOutput[admin.CreatedToken](t, r).Token

	remote := remoteModeOver(t, direct.auditStore(t))
	t.Setenv(adminTokenEnv, token)
	mustRunAdmin(t, runConsumers, "list", "--admin-url", remote)
	r = runAdminCLI(runConsumers, "create", "acme", "--admin-url", remote)
	if r.code != exitFailure || !strings.Contains(r.stderr, "needs role operator") {
		t.Errorf("viewer creating a consumer: got code %d stderr %q, want 1 and a role error", r.code, r.stderr)
	}
}
