package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/warden-api/warden/internal/config"
)

func TestHopByHopStripping(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen http.Header
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = r.Header.Clone()
				mu.Unlock()
				h := w.Header()
				h.Set("Connection", "X-Upstream-Private")
				h.Set("X-Upstream-Private", "secret")
				h.Set("Keep-Alive", "timeout=5")
				h.Set("Proxy-Authenticate", "Basic")
				h.Set("Upgrade", "h2c")
				h.Set("Server", "upstream/1.0")
				h.Set("X-Powered-By", "php")
				h.Set("X-Kept", "yes")
				w.Write([]byte("ok"))
			}))
			defer upstream.Close()
			u := newTestUpstream(t, config.Upstream{Targets: []string{upstream.URL}}, Options{UseNetHTTP: tr.useNetHTTP})

			req := httptest.NewRequest("GET", "http://gw.example/x", nil)
			req.Header.Set("Connection", "X-Client-Private, keep-alive")
			req.Header.Set("X-Client-Private", "secret")
			req.Header.Set("Keep-Alive", "timeout=5")
			req.Header.Set("Proxy-Connection", "keep-alive")
			req.Header.Set("Proxy-Authorization", "Basic Zm9vOmJhcg==")
			req.Header.Set("Te", "trailers, deflate")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Expect", "100-continue")
			req.Header.Set("X-Kept", "yes")
			w := httptest.NewRecorder()
			res := u.Forward(w, req, Forwarding{
				Path: "/x", Proto: "http", Host: "gw.example",
				RemoveResponseHeaders: []string{"server", "X-Powered-By"},
			})
			if res.Err != nil {
				t.Fatalf("Forward: %v", res.Err)
			}

			mu.Lock()
			defer mu.Unlock()
			for _, k := range []string{"X-Client-Private", "Keep-Alive", "Proxy-Connection",
				"Proxy-Authorization", "Upgrade", "Expect"} {
				if v, ok := seen[k]; ok {
					t.Errorf("upstream received %s: %q", k, v)
				}
			}
			if got := seen.Get("Te"); got != "trailers" {
				t.Errorf("upstream Te = %q, want \"trailers\"", got)
			}
			if got := seen.Get("X-Kept"); got != "yes" {
				t.Errorf("upstream X-Kept = %q, want yes", got)
			}

			got := w.Result().Header
			for _, k := range []string{"Connection", "X-Upstream-Private", "Keep-Alive",
				"Proxy-Authenticate", "Upgrade", "Server", "X-Powered-By"} {
				if v, ok := got[k]; ok {
					t.Errorf("client received %s: %q", k, v)
				}
			}
			if got.Get("X-Kept") != "yes" {
				t.Errorf("client X-Kept = %q, want yes", got.Get("X-Kept"))
			}
		})
	}
}

