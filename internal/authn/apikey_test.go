package authn

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/store"
)

func TestAPIKeyAccepted(t *testing.T) {
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme", Name: "Acme", Roles: []string{"partner"},
		Scopes: []string{"read", "write"}, Plan: "gold", Metadata: map[string]string{"tier": "1"}})
	key, rec := addKey(t, e.st, "acme", []string{"read", "admin"}, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})

	tests := []struct {
		name   string
		header http.Header
	}{
		{"authorization bearer", bearer(key)},
		{"lowercase scheme", http.Header{"Authorization": {"bearer " + key}}},
		{"x-api-key", http.Header{"X-Api-Key": {key}}},
		{"same key twice", http.Header{"Authorization": {"Bearer " + key}, "X-Api-Key": {key}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header.Clone()
			h.Set("X-Consumer-Id", "spoofed")
			h.Set("X-Consumer-Scopes", "admin")
			x, res := run(s, "/books", h)
			wantAllow(t, res)
			want := &pipeline.Identity{ConsumerID: "acme", ConsumerName: "Acme", Method: "api_key",
				CredentialID: rec.ID, Scopes: []string{"read"}, Roles: []string{"partner"}, Plan: "gold",
				Metadata: map[string]string{"tier": "1"}}
			if got := x.Identity; got.ConsumerID != want.ConsumerID || got.ConsumerName != want.ConsumerName ||
				got.Method != want.Method || got.CredentialID != want.CredentialID ||
				!slices.Equal(got.Scopes, want.Scopes) || !slices.Equal(got.Roles, want.Roles) ||
				got.Plan != want.Plan || got.Metadata["tier"] != "1" || got.Claims != nil {
				t.Errorf("identity = %+v, want %+v", got, want)
			}
			for _, h := range []string{"Authorization", "X-Api-Key"} {
				if v := x.Request.Header.Get(h); v != "" {
					t.Errorf("%s = %q, want it removed", h, v)
				}
			}
			if got := x.Request.Header.Values("X-Consumer-Id"); !slices.Equal(got, []string{"acme"}) {
				t.Errorf("X-Consumer-Id = %q, want [acme]", got)
			}
			if got := x.Request.Header.Get("X-Consumer-Scopes"); got != "read" {
				t.Errorf("X-Consumer-Scopes = %q, want read", got)
			}
			if got := x.Attrs["authn.credential_id"]; got != rec.ID {
				t.Errorf("authn.credential_id = %v, want %q", got, rec.ID)
			}
			if got := x.Attrs["authn.method"]; got != "api_key" {
				t.Errorf("authn.method = %v, want api_key", got)
			}
		})
	}
}

