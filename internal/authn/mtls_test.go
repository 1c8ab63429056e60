package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/store"
)

// testCA issues client certificates for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Warden Test Client CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns a client certificate with the names of tmpl.
func (ca *testCA) issue(t *testing.T, tmpl x509.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// checkResult is what the test server reports about one request.
type checkResult struct {
	Decision string
	Reason   string
	Consumer string
	CredID   string
}

// mtlsServer runs s over HTTPS with the given client certificate policy.
func mtlsServer(t *testing.T, s pipeline.Stage, clientAuth tls.ClientAuthType, pool *x509.CertPool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := exchangeFor(r)
		res := s.Check(r.Context(), x)
		out := checkResult{Decision: res.Decision.String(), Reason: res.Reason}
		if x.Identity != nil {
			out.Consumer = x.Identity.ConsumerID
		}
		out.CredID, _ = x.Attrs["authn.credential_id"].(string)
		_ = json.NewEncoder(w).Encode(out)
	}))
	srv.TLS = &tls.Config{ClientAuth: clientAuth, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// callWith sends a request to srv presenting cert, if any.
func callWith(t *testing.T, srv *httptest.Server, cert *tls.Certificate) checkResult {
	t.Helper()
	client := srv.Client()
	tr := client.Transport.(*http.Transport).Clone()
	if cert != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
	}
	client = &http.Client{Transport: tr, Timeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	resp, err := client.Get(srv.URL + "/")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	var out checkResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMTLS(t *testing.T) {
	ca := newTestCA(t)
	spiffe, _ := url.Parse("spiffe://example.org/ns/prod/sa/billing")
	byCN := ca.issue(t, x509.Certificate{Subject: pkix.Name{CommonName: "billing"}})
	bySPIFFE := ca.issue(t, x509.Certificate{Subject: pkix.Name{CommonName: "ignored"}, URIs: []*url.URL{spiffe}})
	byDNS := ca.issue(t, x509.Certificate{DNSNames: []string{"unknown.test", "orders.svc.test"}})
	byEmail := ca.issue(t, x509.Certificate{EmailAddresses: []string{"ops@example.org"}})
	stranger := ca.issue(t, x509.Certificate{Subject: pkix.Name{CommonName: "stranger"}})
	suspended := ca.issue(t, x509.Certificate{Subject: pkix.Name{CommonName: "frozen"}})
	sum := sha256.Sum256(byCN.Certificate[0])
	fingerprint := hex.EncodeToString(sum[:])

	tests := []struct {
		name, from   string
		cert         *tls.Certificate
		wantReason   string
		wantConsumer string
	}{
		{"subject cn", "subject_cn", &byCN, "", "billing"},
		{"spiffe uri via metadata", "san_uri", &bySPIFFE, "", "billing-svc"},
		{"dns second name", "san_dns", &byDNS, "", "orders"},
		{"email", "san_email", &byEmail, "", "ops"},
		{"fingerprint", "fingerprint", &byCN, "", "pinned"},
		{"unknown consumer", "subject_cn", &stranger, ReasonMTLSUnknownConsumer, ""},
		{"suspended", "subject_cn", &suspended, ReasonConsumerSuspended, ""},
		{"no certificate", "subject_cn", nil, ReasonMTLSRequired, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, config.Authn{MTLS: config.MTLS{ConsumerFrom: tt.from}})
			addConsumer(t, e.st, store.Consumer{ID: "billing"})
			addConsumer(t, e.st, store.Consumer{ID: "billing-svc", Metadata: map[string]string{MTLSIdentityKey: spiffe.String()}})
			addConsumer(t, e.st, store.Consumer{ID: "orders", Metadata: map[string]string{MTLSIdentityKey: "orders.svc.test"}})
			addConsumer(t, e.st, store.Consumer{ID: "ops", Metadata: map[string]string{MTLSIdentityKey: "ops@example.org"}})
			addConsumer(t, e.st, store.Consumer{ID: "pinned", Metadata: map[string]string{MTLSIdentityKey: fingerprint}})
			addConsumer(t, e.st, store.Consumer{ID: "frozen", Status: store.StatusSuspended})
			srv := mtlsServer(t, e.stage(t, config.RouteAuth{Methods: []string{"mtls"}}), tls.VerifyClientCertIfGiven, ca.pool)

			got := callWith(t, srv, tt.cert)
			if got.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", got.Reason, tt.wantReason)
			}
			if got.Consumer != tt.wantConsumer {
				t.Errorf("consumer = %q, want %q", got.Consumer, tt.wantConsumer)
			}
			if tt.wantReason == "" && got.CredID == "" {
				t.Errorf("credential id missing")
			}
			if tt.name == "subject cn" && got.CredID != "sha256:"+fingerprint {
				t.Errorf("credential id = %q, want sha256:%s", got.CredID, fingerprint)
			}
		})
	}
}

func TestMTLSUnverifiedCertificate(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "billing"})
	cert := other.issue(t, x509.Certificate{Subject: pkix.Name{CommonName: "billing"}})
	s := e.stage(t, config.RouteAuth{Methods: []string{"mtls", "api_key"}})

	// The listener requests a certificate but does not verify it, so the
	// stage must not trust the names in it.
	srv := mtlsServer(t, s, tls.RequireAnyClientCert, ca.pool)
	if got := callWith(t, srv, &cert); got.Reason != ReasonMTLSUnverified {
		t.Errorf("reason = %q, want %q", got.Reason, ReasonMTLSUnverified)
	}
}

func TestMTLSAmongMethods(t *testing.T) {
	ca := newTestCA(t)
	e := newEnv(t, config.Authn{})
	addConsumer(t, e.st, store.Consumer{ID: "billing"})
	s := e.stage(t, config.RouteAuth{Methods: []string{"mtls", "api_key"}})
	srv := mtlsServer(t, s, tls.VerifyClientCertIfGiven, ca.pool)
	// Without a certificate the next method decides.
	if got := callWith(t, srv, nil); got.Reason != ReasonMissingCredential {
		t.Errorf("reason = %q, want %q", got.Reason, ReasonMissingCredential)
	}
	cert := ca.issue(t, x509.Certificate{Subject: pkix.Name{CommonName: "billing"}})
	if got := callWith(t, srv, &cert); got.Consumer != "billing" {
		t.Errorf("consumer = %q (reason %q), want billing", got.Consumer, got.Reason)
	}
}
