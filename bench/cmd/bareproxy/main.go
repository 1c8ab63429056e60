// Command bareproxy is the plain Go reference of the load benchmark: a
// net/http server in front of net/http/httputil.ReverseProxy, with a
// Transport tuned for one local upstream and nothing else on the request
// path. Warden's throughput is compared with it to show what the gateway
// adds to, or saves over, the standard library.
//
// Usage:
//
//	bareproxy -addr 127.0.0.1:38003 -upstream http://127.0.0.1:38001
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:38003", "host:port to listen on; keep it on loopback")
	upstream := flag.String("upstream", "http://127.0.0.1:38001", "base URL of the upstream")
	maxIdle := flag.Int("max-idle", 1024, "idle keep-alive connections kept to the upstream")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	target, err := url.Parse(*upstream)
	if err != nil || target.Host == "" {
		logger.Error("invalid -upstream: expected a URL such as http://127.0.0.1:38001", "upstream", *upstream)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr, newProxy(target, *maxIdle, logger), logger); err != nil {
		logger.Error("bareproxy stopped", "error", err)
		os.Exit(1)
	}
}

// newProxy returns a ReverseProxy to target whose Transport keeps up to
// maxIdle idle connections to it and never requests compressed responses,
// because a proxy forwards bodies unchanged.
func newProxy(target *url.URL, maxIdle int, logger *slog.Logger) *httputil.ReverseProxy {
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          maxIdle,
		MaxIdleConnsPerHost:   maxIdle,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
	errorLog := slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
		},
		Transport: transport,
		ErrorLog:  errorLog,
	}
}

// serve listens on addr and proxies until ctx is done.
func serve(ctx context.Context, addr string, handler http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	logger.Info("bareproxy listening", "address", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", addr, err)
	}
	return nil
}
