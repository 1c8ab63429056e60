// Command upstream is the origin server of the load benchmark. It returns
// the same small JSON document for every request, over keep-alive
// connections, so that the cost measured in front of it is the proxy's.
//
// Usage:
//
//	upstream -addr 127.0.0.1:38001
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// body is the response document, 149 bytes: about the size of a small API
// response, so headers and framing weigh as much as in real traffic.
const body = `{"id":42,"name":"The Left Hand of Darkness","author":"Ursula K. Le Guin","year":1969,"isbn":"978-0-441-47812-5","tags":["science-fiction","classic"]}`

func main() {
	addr := flag.String("addr", "127.0.0.1:38001", "host:port to listen on; keep it on loopback")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr, logger); err != nil {
		logger.Error("upstream stopped", "error", err)
		os.Exit(1)
	}
}

// serve listens on addr and serves requests until ctx is done.
func serve(ctx context.Context, addr string, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           newHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	logger.Info("upstream listening", "address", ln.Addr().String(), "body_bytes", len(body))
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", addr, err)
	}
	return nil
}

// newHandler returns the handler that writes body for every request. The
// header values are built once, so a request allocates as little as
// net/http allows.
func newHandler() http.Handler {
	contentType := []string{"application/json"}
	contentLength := []string{strconv.Itoa(len(body))}
	payload := []byte(body)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = contentType
		h["Content-Length"] = contentLength
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload)
	})
}
