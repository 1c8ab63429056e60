package demo

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// loadSpec loads and validates the embedded OpenAPI document.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(Spec())
	if err != nil {
		t.Fatalf("loading openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("validating openapi.yaml: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.yaml is version %s, want 3.1", doc.OpenAPI)
	}
	return doc
}

func TestSpecCoversRoutes(t *testing.T) {
	doc := loadSpec(t)
	handled := map[string]bool{}
	for _, rt := range routes() {
		handled[rt.method+" "+rt.pattern] = true
		item := doc.Paths.Value(rt.pattern)
		if item == nil || item.GetOperation(rt.method) == nil {
			t.Errorf("route %s %s is not in openapi.yaml", rt.method, rt.pattern)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !handled[method+" "+path] {
				t.Errorf("openapi.yaml has %s %s, which the handler does not serve", method, path)
			}
		}
	}
}

// sessionStep is one request of the scripted session. validRequest is
// whether the spec accepts the request: the handler must reject a request
// that the spec rejects, and accept or reject the others for reasons the
// spec cannot express (missing resources, conflicts, check digits).
type sessionStep struct {
	method       string
	path         string
	contentType  string
	body         string
	header       http.Header
	wantStatus   int
	validRequest bool
}

// session exercises every operation and every documented error status.
// Steps run in order against one server, so later steps see earlier changes.
var session = []sessionStep{
	{"GET", "/healthz", "", "", nil, 200, true},
	{"GET", "/whoami", "", "", http.Header{"X-Consumer-Id": {"alice"}, "X-Consumer-Scopes": {"books:read"}}, 200, true},
	{"GET", "/whoami", "", "", nil, 200, true},

	{"GET", "/users", "", "", nil, 200, true},
	{"GET", "/users/alice", "", "", nil, 200, true},
	{"GET", "/users/nobody", "", "", nil, 404, true},
	{"POST", "/users", jsonType, `{"id":"dave","name":"Dave Dale","email":"dave@example.org"}`, nil, 201, true},
	{"POST", "/users", jsonType, `{"id":"dave","name":"Dave","email":"d2@example.org"}`, nil, 409, true},
	{"POST", "/users", jsonType, `{"id":"Eve","name":"Eve","email":"eve@example.org"}`, nil, 422, false},
	{"POST", "/users", jsonType, `{"id":"eve","name":"Eve","email":"eve@localhost"}`, nil, 422, false},
	{"POST", "/users", jsonType, `{"id":"eve","name":"  ","email":"eve@example.org"}`, nil, 422, false},
	{"POST", "/users", jsonType, `{"name":"Eve"}`, nil, 422, false},
	{"POST", "/users", jsonType, `{"id":"eve","name":"Eve","email":"eve@example.org","role":"admin"}`, nil, 400, false},
	{"POST", "/users", jsonType, `{"id":"eve","name":7,"email":"eve@example.org"}`, nil, 400, false},
	{"POST", "/users", "text/plain", `hello`, nil, 415, false},
	{"POST", "/users", jsonType, `{"id":"eve","name":"` + strings.Repeat("e", maxBodyBytes) + `","email":"eve@example.org"}`, nil, 413, false},

	{"GET", "/books", "", "", nil, 200, true},
	{"GET", "/books?limit=2&offset=8", "", "", nil, 200, true},
	{"GET", "/books?author=Mark%20Twain", "", "", nil, 200, true},
	{"GET", "/books?limit=500", "", "", nil, 400, false},
	{"GET", "/books?offset=x", "", "", nil, 400, false},
	{"GET", "/books/3", "", "", nil, 200, true},
	{"GET", "/books/33", "", "", nil, 404, true},
	{"GET", "/books/three", "", "", nil, 400, false},
	{"POST", "/books", jsonType, `{"title":"Dracula","author":"Bram Stoker","isbn":"9780141439846","price_cents":1099,"stock":3}`, nil, 201, true},
	{"POST", "/books", jsonType, `{"title":"Dracula","author":"Bram Stoker","isbn":"9780141439846","price_cents":1099,"stock":3}`, nil, 409, true},
	{"POST", "/books", jsonType, `{"title":"Dracula","author":"Bram Stoker","isbn":"9780141439847","price_cents":1099,"stock":3}`, nil, 422, true},
	{"POST", "/books", jsonType, `{"title":"Dracula","author":"Bram Stoker","isbn":"9780141439846","price_cents":-5,"stock":3}`, nil, 422, false},
	{"POST", "/books", jsonType, `{"title":"Dracula","author":"Bram Stoker","isbn":"9780141439846","price_cents":1.5,"stock":3}`, nil, 400, false},
	{"POST", "/books", "application/xml", `<book/>`, nil, 415, false},
	{"POST", "/books", jsonType, `{"title":"` + strings.Repeat("t", maxBodyBytes) + `"}`, nil, 413, false},
	{"PUT", "/books/11", jsonType, `{"title":"Dracula","author":"Bram Stoker","isbn":"9780141439846","price_cents":999,"stock":5}`, nil, 200, true},
	{"PUT", "/books/2", jsonType, `{"title":"Emma","author":"Jane Austen","isbn":"9780141439846","price_cents":999,"stock":5}`, nil, 409, true},
	{"PUT", "/books/99", jsonType, `{"title":"Emma","author":"Jane Austen","isbn":"9781000000023","price_cents":999,"stock":5}`, nil, 404, true},
	{"PUT", "/books/2", jsonType, `{"title":"Emma"}`, nil, 422, false},
	{"PUT", "/books/2", jsonType, `{"title":"Emma","extra":1}`, nil, 400, false},
	{"PUT", "/books/2", "text/csv", `a,b`, nil, 415, false},
	{"PUT", "/books/2", jsonType, `{"title":"` + strings.Repeat("t", maxBodyBytes) + `"}`, nil, 413, false},
	{"DELETE", "/books/11", "", "", nil, 204, true},
	{"DELETE", "/books/11", "", "", nil, 404, true},
	{"DELETE", "/books/eleven", "", "", nil, 400, false},

	{"GET", "/users/alice/orders", "", "", nil, 200, true},
	{"GET", "/users/nobody/orders", "", "", nil, 404, true},
	{"POST", "/users/carol/orders", jsonType, `{"book_id":5,"quantity":2}`, nil, 201, true},
	{"POST", "/users/carol/orders", jsonType, `{"book_id":9,"quantity":1}`, nil, 409, true},
	{"POST", "/users/carol/orders", jsonType, `{"book_id":404,"quantity":1}`, nil, 422, true},
	{"POST", "/users/carol/orders", jsonType, `{"book_id":5,"quantity":0}`, nil, 422, false},
	{"POST", "/users/carol/orders", jsonType, `{"book_id":"5","quantity":1}`, nil, 400, false},
	{"POST", "/users/nobody/orders", jsonType, `{"book_id":5,"quantity":1}`, nil, 404, true},
	{"POST", "/users/carol/orders", "text/plain", `5`, nil, 415, false},
	{"POST", "/users/carol/orders", jsonType, `{"book_id":` + strings.Repeat("1", maxBodyBytes) + `}`, nil, 413, false},
	{"GET", "/users/carol/orders", "", "", nil, 200, true},
	{"GET", "/orders/3", "", "", nil, 200, true},
	{"GET", "/orders/300", "", "", nil, 404, true},
	{"GET", "/orders/-3", "", "", nil, 400, false},
}