func TestAPIKeyRejected(t *testing.T) {
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	addConsumer(t, e.st, store.Consumer{ID: "gone", Status: store.StatusSuspended})
	good, _ := addKey(t, e.st, "acme", nil, time.Time{})
	expired, _ := addKey(t, e.st, "acme", nil, t0.Add(-time.Second))
	suspended, _ := addKey(t, e.st, "gone", nil, time.Time{})
	revoked, revokedRec := addKey(t, e.st, "acme", nil, time.Time{})
	if err := e.st.RevokeKey(context.Background(), revokedRec.ID, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	unknown, _, _ := apikey.Generate()
	// A key whose id is stored with the hash of another secret.
	mismatched, parsed, _ := apikey.Generate()
	if err := e.st.CreateKey(context.Background(), &store.Key{ID: parsed.ID, ConsumerID: "acme",
		Hash: apikey.HashSecret("another secret"), CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	badChecksum := good[:len(good)-1] + flip(good[len(good)-1])

	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}, Anonymous: true})
	tests := []struct {
		name   string
		header http.Header
		target string
		reason string
	}{
		{"bad format", http.Header{"X-Api-Key": {"not-a-key"}}, "/", ReasonKeyInvalidFormat},
		{"bad checksum", http.Header{"X-Api-Key": {badChecksum}}, "/", ReasonKeyChecksum},
		{"unknown key", bearer(unknown), "/", ReasonKeyNotFound},
		{"secret mismatch", bearer(mismatched), "/", ReasonKeySecretMismatch},
		{"revoked", bearer(revoked), "/", ReasonKeyRevoked},
		{"expired", bearer(expired), "/", ReasonKeyExpired},
		{"suspended consumer", bearer(suspended), "/", ReasonConsumerSuspended},
		{"key in query", nil, "/?api_key=" + good, ReasonKeyInQuery},
		{"encoded key in query", nil, "/?api%5Fkey=" + good, ReasonKeyInQuery},
		{"two keys", http.Header{"Authorization": {"Bearer " + good}, "X-Api-Key": {expired}}, "/", ReasonAmbiguousCredential},
		{"two authorization", http.Header{"Authorization": {"Bearer " + good, "Bearer " + good}}, "/", ReasonAmbiguousCredential},
		{"basic scheme", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, "/", ReasonUnsupportedScheme},
		{"opaque bearer", bearer("opaque-token"), "/", ReasonUnsupportedToken},
		{"bad bearer syntax", http.Header{"Authorization": {"Bearer a b"}}, "/", ReasonTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, res := run(s, tt.target, tt.header)
			wantDeny(t, res, http.StatusUnauthorized, tt.reason)
			if res.Problem != "unauthorized" {
				t.Errorf("problem = %q, want unauthorized", res.Problem)
			}
			if got := x.Attrs["authn.reason"]; got != tt.reason {
				t.Errorf("authn.reason = %v, want %q", got, tt.reason)
			}
			challenge := res.Headers.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, `Bearer realm="warden", error="invalid_`) {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge with an error code", challenge)
			}
			if x.Identity != nil {
				t.Errorf("identity = %+v, want none", x.Identity)
			}
		})
	}
}

// flip returns another base62 character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestMissingCredential(t *testing.T) {
	e := newEnv(t, config.Authn{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})
	_, res := run(s, "/", nil)
	wantDeny(t, res, http.StatusUnauthorized, ReasonMissingCredential)
	if got := res.Headers.Get("WWW-Authenticate"); got != `Bearer realm="warden"` {
		t.Errorf("WWW-Authenticate = %q, want %q", got, `Bearer realm="warden"`)
	}
}

func TestAnonymousAllowed(t *testing.T) {
	e := newEnv(t, config.Authn{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}, Anonymous: true})
	x, res := run(s, "/", http.Header{"X-Consumer-Id": {"spoofed"}})
	wantAllow(t, res)
	if x.Identity == nil || !x.Identity.Anonymous() {
		t.Errorf("identity = %+v, want anonymous", x.Identity)
	}
	if got := x.Request.Header.Get("X-Consumer-Id"); got != "" {
		t.Errorf("X-Consumer-Id = %q, want it removed", got)
	}
	if got := x.Attrs["authn.method"]; got != MethodAnonymous {
		t.Errorf("authn.method = %v, want anonymous", got)
	}
}

func TestQueryKeyAllowed(t *testing.T) {
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	key, _ := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}, AllowQueryKey: true,
		ConsumerHeader: "X-Caller", ForwardCredential: true})
	x, res := run(s, "/books?a=1&api_key="+key+"&b=x%20y", nil)
	wantAllow(t, res)
	if got := x.Request.URL.RawQuery; got != "a=1&b=x%20y" {
		t.Errorf("query = %q, want %q", got, "a=1&b=x%20y")
	}
	if got := x.Request.RequestURI; strings.Contains(got, key) {
		t.Errorf("RequestURI = %q still contains the key", got)
	}
	if got := x.Request.Header.Get("X-Caller"); got != "acme" {
		t.Errorf("X-Caller = %q, want acme", got)
	}
}

