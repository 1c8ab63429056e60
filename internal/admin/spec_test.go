package admin

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestSpecLoads(t *testing.T) {
	doc := loadSpec(t)
	if got := doc.OpenAPI; got != "3.1.0" {
		t.Errorf("openapi version: got %q, want %q", got, "3.1.0")
	}
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestSpecCoversRoutes checks that every route the handler serves is in
// the OpenAPI document with the same role, and that the document has no
// operation the handler does not serve.
func TestSpecCoversRoutes(t *testing.T) {
	doc := loadSpec(t)
	h := &handler{}
	served := map[string]bool{}
	for _, rt := range h.routes() {
		key := rt.method + " " + rt.pattern
		served[key] = true
		t.Run(key, func(t *testing.T) {
			item := doc.Paths.Value(rt.pattern)
			if item == nil {
				t.Fatalf("path %s is not in %s", rt.pattern, specPath)
			}
			op := item.GetOperation(rt.method)
			if op == nil {
				t.Fatalf("%s is not in %s", key, specPath)
			}
			if got := op.Extensions["x-warden-role"]; got != rt.role {
				t.Errorf("x-warden-role: got %v, want %q", got, rt.role)
			}
			for _, status := range []string{"401", "403"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("response %s is not documented", status)
				}
			}
		})
	}

	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			key := method + " " + path
			if !served[key] {
				t.Errorf("%s is in %s but the handler does not serve it", key, specPath)
			}
		}
	}
}

// TestSpecMatchesMux checks that every documented path, with its
// parameters filled in, reaches the route that the document names.
func TestSpecMatchesMux(t *testing.T) {
	doc := loadSpec(t)
	mux := NewHandler(Options{}).(*handler).mux
	for path, item := range doc.Paths.Map() {
		concrete := pathParam.ReplaceAllString(path, "x1")
		for method := range item.Operations() {
			req, err := http.NewRequest(method, "http://127.0.0.1"+concrete, nil)
			if err != nil {
				t.Fatalf("building request: %v", err)
			}
			_, pattern := mux.Handler(req)
			if want := method + " " + path; pattern != want {
				t.Errorf("%s %s: got pattern %q, want %q", method, concrete, pattern, want)
			}
		}
	}
}

func TestSpecDocumentsProblemTypes(t *testing.T) {
	doc := loadSpec(t)
	desc := doc.Components.Schemas["Problem"].Value.Properties["type"].Value.Description
	for _, slug := range []string{SlugInvalidRequest, SlugUnauthorized, SlugForbidden, SlugResourceNotFound, SlugConflict, SlugUnsupportedMediaType, SlugServiceUnavailable} {
		if !strings.Contains(desc, slug) {
			t.Errorf("problem type %q is not in the Problem schema's description", slug)
		}
	}
	if _, ok := doc.Security[0]["adminToken"]; !ok {
		t.Error("the document does not require the adminToken scheme")
	}
}
