package admin

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/secret"
	"github.com/warden-api/warden/internal/store"
)

func newTestClient(t *testing.T, e *env, token string) *Client {
	t.Helper()
	c, err := NewClient(e.srv.URL+"/", secret.New(token), &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestClientRoundTrip(t *testing.T) {
	e := newEnv(t)
	c := newTestClient(t, e, bootstrapToken)
	ctx := context.Background()

	if _, err := c.CreateConsumer(ctx, ConsumerCreate{ID: "acme", Scopes: []string{"a"}}); err != nil {
		t.Fatalf("CreateConsumer: %v", err)
	}
	k, err := c.CreateKey(ctx, "acme", KeyCreate{Name: "ci"})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	rot, err := c.RotateKey(ctx, k.ID, KeyRotate{Overlap: "1h"})
	if err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if rot.Previous.ID != k.ID {
		t.Errorf("previous id: got %q, want %q", rot.Previous.ID, k.ID)
	}
	if _, err := c.RevokeKey(ctx, rot.ID); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	keys, err := c.ListKeys(ctx, "acme")
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	if len(keys) != 2 {
		t.Errorf("keys: got %d, want 2", len(keys))
	}
	if _, err := c.SetConsumerStatus(ctx, "acme", store.StatusSuspended); err != nil {
		t.Fatalf("SetConsumerStatus: %v", err)
	}
	got, err := c.GetConsumer(ctx, "acme")
	if err != nil {
		t.Fatalf("GetConsumer: %v", err)
	}
	if got.Status != store.StatusSuspended {
		t.Errorf("status: got %q, want suspended", got.Status)
	}
	tok, err := c.CreateToken(ctx, TokenCreate{Role: store.RoleViewer})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if _, err := c.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if err := c.DeleteConsumer(ctx, "acme"); err != nil {
		t.Fatalf("DeleteConsumer: %v", err)
	}
	audit, err := c.ListAudit(ctx, 100)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	want := []string{"consumer.delete", "token.revoke", "token.create", "consumer.suspend", "key.revoke", "key.rotate", "key.create", "consumer.create"}
	if !reflect.DeepEqual(actions, want) {
		t.Errorf("audit actions: got %v, want %v", actions, want)
	}
}

func TestClientErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	_, err := newTestClient(t, e, "wrong").ListConsumers(ctx)
	if !IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("ListConsumers with a wrong token: got %v, want a 401 *Error", err)
	}

	c := newTestClient(t, e, bootstrapToken)
	_, err = c.CreateConsumer(ctx, ConsumerCreate{ID: "bad id"})
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("CreateConsumer: got %v, want *Error", err)
	}
	if ae.Slug != SlugInvalidRequest || len(ae.Fields) != 1 || ae.Fields[0].Field != "id" {
		t.Errorf("CreateConsumer error: got %+v, want invalid-request naming id", ae)
	}
	if _, err := c.GetKey(ctx, "../tokens"); !IsStatus(err, http.StatusNotFound) {
		t.Errorf("GetKey with a path in the id: got %v, want 404", err)
	}
}

func TestNewClientRejectsURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:9901", "ftp://127.0.0.1", "http://"} {
		if _, err := NewClient(u, secret.New("t"), &http.Client{}); err == nil {
			t.Errorf("NewClient(%q): got no error", u)
		}
	}
}