func TestForwardCredential(t *testing.T) {
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	key, _ := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}, ForwardCredential: true})
	x, res := run(s, "/", bearer(key))
	wantAllow(t, res)
	if got := x.Request.Header.Get("Authorization"); got != "Bearer "+key {
		t.Errorf("Authorization = %q, want it forwarded", got)
	}
}

func TestKeyRevocationTakesEffect(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})

	t.Run("invalidate", func(t *testing.T) {
		key, rec := addKey(t, e.st, "acme", nil, time.Time{})
		_, res := run(s, "/", bearer(key))
		wantAllow(t, res)
		if err := e.st.RevokeKey(ctx, rec.ID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.a.InvalidateKey(rec.ID)
		_, res = run(s, "/", bearer(key))
		wantDeny(t, res, http.StatusUnauthorized, ReasonKeyRevoked)
	})
	t.Run("cache ttl", func(t *testing.T) {
		key, rec := addKey(t, e.st, "acme", nil, time.Time{})
		_, res := run(s, "/", bearer(key))
		wantAllow(t, res)
		if err := e.st.RevokeKey(ctx, rec.ID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		// Another node revoked the key: this node notices after the TTL.
		e.clock.Advance(defaultCacheTTL)
		_, res = run(s, "/", bearer(key))
		wantDeny(t, res, http.StatusUnauthorized, ReasonKeyRevoked)
	})
	t.Run("suspend consumer", func(t *testing.T) {
		addConsumer(t, e.st, store.Consumer{ID: "beta"})
		key, _ := addKey(t, e.st, "beta", nil, time.Time{})
		_, res := run(s, "/", bearer(key))
		wantAllow(t, res)
		c, err := e.st.GetConsumer(ctx, "beta")
		if err != nil {
			t.Fatal(err)
		}
		c.Status = store.StatusSuspended
		if err := e.st.UpdateConsumer(ctx, c); err != nil {
			t.Fatal(err)
		}
		e.a.InvalidateConsumer("beta")
		_, res = run(s, "/", bearer(key))
		wantDeny(t, res, http.StatusUnauthorized, ReasonConsumerSuspended)
	})
}

func TestKeyRotationWindow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	oldKey, oldRec := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})
	_, res := run(s, "/", bearer(oldKey))
	wantAllow(t, res)

	newKey, parsed, _ := apikey.Generate()
	next := &store.Key{ID: parsed.ID, ConsumerID: "acme", Hash: parsed.Hash(), CreatedAt: e.clock.Now()}
	window := time.Hour
	if err := e.st.RotateKey(ctx, oldRec.ID, e.clock.Now().Add(window), next); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	e.a.InvalidateKey(oldRec.ID)

	e.clock.Advance(window / 2)
	_, res = run(s, "/", bearer(oldKey))
	wantAllow(t, res)
	_, res = run(s, "/", bearer(newKey))
	wantAllow(t, res)

	e.clock.Advance(window / 2)
	_, res = run(s, "/", bearer(oldKey))
	wantDeny(t, res, http.StatusUnauthorized, ReasonKeyExpired)
	_, res = run(s, "/", bearer(newKey))
	wantAllow(t, res)
}

func TestKeyLookupCached(t *testing.T) {
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	key, _ := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})
	for range 5 {
		_, res := run(s, "/", bearer(key))
		wantAllow(t, res)
	}
	if got := e.st.keyReads.Load(); got != 1 {
		t.Errorf("store key reads = %d, want 1", got)
	}
	e.clock.Advance(defaultCacheTTL)
	_, res := run(s, "/", bearer(key))
	wantAllow(t, res)
	if got := e.st.keyReads.Load(); got != 2 {
		t.Errorf("store key reads after TTL = %d, want 2", got)
	}
}

