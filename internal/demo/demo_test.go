package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTime is the clock of every test handler.
var testTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// newTestServer starts the demo API with fresh seed data on loopback.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newHandler(nil, func() time.Time { return testTime }))
	t.Cleanup(srv.Close)
	return srv
}

// call sends one request and returns the response with its body read.
func call(t *testing.T, srv *httptest.Server, method, path, contentType, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("building %s %s: %v", method, path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response of %s %s: %v", method, path, err)
	}
	return resp, data
}

// field returns the value at a dot-separated path in a JSON document, with
// numbers as float64; a number in the path indexes an array.
func field(t *testing.T, body []byte, path string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("response %q is not JSON: %v", body, err)
	}
	for _, key := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			v = node[key]
		case []any:
			var i int
			if _, err := fmt.Sscan(key, &i); err != nil || i >= len(node) {
				return nil
			}
			v = node[i]
		default:
			return nil
		}
	}
	return v
}

const jsonType = "application/json"

func TestHandler(t *testing.T) {
	validBook := `{"title":"Dracula","author":"Bram Stoker","isbn":"9780141439846","price_cents":1099,"stock":3}`
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		header      http.Header
		wantStatus  int
		want        map[string]any // JSON paths and their values
	}{
		{"health", "GET", "/healthz", "", "", nil, 200, map[string]any{"status": "ok"}},
		{"whoami", "GET", "/whoami", "", "", http.Header{
			"X-Consumer-Id": {"alice"}, "X-Consumer-Scopes": {"books:read orders:write,admin"}, "X-Request-Id": {"r1"},
		}, 200, map[string]any{"consumer_id": "alice", "scopes": []any{"books:read", "orders:write", "admin"}, "request_id": "r1"}},
		{"whoami anonymous", "GET", "/whoami", "", "", nil, 200,
			map[string]any{"consumer_id": nil, "scopes": []any{}, "request_id": nil}},

		{"list users", "GET", "/users", "", "", nil, 200,
			map[string]any{"items.0.id": "alice", "items.1.id": "bob", "items.2.id": "carol", "items.3": nil}},
		{"get user", "GET", "/users/bob", "", "", nil, 200,
			map[string]any{"id": "bob", "name": "Bob Baker", "email": "bob@example.com"}},
		{"get user missing", "GET", "/users/mallory", "", "", nil, 404,
			map[string]any{"type": typePrefix + "not-found", "status": 404.0, "instance": "/users/mallory"}},
		{"create user", "POST", "/users", jsonType, `{"id":"dave","name":"Dave Dale","email":"dave@example.org"}`, nil, 201,
			map[string]any{"id": "dave", "email": "dave@example.org"}},
		{"create user charset", "POST", "/users", "application/json; charset=utf-8", `{"id":"dave","name":"Dave","email":"dave@example.org"}`, nil, 201,
			map[string]any{"id": "dave"}},
		{"create user duplicate id", "POST", "/users", jsonType, `{"id":"alice","name":"A","email":"a2@example.com"}`, nil, 409,
			map[string]any{"type": typePrefix + "conflict"}},
		{"create user duplicate email", "POST", "/users", jsonType, `{"id":"alice2","name":"A","email":"ALICE@example.com"}`, nil, 409,
			map[string]any{"type": typePrefix + "conflict"}},
		{"create user missing fields", "POST", "/users", jsonType, `{}`, nil, 422,
			map[string]any{"errors.0.field": "id", "errors.1.field": "name", "errors.2.field": "email", "errors.0.message": "is required"}},
		{"create user null field", "POST", "/users", jsonType, `{"id":null,"name":"D","email":"d@example.com"}`, nil, 422,
			map[string]any{"errors.0.field": "id"}},
		{"create user bad email", "POST", "/users", jsonType, `{"id":"dave","name":"D","email":"dave@localhost"}`, nil, 422,
			map[string]any{"errors.0.field": "email"}},
		{"create user bad id", "POST", "/users", jsonType, `{"id":"Dave","name":"D","email":"d@example.com"}`, nil, 422,
			map[string]any{"errors.0.field": "id"}},
		{"create user long name", "POST", "/users", jsonType, `{"id":"dave","name":"` + strings.Repeat("é", 101) + `","email":"d@example.com"}`, nil, 422,
			map[string]any{"errors.0.field": "name", "errors.0.message": "must be at most 100 characters"}},
		{"create user blank name", "POST", "/users", jsonType, `{"id":"dave","name":" \t","email":"d@example.com"}`, nil, 422,
			map[string]any{"errors.0.field": "name"}},
		{"create user unknown field", "POST", "/users", jsonType, `{"id":"dave","name":"D","email":"d@example.com","admin":true}`, nil, 400,
			map[string]any{"errors.0.field": "admin"}},
		{"create user wrong type", "POST", "/users", jsonType, `{"id":"dave","name":5,"email":"d@example.com"}`, nil, 400,
			map[string]any{"errors.0.field": "name", "errors.0.message": "must be a string"}},
		{"create user invalid json", "POST", "/users", jsonType, `{"id":`, nil, 400,
			map[string]any{"type": typePrefix + "bad-request"}},
		{"create user empty body", "POST", "/users", jsonType, ``, nil, 400,
			map[string]any{"detail": "the request body is missing"}},
		{"create user two values", "POST", "/users", jsonType, `{"id":"dave","name":"D","email":"d@example.com"} {}`, nil, 400,
			map[string]any{"detail": "the request body must contain exactly one JSON value"}},
		{"create user array", "POST", "/users", jsonType, `[]`, nil, 400,
			map[string]any{"detail": "the request body must be a JSON object"}},
		{"create user text body", "POST", "/users", "text/plain", `{}`, nil, 415,
			map[string]any{"type": typePrefix + "unsupported-media-type"}},
		{"create user no type", "POST", "/users", "", `{}`, nil, 415, nil},
		{"create user too large", "POST", "/users", jsonType, `{"name":"` + strings.Repeat("a", maxBodyBytes) + `"}`, nil, 413,
			map[string]any{"type": typePrefix + "payload-too-large"}},

		{"list books", "GET", "/books", "", "", nil, 200,
			map[string]any{"total": 10.0, "limit": 20.0, "offset": 0.0, "items.0.id": 1.0, "items.9.id": 10.0}},
		{"list books page", "GET", "/books?limit=3&offset=2", "", "", nil, 200,
			map[string]any{"total": 10.0, "items.0.id": 3.0, "items.2.id": 5.0, "items.3": nil}},
		{"list books past end", "GET", "/books?offset=50", "", "", nil, 200,
			map[string]any{"total": 10.0, "items": []any{}}},
		{"list books by author", "GET", "/books?author=jane%20austen", "", "", nil, 200,
			map[string]any{"total": 2.0, "items.0.title": "Pride and Prejudice", "items.1.title": "Emma"}},
		{"list books limit high", "GET", "/books?limit=101", "", "", nil, 400, map[string]any{"errors.0.field": "limit"}},
		{"list books limit zero", "GET", "/books?limit=0", "", "", nil, 400, map[string]any{"errors.0.field": "limit"}},
		{"list books limit text", "GET", "/books?limit=ten", "", "", nil, 400, map[string]any{"errors.0.field": "limit"}},
		{"list books offset negative", "GET", "/books?offset=-1", "", "", nil, 400, map[string]any{"errors.0.field": "offset"}},
		{"list books author long", "GET", "/books?author=" + strings.Repeat("a", 101), "", "", nil, 400,
			map[string]any{"errors.0.field": "author"}},
		{"get book", "GET", "/books/7", "", "", nil, 200,
			map[string]any{"id": 7.0, "title": "Moby-Dick", "isbn": "9781000000078", "price_cents": 1299.0}},
		{"get book missing", "GET", "/books/999", "", "", nil, 404, nil},
		{"get book bad id", "GET", "/books/abc", "", "", nil, 400, map[string]any{"errors.0.field": "id"}},
		{"get book zero id", "GET", "/books/0", "", "", nil, 400, nil},
		{"get book plus id", "GET", "/books/+1", "", "", nil, 400, nil},
		{"create book", "POST", "/books", jsonType, validBook, nil, 201,
			map[string]any{"id": 11.0, "title": "Dracula", "stock": 3.0}},
		{"create book check digit", "POST", "/books", jsonType, strings.Replace(validBook, "9780141439846", "9780141439847", 1), nil, 422,
			map[string]any{"errors.0.field": "isbn", "errors.0.message": "has a wrong ISBN-13 check digit"}},
		{"create book isbn pattern", "POST", "/books", jsonType, strings.Replace(validBook, "9780141439846", "0-14-143984-6", 1), nil, 422,
			map[string]any{"errors.0.field": "isbn"}},
		{"create book duplicate isbn", "POST", "/books", jsonType, strings.Replace(validBook, "9780141439846", "9781000000016", 1), nil, 409,
			map[string]any{"detail": "ISBN 9781000000016 belongs to book 1"}},
		{"create book negative price", "POST", "/books", jsonType, strings.Replace(validBook, "1099", "-1", 1), nil, 422,
			map[string]any{"errors.0.field": "price_cents", "errors.0.message": "must be from 0 to 100000000"}},
		{"create book fractional price", "POST", "/books", jsonType, strings.Replace(validBook, "1099", "10.99", 1), nil, 400,
			map[string]any{"errors.0.field": "price_cents", "errors.0.message": "must be an integer"}},
		{"create book huge stock", "POST", "/books", jsonType, strings.Replace(validBook, `"stock":3`, `"stock":1e30`, 1), nil, 400,
			map[string]any{"errors.0.field": "stock"}},
		{"create book missing stock", "POST", "/books", jsonType, strings.Replace(validBook, `,"stock":3`, ``, 1), nil, 422,
			map[string]any{"errors.0.field": "stock", "errors.1": nil}},
		{"replace book", "PUT", "/books/2", jsonType, strings.Replace(validBook, "9780141439846", "9781000000023", 1), nil, 200,
			map[string]any{"id": 2.0, "title": "Dracula", "isbn": "9781000000023"}},
		{"replace book missing", "PUT", "/books/99", jsonType, validBook, nil, 404, nil},
		{"replace book isbn taken", "PUT", "/books/2", jsonType, strings.Replace(validBook, "9780141439846", "9781000000016", 1), nil, 409, nil},
		{"replace book invalid", "PUT", "/books/2", jsonType, `{"title":""}`, nil, 422,
			map[string]any{"errors.0.field": "title", "errors.1.field": "author"}},
		{"delete book", "DELETE", "/books/4", "", "", nil, 204, nil},
		{"delete book missing", "DELETE", "/books/44", "", "", nil, 404, nil},

		{"list orders", "GET", "/users/alice/orders", "", "", nil, 200,
			map[string]any{"items.0.id": 1.0, "items.0.user_id": "alice", "items.0.book_id": 1.0, "items.1": nil}},
		{"list orders none", "GET", "/users/carol/orders", "", "", nil, 200, map[string]any{"items": []any{}}},
		{"list orders missing user", "GET", "/users/mallory/orders", "", "", nil, 404, nil},
		{"create order", "POST", "/users/carol/orders", jsonType, `{"book_id":7,"quantity":2}`, nil, 201,
			map[string]any{"id": 3.0, "user_id": "carol", "book_id": 7.0, "quantity": 2.0, "total_cents": 2598.0, "created_at": "2025-03-14T15:09:26Z"}},
		{"create order out of stock", "POST", "/users/carol/orders", jsonType, `{"book_id":9,"quantity":1}`, nil, 409,
			map[string]any{"detail": "book 9 has 0 in stock, 1 requested"}},
		{"create order too many", "POST", "/users/carol/orders", jsonType, `{"book_id":6,"quantity":4}`, nil, 409, nil},
		{"create order unknown book", "POST", "/users/carol/orders", jsonType, `{"book_id":77,"quantity":1}`, nil, 422,
			map[string]any{"errors.0.field": "book_id"}},
		{"create order quantity zero", "POST", "/users/carol/orders", jsonType, `{"book_id":7,"quantity":0}`, nil, 422,
			map[string]any{"errors.0.field": "quantity"}},
		{"create order quantity high", "POST", "/users/carol/orders", jsonType, `{"book_id":7,"quantity":101}`, nil, 422,
			map[string]any{"errors.0.field": "quantity"}},
		{"create order missing user", "POST", "/users/mallory/orders", jsonType, `{"book_id":7,"quantity":1}`, nil, 404, nil},
		{"get order", "GET", "/orders/2", "", "", nil, 200,
			map[string]any{"id": 2.0, "user_id": "bob", "book_id": 3.0, "quantity": 2.0, "total_cents": 2198.0}},
		{"get order missing", "GET", "/orders/99", "", "", nil, 404, nil},
		{"get order bad id", "GET", "/orders/x", "", "", nil, 400, nil},

		{"unknown path", "GET", "/admin", "", "", nil, 404,
			map[string]any{"type": typePrefix + "not-found", "instance": "/admin"}},
		{"wrong method", "PATCH", "/books/1", jsonType, `{}`, nil, 405,
			map[string]any{"type": typePrefix + "method-not-allowed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t)
			resp, body := call(t, srv, tt.method, tt.path, tt.contentType, tt.body, tt.header)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s: status = %d, want %d; body %s", tt.method, tt.path, resp.StatusCode, tt.wantStatus, body)
			}
			for path, want := range tt.want {
				if got := field(t, body, path); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v; body %s", path, got, want, body)
				}
			}

			wantType := jsonType
			switch {
			case tt.wantStatus == http.StatusNoContent:
				wantType = ""
			case tt.wantStatus >= 400:
				wantType = "application/problem+json"
			}
			if got := resp.Header.Get("Content-Type"); got != wantType {
				t.Errorf("Content-Type = %q, want %q", got, wantType)
			}
		})
	}
}

