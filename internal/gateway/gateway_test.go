package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const publicOnlyConfig = `
listeners:
  - address: LISTEN
admin:
  address: ADMIN
gateway:
  trusted_proxies: ["10.0.0.0/8"]
routes:
  - name: public
    paths: ["/public/**"]
    upstream: app
upstreams:
  - name: app
    targets: ["UPSTREAM"]
events:
  output: "off"
`

// adminUpstream serves /admin and everything under it as the protected
// resource that no request through the gateway may reach.
func adminUpstream(t *testing.T, adminHits *int) *recordingUpstream {
	return newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		p := strings.ToLower(r.URL.Path)
		if strings.HasPrefix(p, "/admin") || strings.Contains(p, "/admin") && !strings.HasPrefix(p, "/public/") {
			*adminHits++
			fmt.Fprint(w, "ADMIN SECRET")
			return
		}
		fmt.Fprintf(w, "public path=%s", r.URL.Path)
	})
}

func TestPathBypassAttempts(t *testing.T) {
	var adminHits int
	up := adminUpstream(t, &adminHits)
	g := startGateway(t, strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1))

	attempts := []string{
		"/public/../admin",
		"/public/%2e%2e/admin",
		"/public/%2E%2E/admin",
		"/public/%252e%252e/admin",
		"/admin/",
		"/admin",
		"//admin",
		"///admin",
		"/ADMIN",
		"/admin;x=1",
		"/admin%2fusers",
		"/admin/.",
		"/public/..%2fadmin",
		"/public/..%2Fadmin",
		"\\admin",
		"/public/..\\admin",
		"/public/..%5cadmin",
		"/public/..;/admin",
		"/public/%2e%2e;/admin",
		"/public/%2e%2e%2fadmin",
		"/public/.%2e/admin",
		"/public/%2e./admin",
		"/public//../admin",
		"/public/./../admin",
		"/public/%c0%ae%c0%ae/admin",
		"/public/%e0%80%ae%e0%80%ae/admin",
		"/public/%ef%bc%8e%ef%bc%8e/admin",
		"/public/%00/../admin",
		"/public%00/../admin",
		"/%2e/admin",
		"/%2e%2e/admin",
		"/public/%2e%2e%2f%2e%2e%2fadmin",
		"/public/..%00/admin",
		"/public/..%09/admin",
		"/public/%u002e%u002e/admin",
		"/public/%%32%65%%32%65/admin",
		"/public/..%252fadmin",
		"/public%2f..%2fadmin",
		"/public/..",
		"/public/../",
		"http://evil.example/admin",
		"/public/../../admin",
		"/./admin",
		"/public/.../admin",
	}
	for _, target := range attempts {
		t.Run(target, func(t *testing.T) {
			before := adminHits
			resp, body := rawRequest(t, g.addr, "GET "+target+" HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n")
			if adminHits != before || strings.Contains(body, "ADMIN SECRET") {
				t.Fatalf("%s reached the admin handler (status %d)", target, resp.StatusCode)
			}
			switch resp.StatusCode {
			case 400, 404, 414:
				// Go's HTTP server rejects some request lines itself, with
				// a plain-text 400, before the gateway handler runs.
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" && resp.StatusCode != 400 {
					t.Errorf("content type = %q, want application/problem+json", ct)
				}
			case 200:
				if !strings.HasPrefix(body, "public path=/public") {
					t.Errorf("200 with body %q, want a path under /public", body)
				}
			default:
				t.Errorf("status = %d, want 400, 404, 414 or a 200 under /public", resp.StatusCode)
			}
		})
	}
	for _, p := range up.served() {
		decoded, err := url.PathUnescape(p)
		if err != nil || !strings.HasPrefix(decoded, "/public") {
			t.Errorf("upstream received %q, which is not under /public", p)
		}
	}
}

func TestCanonicalPathForwarded(t *testing.T) {
	up := newRecordingUpstream(t, nil)
	g := startGateway(t, strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1))
	tests := []struct {
		target string
		want   string
	}{
		{"/public//a///b", "/public/a/b"},
		{"/public/a/./b/../c", "/public/a/c"},
		{"/public/%7Euser", "/public/~user"},
		{"/public/caf%C3%A9", "/public/caf%C3%A9"},
		{"/public/a%20b", "/public/a%20b"},
	}
	for _, tt := range tests {
		resp, _ := rawRequest(t, g.addr, "GET "+tt.target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", tt.target, resp.StatusCode)
			continue
		}
		served := up.served()
		if got := served[len(served)-1]; got != tt.want {
			t.Errorf("%s forwarded as %q, want %q", tt.target, got, tt.want)
		}
	}
}

