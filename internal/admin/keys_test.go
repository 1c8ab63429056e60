package admin

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/store"
)

func TestKeyCreate(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "acme", Scopes: []string{"books:read", "books:write"}})

	r := e.do(t, "POST", "/admin/consumers/acme/keys", bootstrapToken, KeyCreate{Name: "ci", Scopes: []string{"books:read"}, ExpiresIn: "720h"})
	wantStatus(t, "create key", r, http.StatusCreated)
	k := decode[CreatedKey](t, r)

	parsed, err := apikey.Parse(k.Key)
	if err != nil {
		t.Fatalf("parsing the returned key: %v", err)
	}
	if parsed.ID != k.ID {
		t.Errorf("key id: got %q in the key, %q in the response", parsed.ID, k.ID)
	}
	if want := e.clock.Now().Add(720 * time.Hour); k.ExpiresAt == nil || !k.ExpiresAt.Equal(want) {
		t.Errorf("expires_at: got %v, want %v", k.ExpiresAt, want)
	}
	if !reflect.DeepEqual(k.Scopes, []string{"books:read"}) {
		t.Errorf("scopes: got %v, want [books:read]", k.Scopes)
	}

	stored, err := e.store.GetKey(context.Background(), k.ID)
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	if !parsed.Matches(stored.Hash) {
		t.Error("stored hash does not match the returned key")
	}

	// The key is shown once: reading it back returns no secret.
	r = e.do(t, "GET", "/admin/keys/"+k.ID, bootstrapToken, nil)
	wantStatus(t, "get key", r, http.StatusOK)
	if strings.Contains(string(r.body), k.Key) || strings.Contains(string(r.body), `"key"`) {
		t.Errorf("GET /admin/keys/{id} returned the secret: %s", r.body)
	}
}

func TestKeyCreateDefaults(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "acme", Scopes: []string{"a", "b"}})
	r := e.do(t, "POST", "/admin/consumers/acme/keys", bootstrapToken, nil)
	wantStatus(t, "create key without body", r, http.StatusCreated)
	k := decode[CreatedKey](t, r)
	if !reflect.DeepEqual(k.Scopes, []string{"a", "b"}) {
		t.Errorf("scopes: got %v, want the consumer's [a b]", k.Scopes)
	}
	if k.ExpiresAt != nil {
		t.Errorf("expires_at: got %v, want none", k.ExpiresAt)
	}
}

func TestKeyCreateValidation(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "acme", Scopes: []string{"books:read"}})
	past := e.clock.Now().Add(-time.Hour)

	tests := []struct {
		name   string
		path   string
		body   any
		status int
		fields []string
	}{
		{"scope outside consumer", "/admin/consumers/acme/keys", KeyCreate{Scopes: []string{"books:read", "admin"}}, 400, []string{"scopes[1]"}},
		{"bad duration", "/admin/consumers/acme/keys", KeyCreate{ExpiresIn: "30d"}, 400, []string{"expires_in"}},
		{"zero duration", "/admin/consumers/acme/keys", KeyCreate{ExpiresIn: "0s"}, 400, []string{"expires_in"}},
		{"past expiry", "/admin/consumers/acme/keys", KeyCreate{ExpiresAt: &past}, 400, []string{"expires_at"}},
		{"both expiries", "/admin/consumers/acme/keys", map[string]any{"expires_in": "1h", "expires_at": "2030-01-01T00:00:00Z"}, 400, []string{"expires_at"}},
		{"unknown field", "/admin/consumers/acme/keys", `{"scope":["x"]}`, 400, []string{"scope"}},
		{"unknown consumer", "/admin/consumers/missing/keys", nil, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "POST", tt.path, bootstrapToken, tt.body)
			wantStatus(t, tt.name, r, tt.status)
			var fields []string
			for _, f := range decode[Problem](t, r).Errors {
				fields = append(fields, f.Field)
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("invalid fields: got %v, want %v", fields, tt.fields)
			}
		})
	}
}

func TestKeyRotate(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "acme"})
	r := e.do(t, "POST", "/admin/consumers/acme/keys", bootstrapToken, KeyCreate{Name: "web", Scopes: []string{"x"}, ExpiresIn: "2160h"})
	wantStatus(t, "create key", r, http.StatusCreated)
	old := decode[CreatedKey](t, r)

	e.clock.Advance(time.Hour)
	r = e.do(t, "POST", "/admin/keys/"+old.ID+"/rotate", bootstrapToken, KeyRotate{Overlap: "24h"})
	wantStatus(t, "rotate", r, http.StatusCreated)
	rotated := decode[RotatedKey](t, r)

	if _, err := apikey.Parse(rotated.Key); err != nil {
		t.Errorf("parsing the new key: %v", err)
	}
	if rotated.Name != "web" || !reflect.DeepEqual(rotated.Scopes, []string{"x"}) {
		t.Errorf("new key: got name %q scopes %v, want web [x]", rotated.Name, rotated.Scopes)
	}
	if want := e.clock.Now().Add(2160 * time.Hour); rotated.ExpiresAt == nil || !rotated.ExpiresAt.Equal(want) {
		t.Errorf("new key expires_at: got %v, want %v (the old key's lifetime)", rotated.ExpiresAt, want)
	}
	if rotated.Previous.ReplacedBy != rotated.ID {
		t.Errorf("previous replaced_by: got %q, want %q", rotated.Previous.ReplacedBy, rotated.ID)
	}
	overlapEnd := e.clock.Now().Add(24 * time.Hour)
	if rotated.Previous.ExpiresAt == nil || !rotated.Previous.ExpiresAt.Equal(overlapEnd) {
		t.Errorf("previous expires_at: got %v, want %v", rotated.Previous.ExpiresAt, overlapEnd)
	}
	if rotated.Previous.State != store.KeyActive {
		t.Errorf("previous state during overlap: got %q, want active", rotated.Previous.State)
	}

	e.clock.Advance(25 * time.Hour)
	r = e.do(t, "GET", "/admin/keys/"+old.ID, bootstrapToken, nil)
	if got := decode[APIKey](t, r).State; got != store.KeyExpired {
		t.Errorf("old key state after overlap: got %q, want expired", got)
	}

	r = e.do(t, "POST", "/admin/keys/"+old.ID+"/rotate", bootstrapToken, nil)
	wantStatus(t, "rotate twice", r, http.StatusConflict)
}

