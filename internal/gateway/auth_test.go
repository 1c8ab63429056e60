package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/sqlite"
)

// openTestStore opens a SQLite store in a temp dir.
func openTestStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "warden.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func withStages(st store.Store) func(*Options) {
	return func(o *Options) {
		o.Stages = NewStages(st, o.Logger).Build
	}
}

func TestJWTRouteThroughGateway(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jwks)
	}))
	t.Cleanup(idp.Close)

	sign := func(claims jwt.Claims, extra map[string]any) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(signer).Claims(claims).Claims(extra).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	valid := jwt.Claims{Issuer: "https://idp.test/", Subject: "svc-orders", Audience: jwt.Audience{"orders"},
		Expiry: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now)}

	up := newRecordingUpstream(t, nil)
	cfg := `
listeners:
  - address: LISTEN
admin:
  address: ADMIN
authn:
  jwt:
    - name: idp
      issuer: https://idp.test/
      audiences: [orders]
      algorithms: [ES256]
      jwks_url: ` + idp.URL + `
routes:
  - name: orders
    paths: ["/orders/**"]
    upstream: app
    auth:
      methods: [jwt:idp]
    authz:
      methods:
        DELETE:
          scopes: {all_of: ["write:admin"]}
upstreams:
  - name: app
    targets: ["` + up.url + `"]
events:
  output: "off"
`
	g := startGateway(t, cfg, withStages(openTestStore(t)))

	wrongAud := valid
	wrongAud.Audience = jwt.Audience{"billing"}
	expired := valid
	expired.Expiry = jwt.NewNumericDate(now.Add(-time.Hour))
	tests := []struct {
		name   string
		method string
		token  string
		want   int
	}{
		{"valid token", "GET", sign(valid, map[string]any{"scope": "read:orders"}), 200},
		{"no token", "GET", "", 401},
		{"wrong audience", "GET", sign(wrongAud, nil), 401},
		{"expired", "GET", sign(expired, nil), 401},
		{"delete without scope", "DELETE", sign(valid, map[string]any{"scope": "read:orders"}), 403},
		{"delete with scope", "DELETE", sign(valid, map[string]any{"scope": "write:admin"}), 200},
		{"alg none", "GET", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(sign(valid, nil), ".")[1] + ".", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.method + " /orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			if tt.token != "" {
				req += "Authorization: Bearer " + tt.token + "\r\n"
			}
			resp, _ := rawRequest(t, g.addr, req+"\r\n")
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.want == 200 {
				h := up.lastHeader()
				if got := h.Get("X-Consumer-Id"); got != "svc-orders" {
					t.Errorf("upstream X-Consumer-Id = %q, want svc-orders", got)
				}
				if h.Get("Authorization") != "" {
					t.Error("the token was forwarded to the upstream")
				}
			}
		})
	}
}

func TestAPIKeyLifecycleThroughGateway(t *testing.T) {
	st := openTestStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := st.CreateConsumer(ctx, &store.Consumer{ID: "acme", Name: "Acme", Scopes: []string{"books:read", "books:write"},
		Status: store.StatusActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	plain, k, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateKey(ctx, &store.Key{ID: k.ID, ConsumerID: "acme", Hash: k.Hash(), Scopes: []string{"books:read"}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

	up := newRecordingUpstream(t, nil)
	cfg := `
listeners:
  - address: LISTEN
admin:
  address: ADMIN
routes:
  - name: books
    paths: ["/books/**"]
    upstream: app
    auth:
      methods: [api_key]
    authz:
      methods:
        POST:
          scopes: {all_of: ["books:write"]}
upstreams:
  - name: app
    targets: ["` + up.url + `"]
events:
  output: "off"
`
	var stages *Stages
	g := startGateway(t, cfg, func(o *Options) {
		stages = NewStages(st, o.Logger)
		o.Stages = stages.Build
	})
	send := func(method, key string) int {
		req := method + " /books/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n"
		if key != "" {
			req += "X-API-Key: " + key + "\r\n"
		}
		resp, _ := rawRequest(t, g.addr, req+"\r\n")
		return resp.StatusCode
	}
	if got := send("GET", plain); got != 200 {
		t.Errorf("valid key: status %d, want 200", got)
	}
	if got := send("GET", ""); got != 401 {
		t.Errorf("no key: status %d, want 401", got)
	}
	if got := send("POST", plain); got != 403 {
		t.Errorf("key outside its scopes: status %d, want 403", got)
	}
	if err := st.RevokeKey(ctx, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	stages.InvalidateKey(k.ID)
	if got := send("GET", plain); got != 401 {
		t.Errorf("revoked key: status %d, want 401", got)
	}
	evs := g.waitEvents(4)
	last := evs[len(evs)-1]
	if last["warden.reason"] != "key_revoked" {
		t.Errorf("revoked key event reason = %v, want key_revoked", last["warden.reason"])
	}
	raw, _ := json.Marshal(evs)
	if strings.Contains(string(raw), plain[len(apikey.Prefix)+apikey.IDLen+1:]) {
		t.Error("an event contains the key's secret")
	}
}

func TestMTLSRouteThroughGateway(t *testing.T) {
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(10), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	caPath := filepath.Join(dir, "ca.pem")
	os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600)

	clientCert := func(cn string) tls.Certificate {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	}

	st := openTestStore(t)
	now := time.Now().UTC()
	st.CreateConsumer(context.Background(), &store.Consumer{ID: "billing-svc", Name: "Billing", Status: store.StatusActive, CreatedAt: now, UpdatedAt: now})

	certPath, keyPath, pool := writeTestCert(t, dir)
	up := newRecordingUpstream(t, nil)
	cfg := `
listeners:
  - address: LISTEN
    tls:
      cert_file: ` + certPath + `
      key_file: ` + keyPath + `
      client_ca_file: ` + caPath + `
admin:
  address: ADMIN
routes:
  - name: internal
    paths: ["/internal/**"]
    upstream: app
    auth:
      methods: [mtls]
upstreams:
  - name: app
    targets: ["` + up.url + `"]
events:
  output: "off"
`
	g := startGateway(t, cfg, withStages(st))
	tests := []struct {
		name  string
		certs []tls.Certificate
		want  int
	}{
		{"known consumer", []tls.Certificate{clientCert("billing-svc")}, 200},
		{"unknown consumer", []tls.Certificate{clientCert("someone-else")}, 401},
		{"no certificate", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: tt.certs},
				DialContext:     (&net.Dialer{}).DialContext,
			}}
			resp, err := client.Get("https://" + g.addr + "/internal/x")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}