func TestHygiene(t *testing.T) {
	up := newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Apache/2.4.1")
		w.Header().Set("X-Powered-By", "PHP/5.2")
		w.Header().Set("Connection", "X-Internal")
		w.Header().Set("X-Internal", "leak")
		io.WriteString(w, "ok")
	})
	g := startGateway(t, strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1))

	t.Run("conflicting framing rejected", func(t *testing.T) {
		before := len(up.served())
		resp, _ := rawRequest(t, g.addr, "POST /public/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n")
		if resp.StatusCode != 400 {
			t.Errorf("CL+TE: status %d, want 400", resp.StatusCode)
		}
		if len(up.served()) != before {
			t.Error("CL+TE request reached the upstream")
		}
	})
	t.Run("duplicate content length rejected", func(t *testing.T) {
		resp, _ := rawRequest(t, g.addr, "POST /public/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde")
		if resp.StatusCode != 400 {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("spoofed forwarding headers replaced", func(t *testing.T) {
		resp, _ := rawRequest(t, g.addr, "GET /public/x HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nForwarded: for=1.2.3.4\r\nX-Request-Id: attacker-chosen\r\nConnection: close, X-Secret\r\nX-Secret: s\r\n\r\n")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		h := up.lastHeader()
		if got := h.Get("X-Forwarded-For"); got != "127.0.0.1" {
			t.Errorf("upstream X-Forwarded-For = %q, want 127.0.0.1", got)
		}
		if got := h.Get("Forwarded"); !strings.Contains(got, "for=127.0.0.1") || strings.Contains(got, "1.2.3.4") {
			t.Errorf("upstream Forwarded = %q", got)
		}
		if got := h.Get("X-Request-Id"); got == "attacker-chosen" || got == "" {
			t.Errorf("upstream X-Request-Id = %q, want a generated id", got)
		}
		if got := resp.Header.Get("X-Request-Id"); got != h.Get("X-Request-Id") {
			t.Errorf("client X-Request-Id %q differs from upstream's %q", got, h.Get("X-Request-Id"))
		}
		if h.Get("X-Secret") != "" {
			t.Error("header named in Connection reached the upstream")
		}
		if got := h.Get("X-Forwarded-Proto"); got != "http" {
			t.Errorf("X-Forwarded-Proto = %q, want http", got)
		}
	})
	t.Run("response headers cleaned", func(t *testing.T) {
		resp, _ := rawRequest(t, g.addr, "GET /public/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		for _, h := range []string{"Server", "X-Powered-By", "X-Internal"} {
			if v := resp.Header.Get(h); v != "" {
				t.Errorf("response header %s = %q, want it removed", h, v)
			}
		}
	})
	t.Run("oversized headers", func(t *testing.T) {
		resp, _ := rawRequest(t, g.addr, "GET /public/x HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 70<<10)+"\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != 431 {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})
	t.Run("over-long path", func(t *testing.T) {
		resp, _ := rawRequest(t, g.addr, "GET /public/"+strings.Repeat("a", 9000)+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != 414 {
			t.Errorf("status %d, want 414", resp.StatusCode)
		}
	})
}

func TestProblemDocuments(t *testing.T) {
	up := newRecordingUpstream(t, nil)
	g := startGateway(t, strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1))
	resp, body := rawRequest(t, g.addr, "GET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != 404 {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("body is not JSON: %q", body)
	}
	if got, want := p["type"], "urn:warden:problem:not-found"; got != want {
		t.Errorf("type = %v, want %v", got, want)
	}
	if got := p["status"]; got != float64(404) {
		t.Errorf("status field = %v, want 404", got)
	}
	if id := resp.Header.Get("X-Request-Id"); id == "" || p["request_id"] != id {
		t.Errorf("request_id = %v, header = %q; want both set and equal", p["request_id"], id)
	}
}

func TestEventPerRequest(t *testing.T) {
	up := newRecordingUpstream(t, nil)
	g := startGateway(t, strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1))
	reqs := []struct {
		target string
		status float64
		reason string
	}{
		{"/public/a", 200, ""},
		{"/elsewhere", 404, "no_route"},
		{"/public/%2e%2e/x", 400, ""},
	}
	for _, r := range reqs {
		rawRequest(t, g.addr, "GET "+r.target+" HTTP/1.1\r\nHost: x\r\nUser-Agent: test-agent\r\nAuthorization: Bearer sekrit-token-value\r\nCookie: session=sekrit-cookie\r\nX-API-Key: sekrit-api-key\r\nConnection: close\r\n\r\n")
	}
	evs := g.waitEvents(len(reqs))
	if len(evs) != len(reqs) {
		t.Fatalf("got %d events, want %d", len(evs), len(reqs))
	}
	for i, e := range evs {
		if got := e["http.response.status_code"]; got != reqs[i].status {
			t.Errorf("event %d status = %v, want %v", i, got, reqs[i].status)
		}
		if reqs[i].reason != "" && e["warden.reason"] != reqs[i].reason {
			t.Errorf("event %d reason = %v, want %v", i, e["warden.reason"], reqs[i].reason)
		}
		for _, k := range []string{"@timestamp", "event.id", "http.request.method", "url.path", "source.ip", "user_agent.original", "event.duration", "warden.decision"} {
			if _, ok := e[k]; !ok {
				t.Errorf("event %d has no %s", i, k)
			}
		}
		raw, _ := json.Marshal(e)
		for _, secret := range []string{"sekrit-token-value", "sekrit-cookie", "sekrit-api-key"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("event %d contains the secret %q", i, secret)
			}
		}
	}
	if got := evs[0]["warden.route"]; got != "public" {
		t.Errorf("route = %v, want public", got)
	}
	if got := evs[0]["warden.upstream"]; got != up.url {
		t.Errorf("upstream = %v, want %v", got, up.url)
	}
	for _, secret := range []string{"sekrit-token-value", "sekrit-cookie", "sekrit-api-key"} {
		if strings.Contains(g.logs.String(), secret) {
			t.Errorf("logs contain the secret %q", secret)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	up := newRecordingUpstream(t, nil)
	cfg := strings.Replace(publicOnlyConfig, "    paths: [\"/public/**\"]", "    paths: [\"/public/**\"]\n    methods: [GET, HEAD]", 1)
	g := startGateway(t, strings.Replace(cfg, "UPSTREAM", up.url, 1))
	resp, _ := rawRequest(t, g.addr, "DELETE /public/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != 405 {
		t.Fatalf("status %d, want 405", resp.StatusCode)
	}
	allow := strings.Split(resp.Header.Get("Allow"), ", ")
	if !slices.Contains(allow, "GET") || !slices.Contains(allow, "HEAD") {
		t.Errorf("Allow = %q, want GET and HEAD", resp.Header.Get("Allow"))
	}
}