func TestHandlerHeaders(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		key    string
		want   string
	}{
		{"user location", "POST", "/users", `{"id":"dave","name":"D","email":"d@example.com"}`, "Location", "/users/dave"},
		{"book location", "POST", "/books", `{"title":"T","author":"A","isbn":"9780141439846","price_cents":1,"stock":1}`, "Location", "/books/11"},
		{"order location", "POST", "/users/alice/orders", `{"book_id":1,"quantity":1}`, "Location", "/orders/3"},
		{"allow", "PATCH", "/books/1", "", "Allow", "DELETE, GET, HEAD, PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := call(t, srv, tt.method, tt.path, jsonType, tt.body, nil)
			if got := resp.Header.Get(tt.key); got != tt.want {
				t.Errorf("%s = %q, want %q; status %d, body %s", tt.key, got, tt.want, resp.StatusCode, body)
			}
		})
	}
}

func TestOrderTakesStock(t *testing.T) {
	srv := newTestServer(t)
	resp, body := call(t, srv, "POST", "/users/alice/orders", jsonType, `{"book_id":4,"quantity":3}`, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("first order: status = %d, want 201; body %s", resp.StatusCode, body)
	}
	_, body = call(t, srv, "GET", "/books/4", "", "", nil)
	if got := field(t, body, "stock"); got != 1.0 {
		t.Errorf("stock after ordering 3 of 4 = %v, want 1", got)
	}

	resp, body = call(t, srv, "POST", "/users/alice/orders", jsonType, `{"book_id":4,"quantity":2}`, nil)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("second order: status = %d, want 409; body %s", resp.StatusCode, body)
	}
	_, body = call(t, srv, "GET", "/books/4", "", "", nil)
	if got := field(t, body, "stock"); got != 1.0 {
		t.Errorf("stock after a rejected order = %v, want 1", got)
	}

	_, body = call(t, srv, "GET", "/users/alice/orders", "", "", nil)
	if got := field(t, body, "items.1.book_id"); got != 4.0 {
		t.Errorf("alice's second order is for book %v, want 4", got)
	}
}