// TestSpecMatchesSession runs the scripted session and validates every
// request and response against openapi.yaml with openapi3filter. An
// undocumented status fails the test.
func TestSpecMatchesSession(t *testing.T) {
	doc := loadSpec(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("building the router: %v", err)
	}
	srv := newTestServer(t)
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	ctx := context.Background()

	for i, step := range session {
		name := step.method + " " + step.path
		req, err := http.NewRequest(step.method, srv.URL+step.path, strings.NewReader(step.body))
		if err != nil {
			t.Fatalf("step %d, %s: %v", i, name, err)
		}
		for k, v := range step.header {
			req.Header[k] = v
		}
		if step.contentType != "" {
			req.Header.Set("Content-Type", step.contentType)
		}

		input := requestInput(t, router, req, step.body, opts)
		reqErr := openapi3filter.ValidateRequest(ctx, input)
		if step.validRequest && reqErr != nil {
			t.Errorf("step %d, %s: the spec rejects the request: %v", i, name, reqErr)
		}
		if !step.validRequest && reqErr == nil {
			t.Errorf("step %d, %s: the spec accepts a request that the handler rejects with %d", i, name, step.wantStatus)
		}

		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("step %d, %s: %v", i, name, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("step %d, %s: reading the response: %v", i, name, err)
		}
		if resp.StatusCode != step.wantStatus {
			t.Errorf("step %d, %s: status = %d, want %d; body %s", i, name, resp.StatusCode, step.wantStatus, body)
		}

		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: input,
			Status:                 resp.StatusCode,
			Header:                 resp.Header,
			Options:                opts,
		}
		out.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("step %d, %s: response %d does not match the spec: %v; body %s", i, name, resp.StatusCode, err, body)
		}
	}
}

// requestInput finds the operation of req and returns the validation input
// for it. The request keeps its body for sending afterwards.
func requestInput(t *testing.T, router routers.Router, req *http.Request, body string, opts *openapi3filter.Options) *openapi3filter.RequestValidationInput {
	t.Helper()
	probe := req.Clone(context.Background())
	probe.Body = io.NopCloser(bytes.NewReader([]byte(body)))
	route, params, err := router.FindRoute(probe)
	if err != nil {
		t.Fatalf("%s %s: no operation in openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	return &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
}

func TestSpecSessionCoversStatuses(t *testing.T) {
	doc := loadSpec(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("building the router: %v", err)
	}
	seen := map[string]bool{}
	for _, step := range session {
		req, err := http.NewRequest(step.method, "http://127.0.0.1"+step.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		route, _, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s %s: %v", step.method, step.path, err)
		}
		seen[route.Method+" "+route.Path+" "+strconv.Itoa(step.wantStatus)] = true
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
				if !seen[method+" "+path+" "+code] {
					t.Errorf("the session never gets %s from %s %s", code, method, path)
				}
			}
		}
	}
}
