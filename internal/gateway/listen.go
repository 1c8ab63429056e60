package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/listener"
)

// certSource serves a listener's certificate and lets a reload replace it
// without closing the listener.
type certSource struct {
	index int
	cert  atomic.Pointer[tls.Certificate]
}

func (c *certSource) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cert.Load(), nil }

// listen binds every listener. It fails without binding any when one
// address is taken or a certificate cannot be loaded.
func (s *Server) listen() error {
	cfg := s.current.Load().cfg
	for i, lc := range cfg.Listeners {
		l, err := net.Listen("tcp", lc.Address)
		if err != nil {
			return fmt.Errorf("listeners[%d]: binding %s: %w", i, lc.Address, err)
		}
		s.listenersRaw = append(s.listenersRaw, nil)
		srv := &http.Server{
			Handler:           &listenerHandler{s: s, name: lc.Name, tls: lc.TLS != nil},
			ReadHeaderTimeout: lc.Timeouts.ReadHeader.D(),
			ReadTimeout:       lc.Timeouts.Read.D(),
			WriteTimeout:      lc.Timeouts.Write.D(),
			IdleTimeout:       lc.Timeouts.Idle.D(),
			MaxHeaderBytes:    int(lc.MaxHeaderBytes),
			ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		}
		var wrapped net.Listener
		if lc.TLS != nil {
			tc, src, err := serverTLS(lc.TLS, i)
			if err != nil {
				l.Close()
				return err
			}
			s.certs = append(s.certs, src)
			srv.TLSConfig = tc
			// HTTP/1.1 framing is not sniffed on TLS connections: the
			// server needs the *tls.Conn itself to negotiate HTTP/2.
			// Go's server removes Content-Length from chunked requests there.
			var limited net.Listener = l
			if lc.MaxConnections > 0 {
				limited = netutil.LimitListener(l, lc.MaxConnections)
			}
			wrapped = tls.NewListener(limited, tc)
		} else {
			srv.ConnContext = listener.ConnContext
			wrapped = listener.Wrap(l, listener.Options{MaxConnections: lc.MaxConnections, MaxHeaderBytes: int(lc.MaxHeaderBytes), Logger: s.logger})
		}
		s.listenersRaw[len(s.listenersRaw)-1] = wrapped
		s.servers = append(s.servers, srv)
		s.addrs = append(s.addrs, l.Addr())
	}

	if cfg.Admin.Address != "off" {
		l, err := net.Listen("tcp", cfg.Admin.Address)
		if err != nil {
			return fmt.Errorf("admin.address: binding %s: %w", cfg.Admin.Address, err)
		}
		s.adminRaw = l
		s.adminAddr = l.Addr()
		s.admin = &http.Server{
			Handler:           s.adminMux(),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		}
	}
	return nil
}

// Modern cipher suites for TLS 1.2: forward secrecy and AEAD only. TLS 1.3
// suites are not configurable in Go and are all modern.
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

func serverTLS(c *config.ListenerTLS, index int) (*tls.Config, *certSource, error) {
	path := fmt.Sprintf("listeners[%d].tls", index)
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, nil, &config.FieldError{Path: path + ".cert_file", Message: fmt.Sprintf("loading certificate %q and key %q: %v", c.CertFile, c.KeyFile, err)}
	}
	src := &certSource{index: index}
	src.cert.Store(&cert)
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   tls12Suites,
		GetCertificate: src.get,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if c.MinVersion == "1.3" {
		tc.MinVersion = tls.VersionTLS13
	}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, nil, &config.FieldError{Path: path + ".client_ca_file", Message: fmt.Sprintf("reading client CA file: %v", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, &config.FieldError{Path: path + ".client_ca_file", Message: fmt.Sprintf("no PEM certificate found in %q", c.ClientCAFile)}
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
		if c.ClientAuth == "require" {
			tc.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return tc, src, nil
}

// updateCerts loads the certificates of a reloaded config into the running
// TLS listeners. A certificate that fails to load keeps the old one.
func (s *Server) updateCerts(cfg *config.Config) {
	for _, src := range s.certs {
		if src.index >= len(cfg.Listeners) || cfg.Listeners[src.index].TLS == nil {
			continue
		}
		t := cfg.Listeners[src.index].TLS
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			s.logger.Error("reloading certificate failed, keeping the old one", "cert_file", t.CertFile, "error", err)
			continue
		}
		src.cert.Store(&cert)
	}
}

func (s *Server) adminMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.current.Load() == nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
			return
		}
		if s.opts.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.opts.Ready(ctx); err != nil {
				s.logger.Warn("readiness check failed", "error", err)
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": "store unreachable"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	if s.opts.AdminHandler != nil {
		mux.Handle("/admin/", s.opts.AdminHandler)
	}
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// watch reloads the config when the file's content changes. It polls,
// because editors replace files in ways (rename, truncate and write) that
// file notifications report inconsistently, and a poll every second costs
// nothing next to the traffic.
func (s *Server) watch(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, err := os.ReadFile(s.path)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		s.reloadMu.Lock()
		changed := !bytes.Equal(sum[:], s.hash[:])
		s.reloadMu.Unlock()
		if !changed {
			continue
		}
		s.logger.Info("config file changed, reloading", "config", s.path)
		if err := s.Reload(); err != nil {
			// Remember the bad content so it is not reloaded every second.
			s.reloadMu.Lock()
			s.hash = sum
			s.reloadMu.Unlock()
		}
	}
}

func addrStrings(as []net.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}
