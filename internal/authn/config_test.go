package authn

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/secret"
)

func TestNewConfigErrors(t *testing.T) {
	dir := t.TempDir()
	shortSecret := filepath.Join(dir, "short")
	if err := os.WriteFile(shortSecret, []byte("too short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func() config.JWTIssuer {
		return config.JWTIssuer{Name: "idp", Issuer: testIssuer, Audiences: []string{"api"},
			JWKSURL: "https://idp.test/jwks"}
	}
	edit := func(f func(*config.JWTIssuer)) config.Authn {
		j := base()
		f(&j)
		return config.Authn{JWT: []config.JWTIssuer{j}}
	}
	tests := []struct {
		name     string
		cfg      config.Authn
		wantPath string
		wantText string
	}{
		{"plain http jwks", edit(func(j *config.JWTIssuer) { j.JWKSURL = "http://idp.test/jwks" }),
			"authn.jwt[0].jwks_url", "use https"},
		{"no audiences", edit(func(j *config.JWTIssuer) { j.Audiences = nil }),
			"authn.jwt[0].audiences", "missing audiences"},
		{"alg none", edit(func(j *config.JWTIssuer) { j.Algorithms = []string{"none"} }),
			"authn.jwt[0].algorithms[0]", "unsupported algorithm"},
		{"hmac with jwks", edit(func(j *config.JWTIssuer) { j.Algorithms = []string{"HS256"} }),
			"authn.jwt[0].algorithms", "need hmac_secret_file"},
		{"mixed algorithms", edit(func(j *config.JWTIssuer) { j.Algorithms = []string{"RS256", "HS256"} }),
			"authn.jwt[0].algorithms", "cannot be combined"},
		{"two key sources", edit(func(j *config.JWTIssuer) { j.JWKSFile = "/x" }),
			"authn.jwt[0]", "only one of"},
		{"no key source", edit(func(j *config.JWTIssuer) { j.JWKSURL = "" }),
			"authn.jwt[0]", "missing key source"},
		{"short hmac secret", edit(func(j *config.JWTIssuer) {
			j.JWKSURL, j.Algorithms, j.HMACSecretFile = "", []string{"HS256"}, shortSecret
		}), "authn.jwt[0].hmac_secret_file", "needs at least 32"},
		{"missing jwks file", edit(func(j *config.JWTIssuer) { j.JWKSURL, j.JWKSFile = "", filepath.Join(dir, "none.json") }),
			"authn.jwt[0].jwks_file", "no such file"},
		{"bad name", edit(func(j *config.JWTIssuer) { j.Name = "a b" }),
			"authn.jwt[0].name", "invalid name"},
		{"leeway", edit(func(j *config.JWTIssuer) { j.Leeway = config.Duration(3600e9) }),
			"authn.jwt[0].leeway", "outside"},
		{"duplicate issuer", config.Authn{JWT: []config.JWTIssuer{base(), base()}},
			"authn.jwt[1].name", "duplicate name"},
		{"introspection secret", config.Authn{Introspection: []config.Introspection{{Name: "x", URL: "https://idp.test/i", ClientID: "c"}}},
			"authn.introspection[0].client_secret", "missing client secret"},
		{"introspection url", config.Authn{Introspection: []config.Introspection{{Name: "x", URL: "ftp://idp.test", ClientID: "c", ClientSecret: secret.New("s")}}},
			"authn.introspection[0].url", "expected an https URL"},
		{"mtls source", config.Authn{MTLS: config.MTLS{ConsumerFrom: "serial"}},
			"authn.mtls.consumer_from", "invalid value"},
		{"key header", config.Authn{APIKeys: config.APIKeys{Headers: []string{"X Key"}}},
			"authn.api_keys.headers[0]", "invalid header name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, newStore(t), Options{})
			wantFieldError(t, err, tt.wantPath, tt.wantText)
		})
	}
}

func TestStageConfigErrors(t *testing.T) {
	e := newEnv(t, config.Authn{JWT: []config.JWTIssuer{issuerConfig("https://idp.test/jwks")}})
	tests := []struct {
		name     string
		route    config.RouteAuth
		wantPath string
		wantText string
	}{
		{"no methods", config.RouteAuth{}, "routes[0].auth.methods", "at least one method"},
		{"unknown method", config.RouteAuth{Methods: []string{"basic"}}, "routes[0].auth.methods[0]", "unknown method"},
		{"unknown issuer", config.RouteAuth{Methods: []string{"api_key", "jwt:other"}}, "routes[0].auth.methods[1]", "unknown JWT issuer"},
		{"unknown endpoint", config.RouteAuth{Methods: []string{"introspection:x"}}, "routes[0].auth.methods[0]", "unknown introspection endpoint"},
		{"duplicate", config.RouteAuth{Methods: []string{"mtls", "mtls"}}, "routes[0].auth.methods[1]", "duplicate"},
		{"query without api_key", config.RouteAuth{Methods: []string{"jwt"}, AllowQueryKey: true}, "routes[0].auth.allow_query_key", "needs the api_key"},
		{"bad header", config.RouteAuth{Methods: []string{"jwt"}, ConsumerHeader: "X Consumer"}, "routes[0].auth.consumer_header", "invalid header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.a.Stage(tt.route, "routes[0].auth")
			wantFieldError(t, err, tt.wantPath, tt.wantText)
		})
	}
}

func wantFieldError(t *testing.T, err error, path, text string) {
	t.Helper()
	var es config.Errors
	if !errors.As(err, &es) || len(es) == 0 {
		t.Fatalf("err = %v, want config.Errors", err)
	}
	for _, fe := range es {
		if fe.Path == path && strings.Contains(fe.Message, text) {
			return
		}
	}
	t.Errorf("errors = %v, want one at %s containing %q", err, path, text)
}

func TestJWKSFileSkipsBadKeys(t *testing.T) {
	good := newECSigner(t, "good")
	doc := `{"keys":[` +
		`{"kty":"EC","crv":"P-256","kid":"enc","use":"enc","x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"},` +
		`{"kty":"oct","kid":"secret","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"},` +
		mustJSON(t, good.public()) + `]}`
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := issuerConfig("")
	cfg.JWKSFile = path
	var logs syncBuffer
	a, err := New(config.Authn{JWT: []config.JWTIssuer{cfg}}, newStore(t),
		Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	set := a.issuers[0].keys()
	if len(set.byKID) != 1 || set.byKID["good"] == nil {
		t.Errorf("keys = %v, want only the signing key", set.byKID)
	}
	for _, want := range []string{`use is \"enc\"`, "symmetric keys are not accepted"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, logs.String())
		}
	}
}

func mustJSON(t *testing.T, v interface{ MarshalJSON() ([]byte, error) }) string {
	t.Helper()
	b, err := v.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
