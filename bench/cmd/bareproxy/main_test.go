package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestProxyForwards(t *testing.T) {
	var gotPath, gotForwardedFor, gotAcceptEncoding string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		gotForwardedFor = r.Header.Get("X-Forwarded-For")
		gotAcceptEncoding = r.Header.Get("Accept-Encoding")
		_, _ = io.WriteString(w, "upstream body")
	}))
	defer upstream.Close()
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(newProxy(target, 16, slog.New(slog.DiscardHandler)))
	defer proxy.Close()

	req, err := http.NewRequest(http.MethodGet, proxy.URL+"/books/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	// An explicit header keeps the test client from asking for gzip itself.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := proxy.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	if string(got) != "upstream body" {
		t.Errorf("body = %q, want %q", got, "upstream body")
	}
	if gotPath != "/books/1" {
		t.Errorf("upstream path = %q, want /books/1", gotPath)
	}
	if gotForwardedFor != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q, want 127.0.0.1", gotForwardedFor)
	}
	if gotAcceptEncoding != "identity" {
		t.Errorf("Accept-Encoding = %q, want the client's identity, not gzip added by the Transport", gotAcceptEncoding)
	}
}
