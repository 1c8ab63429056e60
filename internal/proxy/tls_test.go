package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	server                    tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "warden test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)

	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: "warden test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	serverDER, serverKey := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	clientDER, clientKey := issue(3, x509.ExtKeyUsageClientAuth, nil)

	p := &testPKI{
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "client.pem"),
		keyFile:  filepath.Join(dir, "client-key.pem"),
		pool:     x509.NewCertPool(),
	}
	p.pool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	writePEM(t, p.certFile, "CERTIFICATE", clientDER)
	writePEM(t, p.keyFile, "EC PRIVATE KEY", marshalKey(t, clientKey))
	p.server = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func marshalKey(t *testing.T, key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mtlsServer is an https upstream that requires a client certificate
// signed by the test CA and responds with the client's common name and
// protocol.
func (p *testPKI) mtlsServer(t *testing.T) *httptest.Server {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := ""
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		w.Write([]byte(cn + " " + r.Proto))
	}))
	s.TLS = &tls.Config{
		Certificates: []tls.Certificate{p.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.pool,
	}
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func TestUpstreamMutualTLS(t *testing.T) {
	p := newTestPKI(t)
	s := p.mtlsServer(t)
	u := newTestUpstream(t, config.Upstream{
		Targets: []string{s.URL},
		TLS:     &config.UpstreamTLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile},
	}, Options{})
	g := newGateway(t, u, nil)
	status, body := g.do(t, "GET", "/", nil)
	if status != http.StatusOK || body != "warden test HTTP/2.0" {
		t.Errorf("got %d %q, want 200 \"warden test HTTP/2.0\"", status, body)
	}
}

func TestUpstreamTLSFailures(t *testing.T) {
	p := newTestPKI(t)
	s := p.mtlsServer(t)
	other := newTestPKI(t)
	tests := []struct {
		name string
		tls  *config.UpstreamTLS
	}{
		{"unknown CA", &config.UpstreamTLS{CAFile: other.caFile, CertFile: p.certFile, KeyFile: p.keyFile}},
		{"no client certificate", &config.UpstreamTLS{CAFile: p.caFile}},
		{"wrong server name", &config.UpstreamTLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile, ServerName: "other.example"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newTestUpstream(t, config.Upstream{
				Targets: []string{s.URL}, TLS: tc.tls, Retries: config.Retries{Attempts: intp(0)},
			}, Options{})
			g := newGateway(t, u, nil)
			if status, _ := g.do(t, "GET", "/", nil); status != http.StatusBadGateway {
				t.Errorf("status = %d, want 502", status)
			}
			// A rejected client certificate surfaces after the TLS 1.3
			// handshake, as a reset or an HTTP/2 setup failure.
			if res := g.lastResult(); res.Kind == KindNone || res.Kind == KindTimeout {
				t.Errorf("kind = %v, want a connection failure (error: %v)", res.Kind, res.Err)
			}
		})
	}
}