func TestForwardingHeaders(t *testing.T) {
	tests := []struct {
		name          string
		clientIP      string
		host          string
		proto         string
		wantXFF       string
		wantForwarded string
	}{
		{"ipv4", "192.0.2.60", "api.example.com", "https", "192.0.2.60", "for=192.0.2.60;host=api.example.com;proto=https"},
		{"ipv6", "2001:db8:cafe::17", "api.example.com:8443", "http", "2001:db8:cafe::17", `for="[2001:db8:cafe::17]";host="api.example.com:8443";proto=http`},
		{"mapped ipv4", "::ffff:198.51.100.1", "h", "http", "198.51.100.1", "for=198.51.100.1;host=h;proto=http"},
		{"unknown", "", "h", "http", "", "for=unknown;host=h;proto=http"},
	}
	for _, tr := range transports {
		var mu sync.Mutex
		var seen http.Header
		var seenHost string
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen, seenHost = r.Header.Clone(), r.Host
			mu.Unlock()
			w.Header().Set("X-Request-Id", "from-upstream")
		}))
		defer upstream.Close()
		u := newTestUpstream(t, config.Upstream{Targets: []string{upstream.URL}}, Options{UseNetHTTP: tr.useNetHTTP})
		for _, tc := range tests {
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
				req := httptest.NewRequest("GET", "http://x/", nil)
				req.Header.Set("X-Forwarded-For", "6.6.6.6")
				req.Header.Set("Forwarded", "for=6.6.6.6")
				req.Header.Set("X-Real-Ip", "6.6.6.6")
				req.Header.Set("X-Trace-Id", "client-id")
				var ip netip.Addr
				if tc.clientIP != "" {
					ip = netip.MustParseAddr(tc.clientIP)
				}
				w := httptest.NewRecorder()
				u.Forward(w, req, Forwarding{
					Path: "/", ClientIP: ip, Proto: tc.proto, Host: tc.host,
					RequestID: "abc-123", RequestIDHeader: "x-trace-id",
				})
				mu.Lock()
				defer mu.Unlock()
				checks := []struct{ header, got, want string }{
					{"X-Forwarded-For", strings.Join(seen.Values("X-Forwarded-For"), ","), tc.wantXFF},
					{"Forwarded", strings.Join(seen.Values("Forwarded"), ","), tc.wantForwarded},
					{"X-Forwarded-Proto", seen.Get("X-Forwarded-Proto"), tc.proto},
					{"X-Forwarded-Host", seen.Get("X-Forwarded-Host"), tc.host},
					{"X-Real-Ip", seen.Get("X-Real-Ip"), ""},
					{"X-Trace-Id", strings.Join(seen.Values("X-Trace-Id"), ","), "abc-123"},
					{"response X-Trace-Id", w.Header().Get("X-Trace-Id"), "abc-123"},
				}
				for _, c := range checks {
					if c.got != c.want {
						t.Errorf("%s = %q, want %q", c.header, c.got, c.want)
					}
				}
				if want := strings.TrimPrefix(upstream.URL, "http://"); seenHost != want {
					t.Errorf("upstream Host = %q, want the target's %q", seenHost, want)
				}
			})
		}
	}
}

func TestGatewayHeadersKept(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=1")
		w.Header().Set("Content-Type", "text/plain")
	}))
	defer upstream.Close()
	u := newTestUpstream(t, config.Upstream{Targets: []string{upstream.URL}}, Options{})
	w := httptest.NewRecorder()
	w.Header().Set("Strict-Transport-Security", "max-age=31536000")
	u.Forward(w, httptest.NewRequest("GET", "/", nil), Forwarding{Path: "/"})
	if got := w.Header().Values("Strict-Transport-Security"); !slices.Equal(got, []string{"max-age=31536000"}) {
		t.Errorf("Strict-Transport-Security = %q, want the gateway's value only", got)
	}
	if got := w.Header().Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type = %q, want the upstream's", got)
	}
}

func TestForwardedValueQuoting(t *testing.T) {
	tests := []struct {
		ip, host, want string
	}{
		{"10.0.0.1", `we"ird\host`, `for=10.0.0.1;host="we\"ird\\host";proto=https`},
		{"fe80::1", "h", `for="[fe80::1]";host=h;proto=https`},
	}
	for _, tc := range tests {
		if got, _ := forwardedValue(netip.MustParseAddr(tc.ip), tc.host, "https"); got != tc.want {
			t.Errorf("forwardedValue(%s, %q) = %s, want %s", tc.ip, tc.host, got, tc.want)
		}
	}
}

func TestTargetPathPrefix(t *testing.T) {
	var mu sync.Mutex
	var gotURI string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotURI = r.RequestURI
		mu.Unlock()
	}))
	defer upstream.Close()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			u := newTestUpstream(t, config.Upstream{Targets: []string{upstream.URL + "/base/"}}, Options{UseNetHTTP: tr.useNetHTTP})
			u.Forward(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil),
				Forwarding{Path: "/users/a%2Fb", RawQuery: "q=1%202"})
			mu.Lock()
			defer mu.Unlock()
			if want := "/base/users/a%2Fb?q=1%202"; gotURI != want {
				t.Errorf("request URI = %q, want %q", gotURI, want)
			}
		})
	}
}
