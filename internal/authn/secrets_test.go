package authn

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/store"
)

// TestNoSecretsInLogsOrAttrs sends credentials with known secrets through
// every method, on success and failure paths, with debug logging on, and
// checks that no secret appears in the log, the event attributes or the
// response.
func TestNoSecretsInLogsOrAttrs(t *testing.T) {
	key := newRSASigner(t, "k1")
	jwks := newJWKSServer(t, key)
	idp := newIdPServer(t, map[string]map[string]any{
		"opaque-secret-token-1": {"active": true, "sub": "carol", "aud": "api"},
	})
	hmacSecret := "hmac-secret-0123456789abcdef-0123456789"
	hmacPath := filepath.Join(t.TempDir(), "hmac")
	if err := os.WriteFile(hmacPath, []byte(hmacSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Authn{
		JWT: []config.JWTIssuer{issuerConfig(jwks.URL), {
			Name: "local", Issuer: "https://local.test", Audiences: []string{testAudience},
			Algorithms: []string{"HS256"}, HMACSecretFile: hmacPath,
		}},
		Introspection: []config.Introspection{introspectionConfig(idp.URL)},
	}
	e := newEnv(t, cfg)
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	goodKey, _ := addKey(t, e.st, "acme", nil, time.Time{})
	revokedKey, revoked := addKey(t, e.st, "acme", nil, time.Time{})
	if err := e.st.RevokeKey(context.Background(), revoked.ID, t0); err != nil {
		t.Fatal(err)
	}
	unknownKey, _, _ := apikey.Generate()
	goodJWT := key.sign(t, claimsAt(t0), nil)
	badJWT := withPayload(t, goodJWT, claimsAt(t0, set("sub", "root")))
	hmacJWT := (&signer{alg: jose.HS256, key: []byte(hmacSecret)}).sign(t, claimsAt(t0, set("iss", "https://local.test")), nil)

	secrets := map[string]string{
		"good key": goodKey, "good key secret": goodKey[17:49],
		"revoked key": revokedKey, "unknown key": unknownKey,
		"good jwt": goodJWT, "good jwt signature": goodJWT[strings.LastIndex(goodJWT, ".")+1:],
		"bad jwt": badJWT, "hmac jwt": hmacJWT, "hmac secret": hmacSecret,
		"opaque token": "opaque-secret-token-1", "inactive token": "opaque-secret-token-2",
		"client secret": introspectSecret,
	}

	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key", "jwt", "introspection:corp"}, Anonymous: true})
	requests := []struct {
		target string
		header http.Header
	}{
		{"/", bearer(goodKey)},
		{"/", http.Header{"X-Api-Key": {revokedKey}}},
		{"/", bearer(unknownKey)},
		{"/", bearer(goodKey[:len(goodKey)-1] + flip(goodKey[len(goodKey)-1]))},
		{"/?api_key=" + goodKey, nil},
		{"/", bearer(goodJWT)},
		{"/", bearer(badJWT)},
		{"/", bearer(hmacJWT)},
		{"/", bearer("opaque-secret-token-1")},
		{"/", bearer("opaque-secret-token-2")},
		{"/", http.Header{"Authorization": {"Basic " + goodKey}}},
	}
	var seen strings.Builder
	check := func() {
		for _, r := range requests {
			x, res := run(s, r.target, r.header)
			fmt.Fprintf(&seen, "%v %s %s %s %v\n", x.Attrs, res.Reason, res.Title, res.Detail, res.Headers)
			if x.Identity != nil {
				fmt.Fprintf(&seen, "%+v\n", *x.Identity)
			}
		}
	}
	check()
	idp.status.Store(http.StatusInternalServerError)
	e.clock.Advance(time.Hour) // past every cache, so the endpoint is called again
	e.st.fail.Store(true)
	check()

	for name, secret := range secrets {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("log contains the %s", name)
		}
		if strings.Contains(seen.String(), secret) {
			t.Errorf("attributes or response contain the %s", name)
		}
	}
	if !strings.Contains(e.logs.String(), "authentication failed") {
		t.Errorf("no failure was logged; the test did not exercise the log:\n%s", e.logs.String())
	}
}
