package authn

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/secret"
	"github.com/warden-api/warden/internal/store"
)

const (
	introspectClient = "warden gw"
	introspectSecret = "s3cret:with&symbols"
)

// idpServer is an RFC 7662 introspection endpoint over a fixed table of
// tokens. It rejects requests without the expected client credentials.
type idpServer struct {
	*httptest.Server
	hits   atomic.Int64
	status atomic.Int64
	tokens map[string]map[string]any
}

func newIdPServer(t *testing.T, tokens map[string]map[string]any) *idpServer {
	t.Helper()
	s := &idpServer{tokens: tokens}
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *idpServer) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	user, pass, ok := r.BasicAuth()
	// RFC 6749, section 2.3.1: both parts are form-encoded before Basic.
	if u, _ := url.QueryUnescape(user); !ok || u != introspectClient {
		http.Error(w, "bad client", http.StatusUnauthorized)
		return
	}
	if p, _ := url.QueryUnescape(pass); p != introspectSecret {
		http.Error(w, "bad client", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		r.PostFormValue("token_type_hint") != "access_token" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if code := int(s.status.Load()); code != http.StatusOK {
		http.Error(w, "unavailable", code)
		return
	}
	answer, ok := s.tokens[r.PostFormValue("token")]
	if !ok {
		answer = map[string]any{"active": false}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

func introspectionConfig(u string) config.Introspection {
	return config.Introspection{
		Name:         "corp",
		URL:          u,
		ClientID:     introspectClient,
		ClientSecret: secret.New(introspectSecret),
		Audiences:    []string{"api"},
	}
}

func TestIntrospection(t *testing.T) {
	idp := newIdPServer(t, map[string]map[string]any{
		"active-token": {"active": true, "sub": "carol", "scope": "a b", "aud": []string{"api", "x"},
			"exp": t0.Add(time.Hour).Unix(), "jti": "opaque-1", "client_id": "app"},
		"short-token":  {"active": true, "sub": "carol", "aud": "api", "exp": t0.Add(10 * time.Second).Unix()},
		"other-aud":    {"active": true, "sub": "carol", "aud": "billing"},
		"bob-token":    {"active": true, "sub": "bob", "aud": "api"},
		"client-token": {"active": true, "client_id": "svc-7", "aud": "api"},
	})
	e := newEnv(t, config.Authn{Introspection: []config.Introspection{introspectionConfig(idp.URL)}})
	addConsumer(t, e.st, store.Consumer{ID: "bob", Status: store.StatusSuspended})
	s := e.stage(t, config.RouteAuth{Methods: []string{"introspection:corp"}})

	t.Run("active", func(t *testing.T) {
		x, res := run(s, "/", bearer("active-token"))
		wantAllow(t, res)
		id := x.Identity
		if id.ConsumerID != "carol" || id.Method != "introspection" || id.Issuer != "corp" || id.CredentialID != "opaque-1" {
			t.Errorf("identity = %+v", id)
		}
		if !slices.Equal(id.Scopes, []string{"a", "b"}) {
			t.Errorf("scopes = %q, want [a b]", id.Scopes)
		}
		if _, ok := id.Claims["active"]; ok || id.Claims["client_id"] != "app" {
			t.Errorf("claims = %v, want the answer without active", id.Claims)
		}
	})
	t.Run("cached", func(t *testing.T) {
		before := idp.hits.Load()
		for range 3 {
			_, res := run(s, "/", bearer("active-token"))
			wantAllow(t, res)
		}
		if got := idp.hits.Load() - before; got != 0 {
			t.Errorf("endpoint calls = %d, want 0 (cached)", got)
		}
	})
	t.Run("inactive cached", func(t *testing.T) {
		before := idp.hits.Load()
		for range 3 {
			_, res := run(s, "/", bearer("unknown-token"))
			wantDeny(t, res, http.StatusUnauthorized, ReasonIntrospectionInactive)
		}
		if got := idp.hits.Load() - before; got != 1 {
			t.Errorf("endpoint calls = %d, want 1", got)
		}
	})
	t.Run("wrong audience", func(t *testing.T) {
		_, res := run(s, "/", bearer("other-aud"))
		wantDeny(t, res, http.StatusUnauthorized, ReasonTokenWrongAudience)
	})
	t.Run("suspended consumer", func(t *testing.T) {
		_, res := run(s, "/", bearer("bob-token"))
		wantDeny(t, res, http.StatusUnauthorized, ReasonConsumerSuspended)
	})
	t.Run("client id as consumer", func(t *testing.T) {
		x, res := run(s, "/", bearer("client-token"))
		wantAllow(t, res)
		if x.Identity.ConsumerID != "svc-7" {
			t.Errorf("consumer = %q, want svc-7", x.Identity.ConsumerID)
		}
	})
	t.Run("cache bounded by exp", func(t *testing.T) {
		_, res := run(s, "/", bearer("short-token"))
		wantAllow(t, res)
		before := idp.hits.Load()
		e.clock.Advance(11 * time.Second)
		_, res = run(s, "/", bearer("short-token"))
		wantDeny(t, res, http.StatusUnauthorized, ReasonTokenExpired)
		if got := idp.hits.Load() - before; got != 1 {
			t.Errorf("endpoint calls = %d, want 1 (entry expired with the token)", got)
		}
	})
	t.Run("negative ttl", func(t *testing.T) {
		e.clock.Advance(defaultNegativeTTL)
		before := idp.hits.Load()
		_, res := run(s, "/", bearer("unknown-token"))
		wantDeny(t, res, http.StatusUnauthorized, ReasonIntrospectionInactive)
		if got := idp.hits.Load() - before; got != 1 {
			t.Errorf("endpoint calls = %d, want 1 after the negative TTL", got)
		}
	})
}

func TestIntrospectionFailsClosed(t *testing.T) {
	idp := newIdPServer(t, map[string]map[string]any{"tok": {"active": true, "sub": "carol"}})
	e := newEnv(t, config.Authn{Introspection: []config.Introspection{introspectionConfig(idp.URL)}})
	s := e.stage(t, config.RouteAuth{Methods: []string{"introspection:corp"}, Anonymous: true})

	t.Run("error status", func(t *testing.T) {
		idp.status.Store(http.StatusBadGateway)
		_, res := run(s, "/", bearer("tok"))
		wantDeny(t, res, http.StatusServiceUnavailable, ReasonIntrospectionUnavailable)
		if res.Headers.Get("Retry-After") == "" {
			t.Error("Retry-After missing")
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		idp.status.Store(http.StatusOK)
		cfg := introspectionConfig(idp.URL)
		cfg.ClientSecret = secret.New("wrong")
		e2 := newEnv(t, config.Authn{Introspection: []config.Introspection{cfg}})
		_, res := run(e2.stage(t, config.RouteAuth{Methods: []string{"introspection:corp"}}), "/", bearer("tok"))
		wantDeny(t, res, http.StatusServiceUnavailable, ReasonIntrospectionUnavailable)
	})
	t.Run("server down", func(t *testing.T) {
		idp.Close()
		_, res := run(s, "/", bearer("tok"))
		wantDeny(t, res, http.StatusServiceUnavailable, ReasonIntrospectionUnavailable)
	})
}