func TestKeyRotateDropsRemovedScopes(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "acme", Scopes: []string{"a", "b"}})
	r := e.do(t, "POST", "/admin/consumers/acme/keys", bootstrapToken, KeyCreate{Scopes: []string{"a", "b"}})
	k := decode[CreatedKey](t, r)
	e.do(t, "PATCH", "/admin/consumers/acme", bootstrapToken, map[string]any{"scopes": []string{"b"}})

	r = e.do(t, "POST", "/admin/keys/"+k.ID+"/rotate", bootstrapToken, KeyRotate{Overlap: "0s"})
	wantStatus(t, "rotate", r, http.StatusCreated)
	rotated := decode[RotatedKey](t, r)
	if !reflect.DeepEqual(rotated.Scopes, []string{"b"}) {
		t.Errorf("new key scopes: got %v, want [b]", rotated.Scopes)
	}
	if rotated.Previous.State != store.KeyExpired {
		t.Errorf("old key state with zero overlap: got %q, want expired", rotated.Previous.State)
	}
}

func TestKeyRevoke(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "acme"})
	k := decode[CreatedKey](t, e.do(t, "POST", "/admin/consumers/acme/keys", bootstrapToken, nil))

	r := e.do(t, "POST", "/admin/keys/"+k.ID+"/revoke", bootstrapToken, nil)
	wantStatus(t, "revoke", r, http.StatusOK)
	revoked := decode[APIKey](t, r)
	if revoked.State != store.KeyRevoked || revoked.RevokedAt == nil {
		t.Errorf("revoked key: got state %q revoked_at %v, want revoked with a time", revoked.State, revoked.RevokedAt)
	}
	before := len(e.auditEntries())
	r = e.do(t, "POST", "/admin/keys/"+k.ID+"/revoke", bootstrapToken, nil)
	wantStatus(t, "revoke again", r, http.StatusOK)
	if got := len(e.auditEntries()); got != before {
		t.Errorf("audit entries after a second revoke: got %d, want %d", got, before)
	}

	r = e.do(t, "POST", "/admin/keys/"+k.ID+"/rotate", bootstrapToken, nil)
	wantStatus(t, "rotate revoked", r, http.StatusConflict)
	r = e.do(t, "POST", "/admin/keys/missing/revoke", bootstrapToken, nil)
	wantStatus(t, "revoke missing", r, http.StatusNotFound)
}

func TestKeyList(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "acme"})
	e.createConsumer(ConsumerCreate{ID: "other"})
	e.do(t, "POST", "/admin/consumers/acme/keys", bootstrapToken, nil)
	e.do(t, "POST", "/admin/consumers/other/keys", bootstrapToken, nil)

	tests := []struct {
		path   string
		status int
		count  int
	}{
		{"/admin/consumers/acme/keys", 200, 1},
		{"/admin/keys", 200, 2},
		{"/admin/keys?consumer_id=other", 200, 1},
		{"/admin/consumers/missing/keys", 404, 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := e.do(t, "GET", tt.path, bootstrapToken, nil)
			wantStatus(t, tt.path, r, tt.status)
			if tt.status != 200 {
				return
			}
			if got := len(decode[List[APIKey]](t, r).Items); got != tt.count {
				t.Errorf("keys: got %d, want %d", got, tt.count)
			}
		})
	}
}

// TestSecretsStayOut checks that plain keys and tokens appear in no log
// line, no audit entry and no later response.
func TestSecretsStayOut(t *testing.T) {
	e := newEnv(t)
	tok := e.createToken(store.RoleAdmin)
	e.createConsumer(ConsumerCreate{ID: "acme"})
	k := decode[CreatedKey](t, e.do(t, "POST", "/admin/consumers/acme/keys", tok.Token, nil))
	rot := decode[RotatedKey](t, e.do(t, "POST", "/admin/keys/"+k.ID+"/rotate", tok.Token, nil))
	e.do(t, "POST", "/admin/keys/"+rot.ID+"/revoke", tok.Token, nil)
	e.do(t, "GET", "/admin/nowhere", "wdn_not_a_token", nil)

	audit := e.do(t, "GET", "/admin/audit", tok.Token, nil)
	tokens := e.do(t, "GET", "/admin/tokens", tok.Token, nil)
	secrets := map[string]string{"api key": k.Key, "rotated key": rot.Key, "admin token": tok.Token, "bootstrap token": bootstrapToken}
	places := map[string]string{"log": e.logs.String(), "audit list": string(audit.body), "token list": string(tokens.body)}
	for _, a := range e.auditEntries() {
		places["audit entry "+a.Action] = a.Detail
	}
	for secretName, s := range secrets {
		for place, text := range places {
			if strings.Contains(text, s) {
				t.Errorf("the %s appears in the %s", secretName, place)
			}
		}
	}
}