func TestStoreDown(t *testing.T) {
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	seen, _ := addKey(t, e.st, "acme", nil, time.Time{})
	unseen, _ := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})
	_, res := run(s, "/", bearer(seen))
	wantAllow(t, res)

	e.st.fail.Store(true)
	e.clock.Advance(defaultCacheTTL + time.Second)
	_, res = run(s, "/", bearer(unseen))
	wantDeny(t, res, http.StatusServiceUnavailable, ReasonStoreUnavailable)
	if got := res.Headers.Get("Retry-After"); got == "" {
		t.Errorf("Retry-After missing on 503")
	}
	_, res = run(s, "/", bearer(seen))
	wantAllow(t, res)

	e.clock.Advance(staleTTL)
	_, res = run(s, "/", bearer(seen))
	wantDeny(t, res, http.StatusServiceUnavailable, ReasonStoreUnavailable)
	if !strings.Contains(e.logs.String(), "using a cached record") {
		t.Errorf("log does not mention the stale record:\n%s", e.logs.String())
	}
}

func TestKeyUseRecorded(t *testing.T) {
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	key, rec := addKey(t, e.st, "acme", nil, time.Time{})
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.a.Start(ctx)
	defer e.a.Stop()

	for range 3 {
		_, res := run(s, "/", bearer(key))
		wantAllow(t, res)
	}
	waitTouch(t, e.st, rec.ID)
	e.clock.Advance(30 * time.Second)
	_, res := run(s, "/", bearer(key))
	wantAllow(t, res)
	select {
	case id := <-e.st.touches:
		t.Fatalf("key %s touched again within a minute", id)
	case <-time.After(100 * time.Millisecond):
	}
	e.clock.Advance(30 * time.Second)
	_, res = run(s, "/", bearer(key))
	wantAllow(t, res)
	waitTouch(t, e.st, rec.ID)

	got, err := e.st.GetKey(context.Background(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastUsedAt.Equal(t0.Add(time.Minute)) || got.LastUsedIP != "127.0.0.1" {
		t.Errorf("last use = %v from %q, want %v from 127.0.0.1", got.LastUsedAt, got.LastUsedIP, t0.Add(time.Minute))
	}
}

func waitTouch(t *testing.T, st *testStore, id string) {
	t.Helper()
	select {
	case got := <-st.touches:
		if got != id {
			t.Fatalf("touched %q, want %q", got, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("key %q not touched within 5s", id)
	}
}

func TestKeyScopes(t *testing.T) {
	tests := []struct {
		name     string
		key      []string
		consumer []string
		want     []string
	}{
		{"key only", []string{"a"}, nil, []string{"a"}},
		{"consumer only", nil, []string{"b"}, []string{"b"}},
		{"intersection", []string{"a", "b", "c"}, []string{"c", "a"}, []string{"a", "c"}},
		{"none", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keyScopes(tt.key, tt.consumer); !slices.Equal(got, tt.want) {
				t.Errorf("keyScopes(%q, %q) = %q, want %q", tt.key, tt.consumer, got, tt.want)
			}
		})
	}
}

func TestConcurrentRequests(t *testing.T) {
	signingKey := newRSASigner(t, "k1")
	jwks := newJWKSServer(t, signingKey)
	e := newEnv(t, config.Authn{JWT: []config.JWTIssuer{issuerConfig(jwks.URL)}})
	addConsumer(t, e.st, store.Consumer{ID: "acme"})
	key, rec := addKey(t, e.st, "acme", nil, time.Time{})
	token := signingKey.sign(t, claimsAt(t0), nil)
	s := e.stage(t, config.RouteAuth{Methods: []string{"api_key", "jwt"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.a.Start(ctx)
	defer e.a.Stop()

	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				h := bearer(key)
				if (w+i)%2 == 0 {
					h = bearer(token)
				}
				if _, res := run(s, "/", h); res.Decision != pipeline.Allow {
					t.Errorf("decision = %v (%s), want allow", res.Decision, res.Reason)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			e.a.InvalidateKey(rec.ID)
			e.a.InvalidateConsumer("acme")
		}
	})
	wg.Wait()
}
