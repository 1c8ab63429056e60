package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/sqlite"
)

func TestSpecCheckCatchesMismatch(t *testing.T) {
	e := newEnv(t)
	req, err := http.NewRequest("GET", e.srv.URL+"/admin/consumers", nil)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	tests := []struct {
		name string
		r    response
	}{
		{"wrong field type", response{status: 200, body: []byte(`{"items":[{"id":5}]}`)}},
		{"undocumented status", response{status: 418, body: []byte(`{}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.header = http.Header{"Content-Type": {"application/json"}}
			if err := e.specError(req, tt.r); err == nil {
				t.Error("specError: got nil, want a mismatch")
			}
		})
	}
}

func TestRequestBodies(t *testing.T) {
	e := newEnv(t)
	huge := `{"id":"acme","name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		fields      []string
	}{
		{"too large", "application/json", huge, 413, nil},
		{"unknown field", "application/json", `{"id":"a","colour":"red"}`, 400, []string{"colour"}},
		{"trailing data", "application/json", `{"id":"a"} {"id":"b"}`, 400, []string{"body"}},
		{"trailing brace", "application/json", `{"id":"a"}}`, 400, []string{"body"}},
		{"invalid JSON", "application/json", `{"id":`, 400, []string{"body"}},
		{"array", "application/json", `[]`, 400, []string{"body"}},
		{"empty", "application/json", ``, 400, []string{"body"}},
		{"form", "application/x-www-form-urlencoded", `id=a`, 415, nil},
		{"charset", "application/json; charset=utf-8", `{"id":"a"}`, 201, nil},
		{"no content type", "", `{"id":"b"}`, 201, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", e.srv.URL+"/admin/consumers", strings.NewReader(tt.body))
			if err != nil {
				t.Fatalf("building request: %v", err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("Authorization", "Bearer "+bootstrapToken)
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			defer res.Body.Close()
			data, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatalf("reading response: %v", err)
			}
			r := response{status: res.StatusCode, header: res.Header, body: data}
			wantStatus(t, tt.name, r, tt.status)
			if tt.status < 400 {
				return
			}
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

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		sent string
		keep bool
	}{
		{"kept", "req-123.abc", true},
		{"replaced when unsafe", "a b<script>", false},
		{"generated when absent", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", e.srv.URL+"/admin/consumers/missing", nil)
			if err != nil {
				t.Fatalf("building request: %v", err)
			}
			req.Header.Set("Authorization", "Bearer "+bootstrapToken)
			if tt.sent != "" {
				req.Header.Set("X-Request-Id", tt.sent)
			}
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			res.Body.Close()
			got := res.Header.Get("X-Request-Id")
			if tt.keep && got != tt.sent {
				t.Errorf("X-Request-Id: got %q, want %q", got, tt.sent)
			}
			if !tt.keep && (got == "" || got == tt.sent) {
				t.Errorf("X-Request-Id: got %q, want a new id", got)
			}
		})
	}
}

func FuzzUnmarshalStrict(f *testing.F) {
	f.Add([]byte(`{"name":"ci","scopes":["a"],"expires_in":"24h"}`))
	f.Add([]byte(`{"expires_at":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"scopes":"a"}`))
	f.Add([]byte(`{"x":1} trailing`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req KeyCreate
		err := unmarshalStrict(body, &req)
		if err == nil {
			return
		}
		e := asError(err)
		if e.Status != http.StatusBadRequest || len(e.Fields) != 1 || e.Fields[0].Field == "" {
			t.Errorf("unmarshalStrict(%q): got %+v, want a 400 naming one field", body, e)
		}
	})
}

// BenchmarkAuthenticatedGet measures one GET through authentication
// (token parse, store lookup, hash compare) and JSON encoding.
func BenchmarkAuthenticatedGet(b *testing.B) {
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "warden.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatalf("opening store: %v", err)
	}
	defer st.Close()
	svc := NewService(Options{Store: st})
	ctx := context.Background()
	if _, err := svc.CreateConsumer(ctx, Actor{ID: "bench"}, ConsumerCreate{ID: "acme"}); err != nil {
		b.Fatalf("CreateConsumer: %v", err)
	}
	tok, err := svc.CreateToken(ctx, Actor{ID: "bench"}, TokenCreate{Role: store.RoleViewer})
	if err != nil {
		b.Fatalf("CreateToken: %v", err)
	}
	h := NewHandler(Options{Store: st})
	req := httptest.NewRequest("GET", "/admin/consumers/acme", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)

	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status: got %d, want 200", w.Code)
		}
	}
}