func TestDeleteBookKeepsOrders(t *testing.T) {
	srv := newTestServer(t)
	if resp, body := call(t, srv, "DELETE", "/books/1", "", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /books/1: status = %d, want 204; body %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, srv, "GET", "/books/1", "", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /books/1 after delete: status = %d, want 404", resp.StatusCode)
	}
	_, body := call(t, srv, "GET", "/orders/1", "", "", nil)
	if got := field(t, body, "book_id"); got != 1.0 {
		t.Errorf("order 1 book_id = %v, want 1", got)
	}
	_, body = call(t, srv, "GET", "/books", "", "", nil)
	if got := field(t, body, "total"); got != 9.0 {
		t.Errorf("total after delete = %v, want 9", got)
	}
}

func TestConcurrentOrders(t *testing.T) {
	srv := newTestServer(t)
	const buyers = 30 // book 10 has 20 copies
	statuses := make(chan int, buyers)
	var wg sync.WaitGroup
	for range buyers {
		wg.Go(func() {
			// call may not be used here: t.Fatal must run on the test goroutine.
			resp, err := srv.Client().Post(srv.URL+"/users/bob/orders", jsonType, strings.NewReader(`{"book_id":10,"quantity":1}`))
			if err != nil {
				t.Errorf("POST /users/bob/orders: %v", err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)

	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[http.StatusCreated] != 20 || counts[http.StatusConflict] != 10 {
		t.Errorf("statuses = %v, want 20 × 201 and 10 × 409", counts)
	}
	_, body := call(t, srv, "GET", "/books/10", "", "", nil)
	if got := field(t, body, "stock"); got != 0.0 {
		t.Errorf("stock = %v, want 0", got)
	}
}

func TestStoreLimit(t *testing.T) {
	srv := newTestServer(t)
	var resp *http.Response
	var body []byte
	for i := range maxUsers - 2 {
		user := fmt.Sprintf(`{"id":"u%d","name":"U","email":"u%d@example.com"}`, i, i)
		resp, body = call(t, srv, "POST", "/users", jsonType, user, nil)
	}
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("user number %d: status = %d, want 409", maxUsers+1, resp.StatusCode)
	}
	if got, want := field(t, body, "detail"), "the store holds at most 1000 users"; got != want {
		t.Errorf("detail = %v, want %q", got, want)
	}
}

func TestSpecCopy(t *testing.T) {
	a := Spec()
	a[0] = 'X'
	if b := Spec(); b[0] == 'X' {
		t.Error("changing the result of Spec changed the next result")
	}
}

func TestSeedISBNs(t *testing.T) {
	for _, b := range seedBooks() {
		if !isbnPattern.MatchString(b.ISBN) || !validISBN13(b.ISBN) {
			t.Errorf("seed book %q has an invalid ISBN %s", b.Title, b.ISBN)
		}
	}
}
