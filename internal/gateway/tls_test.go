package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// writeTestCert writes a self-signed certificate for 127.0.0.1 and returns
// the cert and key file paths and a pool that trusts it.
func writeTestCert(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "warden test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

func TestTLSListener(t *testing.T) {
	up := newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "sniff-away")
		io.WriteString(w, "ok")
	})
	certPath, keyPath, pool := writeTestCert(t, t.TempDir())
	cfg := strings.Replace(publicOnlyConfig, "  - address: LISTEN\n",
		"  - address: LISTEN\n    tls:\n      cert_file: "+certPath+"\n      key_file: "+keyPath+"\n", 1)
	g := startGateway(t, strings.Replace(cfg, "UPSTREAM", up.url, 1))
	url := "https://" + g.addr + "/public/x"

	tests := []struct {
		name      string
		transport http.RoundTripper
		proto     string
	}{
		{"http1", &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, "HTTP/1.1"},
		{"http2", &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, "HTTP/2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := (&http.Client{Transport: tt.transport, Timeout: 5 * time.Second}).Get(url)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
			if resp.Proto != tt.proto {
				t.Errorf("protocol = %s, want %s", resp.Proto, tt.proto)
			}
			if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=31536000") {
				t.Errorf("Strict-Transport-Security = %q", got)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if up.lastHeader().Get("X-Forwarded-Proto") != "https" {
				t.Errorf("upstream X-Forwarded-Proto = %q, want https", up.lastHeader().Get("X-Forwarded-Proto"))
			}
		})
	}

	t.Run("old TLS versions refused", func(t *testing.T) {
		c, err := tls.Dial("tcp", g.addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10})
		if err == nil {
			c.Close()
			t.Fatal("TLS 1.1 handshake succeeded")
		}
	})
	t.Run("weak cipher suites refused", func(t *testing.T) {
		c, err := tls.Dial("tcp", g.addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}})
		if err == nil {
			c.Close()
			t.Fatal("handshake with CBC suites succeeded")
		}
	})
}

func TestUpstreamFailures(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	slow := newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	dead := freeAddr(t) // nothing listens here once freeAddr returns
	cfg := `
listeners:
  - address: LISTEN
admin:
  address: ADMIN
routes:
  - name: slow
    paths: ["/slow/**"]
    upstream: slow
  - name: dead
    paths: ["/dead/**"]
    upstream: dead
upstreams:
  - name: slow
    targets: ["` + slow.url + `"]
    timeouts: {response_header: 200ms, total: 1s}
  - name: dead
    targets: ["http://` + dead + `"]
    retries: {attempts: 0}
    health_check:
      passive: {max_failures: 2, cooldown: 1m}
events:
  output: "off"
`
	g := startGateway(t, cfg)
	tests := []struct {
		path string
		want int
		typ  string
	}{
		{"/slow/x", 504, "urn:warden:problem:gateway-timeout"},
		{"/dead/x", 502, "urn:warden:problem:bad-gateway"},
		{"/dead/x", 502, "urn:warden:problem:bad-gateway"},
		{"/dead/x", 503, "urn:warden:problem:service-unavailable"},
	}
	for _, tt := range tests {
		resp, body := rawRequest(t, g.addr, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status = %d, want %d", tt.path, resp.StatusCode, tt.want)
		}
		if !strings.Contains(body, tt.typ) {
			t.Errorf("%s: body %q, want type %s", tt.path, body, tt.typ)
		}
		if strings.Contains(body, dead) || strings.Contains(body, "127.0.0.1") {
			t.Errorf("%s: problem leaks the upstream address: %s", tt.path, body)
		}
	}
	// The gateway keeps serving other routes while one upstream hangs.
	evs := g.waitEvents(len(tests))
	if len(evs) != len(tests) {
		t.Fatalf("got %d events, want %d", len(evs), len(tests))
	}
	if got := evs[0]["warden.reason"]; got != "upstream_timeout" {
		t.Errorf("timeout event reason = %v, want upstream_timeout", got)
	}
}

func TestBodyLimit(t *testing.T) {
	up := newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if n > 0 {
			w.WriteHeader(200)
		}
	})
	cfg := strings.Replace(publicOnlyConfig, "    upstream: app\n", "    upstream: app\n    max_body_bytes: 1KiB\n", 1)
	g := startGateway(t, strings.Replace(cfg, "UPSTREAM", up.url, 1))
	big := strings.Repeat("a", 2048)
	tests := []struct {
		name string
		req  string
		want int
	}{
		{"declared length over limit", "POST /public/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n" + big, 413},
		{"chunked body over limit", "POST /public/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n800\r\n" + big + "\r\n0\r\n\r\n", 413},
		{"body at limit", "POST /public/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n" + big[:1024], 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := rawRequest(t, g.addr, tt.req)
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("response has no X-Request-Id")
			}
		})
	}
}

func TestAdminEndpoints(t *testing.T) {
	up := newRecordingUpstream(t, nil)
	g := startGateway(t, strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1))
	rawRequest(t, g.addr, "GET /public/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(g.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(g.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, metric := range []string{
		`warden_requests_total{decision="allow",method="GET",route="public",status_class="2xx"} 1`,
		"warden_request_duration_seconds_bucket",
		"warden_requests_in_flight",
		"warden_upstream_requests_total",
		"warden_event_queue_length",
		"warden_events_dropped_total",
		"warden_config_info",
	} {
		if !strings.Contains(string(body), metric) {
			t.Errorf("/metrics lacks %s", metric)
		}
	}
}
