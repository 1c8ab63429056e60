package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestHandlerAnswersBody(t *testing.T) {
	srv := httptest.NewServer(newHandler())
	defer srv.Close()
	for _, path := range []string{"/books/1", "/keyed/1", "/"} {
		t.Run(path, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
			if string(got) != body {
				t.Errorf("body = %q, want %q", got, body)
			}
			if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length = %q, want %d", cl, len(body))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
		})
	}
}

func TestBodySize(t *testing.T) {
	if n := len(body); n < 100 || n > 200 {
		t.Errorf("len(body) = %d, want 100 to 200 bytes, the size of a small API answer", n)
	}
}
