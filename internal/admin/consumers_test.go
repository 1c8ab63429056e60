package admin

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/store"
)

func TestConsumerLifecycle(t *testing.T) {
	e := newEnv(t)
	op := e.createToken(store.RoleOperator)

	r := e.do(t, "POST", "/admin/consumers", op.Token, ConsumerCreate{
		ID: "acme-mobile", Name: "Acme mobile app", Roles: []string{"partner"},
		Scopes: []string{"books:read"}, Plan: "gold", Metadata: map[string]string{"team": "mobile"},
	})
	wantStatus(t, "create", r, http.StatusCreated)
	if got := r.header.Get("Location"); got != "/admin/consumers/acme-mobile" {
		t.Errorf("Location: got %q, want %q", got, "/admin/consumers/acme-mobile")
	}
	created := decode[Consumer](t, r)
	want := Consumer{
		ID: "acme-mobile", Name: "Acme mobile app", Roles: []string{"partner"}, Scopes: []string{"books:read"},
		Plan: "gold", Metadata: map[string]string{"team": "mobile"}, Status: store.StatusActive,
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
	}
	if !reflect.DeepEqual(created, want) {
		t.Errorf("created consumer:\n got %+v\nwant %+v", created, want)
	}

	e.clock.Advance(time.Minute)
	r = e.do(t, "PATCH", "/admin/consumers/acme-mobile", op.Token, map[string]any{"name": "Acme", "scopes": []string{}})
	wantStatus(t, "patch", r, http.StatusOK)
	patched := decode[Consumer](t, r)
	if patched.Name != "Acme" || len(patched.Scopes) != 0 || patched.Plan != "gold" {
		t.Errorf("patched consumer: got %+v, want name Acme, no scopes, plan gold", patched)
	}
	if !patched.UpdatedAt.Equal(e.clock.Now()) {
		t.Errorf("updated_at: got %v, want %v", patched.UpdatedAt, e.clock.Now())
	}

	r = e.do(t, "POST", "/admin/consumers/acme-mobile/suspend", op.Token, nil)
	wantStatus(t, "suspend", r, http.StatusOK)
	if got := decode[Consumer](t, r).Status; got != store.StatusSuspended {
		t.Errorf("status after suspend: got %q, want %q", got, store.StatusSuspended)
	}
	r = e.do(t, "POST", "/admin/consumers/acme-mobile/activate", op.Token, "{}")
	wantStatus(t, "activate", r, http.StatusOK)
	if got := decode[Consumer](t, r).Status; got != store.StatusActive {
		t.Errorf("status after activate: got %q, want %q", got, store.StatusActive)
	}

	r = e.do(t, "GET", "/admin/consumers", op.Token, nil)
	wantStatus(t, "list", r, http.StatusOK)
	if got := decode[List[Consumer]](t, r).Items; len(got) != 1 || got[0].ID != "acme-mobile" {
		t.Errorf("list: got %+v, want acme-mobile only", got)
	}

	r = e.do(t, "DELETE", "/admin/consumers/acme-mobile", op.Token, nil)
	wantStatus(t, "delete", r, http.StatusNoContent)
	r = e.do(t, "GET", "/admin/consumers/acme-mobile", op.Token, nil)
	wantStatus(t, "get after delete", r, http.StatusNotFound)

	var actions []string
	for _, a := range e.auditEntries() {
		if a.Actor == op.ID {
			actions = append(actions, a.Action)
		}
	}
	wantActions := []string{"consumer.create", "consumer.update", "consumer.suspend", "consumer.activate", "consumer.delete"}
	if !reflect.DeepEqual(actions, wantActions) {
		t.Errorf("audited actions: got %v, want %v", actions, wantActions)
	}
}

func TestConsumerNoChangeNoAudit(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "acme"})
	before := len(e.auditEntries())

	r := e.do(t, "POST", "/admin/consumers/acme/activate", bootstrapToken, nil)
	wantStatus(t, "activate active consumer", r, http.StatusOK)
	r = e.do(t, "PATCH", "/admin/consumers/acme", bootstrapToken, "{}")
	wantStatus(t, "empty patch", r, http.StatusOK)

	if got := len(e.auditEntries()); got != before {
		t.Errorf("audit entries: got %d, want %d", got, before)
	}
}

func TestConsumerValidation(t *testing.T) {
	e := newEnv(t)
	e.createConsumer(ConsumerCreate{ID: "taken"})
	long := strings.Repeat("x", 129)

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		fields []string
	}{
		{"missing id", "POST", "/admin/consumers", ConsumerCreate{Name: "x"}, 400, []string{"id"}},
		{"bad id", "POST", "/admin/consumers", ConsumerCreate{ID: "a b"}, 400, []string{"id"}},
		{"long id", "POST", "/admin/consumers", ConsumerCreate{ID: long}, 400, []string{"id"}},
		{"several fields", "POST", "/admin/consumers",
			ConsumerCreate{ID: "ok", Roles: []string{"a", "a"}, Scopes: []string{""}, Plan: "has space"},
			400, []string{"roles[1]", "scopes[0]", "plan"}},
		{"control char name", "POST", "/admin/consumers", ConsumerCreate{ID: "ok", Name: "a\x00b"}, 400, []string{"name"}},
		{"metadata key", "POST", "/admin/consumers", ConsumerCreate{ID: "ok", Metadata: map[string]string{"bad key": "v"}}, 400, []string{"metadata.bad key"}},
		{"status in patch", "PATCH", "/admin/consumers/taken", `{"status":"suspended"}`, 400, []string{"status"}},
		{"wrong type", "POST", "/admin/consumers", `{"id":"ok","roles":"admin"}`, 400, []string{"roles"}},
		{"duplicate", "POST", "/admin/consumers", ConsumerCreate{ID: "taken"}, 409, nil},
		{"patch missing", "PATCH", "/admin/consumers/missing", `{"name":"x"}`, 404, nil},
		{"delete missing", "DELETE", "/admin/consumers/missing", nil, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, bootstrapToken, tt.body)
			wantStatus(t, tt.name, r, tt.status)
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type: got %q, want application/problem+json", ct)
			}
			p := decode[Problem](t, r)
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("invalid fields: got %v, want %v", fields, tt.fields)
			}
		})
	}
}
