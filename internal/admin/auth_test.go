package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/store"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	viewer := e.createToken(store.RoleViewer)
	revoked := e.createToken(store.RoleAdmin)
	wantStatus(t, "revoke token", e.do(t, "POST", "/admin/tokens/"+revoked.ID+"/revoke", bootstrapToken, nil), http.StatusOK)

	// A stored token whose hash belongs to another secret.
	forged, parsed, err := tokenFormat().Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	err = e.store.CreateAdminToken(context.Background(), &store.AdminToken{
		ID: parsed.ID, Role: store.RoleAdmin, Hash: apikey.HashSecret("another secret"),
	})
	if err != nil {
		t.Fatalf("CreateAdminToken: %v", err)
	}

	tests := []struct {
		name   string
		header string
		status int
	}{
		{"no header", "", 401},
		{"basic scheme", "Basic dXNlcjpwYXNz", 401},
		{"empty bearer", "Bearer ", 401},
		{"malformed", "Bearer wda_short", 401},
		{"api key", "Bearer wdn_4fQ9xkT2bLmZ_s3Cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr0aB1cD", 401},
		{"unknown token", "Bearer " + unknownToken(t), 401},
		{"wrong secret", "Bearer " + forged, 401},
		{"revoked", "Bearer " + revoked.Token, 401},
		{"viewer", "Bearer " + viewer.Token, 200},
		{"lowercase scheme", "bearer " + viewer.Token, 200},
		{"bootstrap", "Bearer " + bootstrapToken, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", e.srv.URL+"/admin/consumers", nil)
			if err != nil {
				t.Fatalf("building request: %v", err)
			}
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate: got %q, want a Bearer challenge", res.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// unknownToken returns a well-formed admin token that is not stored.
func unknownToken(t *testing.T) string {
	t.Helper()
	s, _, err := tokenFormat().Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return s
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "acme"})
	viewer := e.createToken(store.RoleViewer).Token
	operator := e.createToken(store.RoleOperator).Token
	admin := e.createToken(store.RoleAdmin).Token

	tests := []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		status int
	}{
		{"viewer reads consumers", viewer, "GET", "/admin/consumers", nil, 200},
		{"viewer reads audit", viewer, "GET", "/admin/audit", nil, 200},
		{"viewer cannot create", viewer, "POST", "/admin/consumers", ConsumerCreate{ID: "v"}, 403},
		{"viewer cannot list tokens", viewer, "GET", "/admin/tokens", nil, 403},
		{"operator creates consumer", operator, "POST", "/admin/consumers", ConsumerCreate{ID: "o"}, 201},
		{"operator creates key", operator, "POST", "/admin/consumers/acme/keys", nil, 201},
		{"operator cannot list tokens", operator, "GET", "/admin/tokens", nil, 403},
		{"operator cannot create token", operator, "POST", "/admin/tokens", TokenCreate{Role: "admin"}, 403},
		{"admin lists tokens", admin, "GET", "/admin/tokens", nil, 200},
		{"admin creates token", admin, "POST", "/admin/tokens", TokenCreate{Role: "viewer"}, 201},
		{"invalid role", admin, "POST", "/admin/tokens", TokenCreate{Role: "root"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, tt.token, tt.body)
			wantStatus(t, tt.name, r, tt.status)
		})
	}
}

func TestTokenRevokeTakesEffect(t *testing.T) {
	e := newEnv(t)
	tok := e.createToken(store.RoleAdmin)
	wantStatus(t, "before revoke", e.do(t, "GET", "/admin/tokens", tok.Token, nil), http.StatusOK)

	r := e.do(t, "POST", "/admin/tokens/"+tok.ID+"/revoke", tok.Token, nil)
	wantStatus(t, "revoke itself", r, http.StatusOK)
	if decode[AdminToken](t, r).RevokedAt == nil {
		t.Error("revoked_at: got none, want a time")
	}
	wantStatus(t, "after revoke", e.do(t, "GET", "/admin/tokens", tok.Token, nil), http.StatusUnauthorized)
	wantStatus(t, "revoke missing", e.do(t, "POST", "/admin/tokens/missing/revoke", bootstrapToken, nil), http.StatusNotFound)
}

func TestUnmatchedRoutes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		token  string
		method string
		path   string
		status int
		allow  string
	}{
		{"unknown path without token", "", "GET", "/admin/nowhere", 401, ""},
		{"unknown path", bootstrapToken, "GET", "/admin/nowhere", 404, ""},
		{"trailing slash", bootstrapToken, "GET", "/admin/consumers/", 404, ""},
		{"wrong method", bootstrapToken, "PUT", "/admin/consumers", 405, "GET, POST"},
		{"wrong method on item", bootstrapToken, "POST", "/admin/keys/abc", 405, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, tt.token, nil)
			wantStatus(t, tt.name, r, tt.status)
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow: got %q, want %q", got, tt.allow)
			}
			if got := r.header.Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("Content-Type: got %q, want application/problem+json", got)
			}
		})
	}
}

func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	op := e.createToken(store.RoleOperator)
	e.do(t, "POST", "/admin/consumers", op.Token, ConsumerCreate{ID: "acme", Scopes: []string{"a"}})
	k := decode[CreatedKey](t, e.do(t, "POST", "/admin/consumers/acme/keys", op.Token, KeyCreate{Name: "ci"}))

	r := e.do(t, "GET", "/admin/audit?limit=2", op.Token, nil)
	wantStatus(t, "audit", r, http.StatusOK)
	entries := decode[List[AuditEntry]](t, r).Items
	if len(entries) != 2 {
		t.Fatalf("entries: got %d, want 2", len(entries))
	}
	newest := entries[0]
	if newest.Action != "key.create" || newest.Target != k.ID || newest.Actor != op.ID || newest.SourceIP != "127.0.0.1" {
		t.Errorf("newest entry: got %+v, want key.create of %s by %s from 127.0.0.1", newest, k.ID, op.ID)
	}
	if newest.Detail["consumer_id"] != "acme" || newest.Detail["name"] != "ci" {
		t.Errorf("detail: got %v, want consumer_id acme and name ci", newest.Detail)
	}
	if entries[1].Action != "consumer.create" {
		t.Errorf("second entry: got %q, want consumer.create", entries[1].Action)
	}

	hooked := e.auditEntries()
	if last := hooked[len(hooked)-1]; last.Action != "key.create" || last.ID != newest.ID {
		t.Errorf("OnAudit's last entry: got %s #%d, want key.create #%d", last.Action, last.ID, newest.ID)
	}

	for _, limit := range []string{"0", "1001", "x"} {
		r := e.do(t, "GET", "/admin/audit?limit="+limit, op.Token, nil)
		wantStatus(t, "limit "+limit, r, http.StatusBadRequest)
	}
}
