package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/event"
	"github.com/warden-api/warden/internal/metrics"
	"github.com/warden-api/warden/internal/store"
)

// StagesFactory builds the stage components for one config. It is called
// for the first pipeline and again on every reload.
type StagesFactory func(cfg *config.Config, m *metrics.Metrics) (StageBuilder, error)

// Options configure a Server.
type Options struct {
	Logger  *slog.Logger
	Version string
	// Stages builds route stages; nil serves routes without stages.
	Stages StagesFactory
	// AdminHandler, when set, serves /admin/ on the admin listener.
	AdminHandler http.Handler
	// Ready, when set, is part of the /readyz check (the store, say).
	Ready func(ctx context.Context) error
	// Metrics and Events may be given by the caller to share them with
	// other components; New creates them otherwise.
	Metrics *metrics.Metrics
	Events  *event.Bus
}

// Server runs the listeners of one config file and swaps its pipeline on
// reload.
type Server struct {
	opts    Options
	logger  *slog.Logger
	metrics *metrics.Metrics
	events  *event.Bus
	ownBus  bool

	current  atomic.Pointer[Pipeline]
	reloadMu sync.Mutex
	hash     [32]byte
	path     string

	certs        []*certSource
	servers      []*http.Server
	listenersRaw []net.Listener
	admin        *http.Server
	adminRaw     net.Listener
	addrs        []net.Addr
	adminAddr    net.Addr
	ready        chan struct{}
}

// New builds the first pipeline from cfg and prepares the listeners. It
// does not bind them; Run does.
func New(cfg *config.Config, opts Options) (*Server, error) {
	if opts.Logger == nil {
		return nil, errors.New("gateway: a logger is required")
	}
	s := &Server{opts: opts, logger: opts.Logger, metrics: opts.Metrics, events: opts.Events, path: cfg.Path(), ready: make(chan struct{})}
	if s.events == nil {
		bus, err := openEventBus(cfg.Events, s.logger, s.metricsOrNew)
		if err != nil {
			return nil, err
		}
		s.events, s.ownBus = bus, true
	}
	if s.metrics == nil {
		s.metrics = metrics.New(func() float64 { return float64(s.events.Len()) })
	}
	p, err := s.build(cfg)
	if err != nil {
		s.closeBus()
		return nil, err
	}
	if err := p.Start(context.Background()); err != nil {
		s.closeBus()
		return nil, fmt.Errorf("starting pipeline: %w", err)
	}
	s.current.Store(p)
	s.setConfigInfo(cfg)
	return s, nil
}

// metricsOrNew is used while the bus is created before the metrics exist:
// the observer reads s.metrics lazily.
func (s *Server) metricsOrNew() *metrics.Metrics { return s.metrics }

func (s *Server) build(cfg *config.Config) (*Pipeline, error) {
	deps := Deps{Logger: s.logger, Metrics: s.metrics, Events: s.events}
	if s.opts.Stages != nil {
		sb, err := s.opts.Stages(cfg, s.metrics)
		if err != nil {
			return nil, cfg.Locate(err)
		}
		deps.Stages = sb
	}
	return Build(cfg, deps)
}

func (s *Server) setConfigInfo(cfg *config.Config) {
	data, err := os.ReadFile(cfg.Path())
	if err != nil {
		return
	}
	sum := sha256.Sum256(data)
	s.hash = sum
	s.metrics.ConfigInfo.Reset()
	s.metrics.ConfigInfo.WithLabelValues(fmt.Sprintf("%x", sum)).Set(1)
}

// Pipeline returns the pipeline in use.
func (s *Server) Pipeline() *Pipeline { return s.current.Load() }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Events returns the server's event bus.
func (s *Server) Events() *event.Bus { return s.events }

// Reload loads the config file again, builds a new pipeline and swaps it
// in. On any error the old pipeline keeps serving and the error is
// returned (and logged).
func (s *Server) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()

	cfg, err := config.Load(s.path)
	if err == nil {
		s.warnRestartOnly(cfg)
		var p *Pipeline
		p, err = s.build(cfg)
		if err == nil {
			err = p.Start(context.Background())
		}
		if err == nil {
			old := s.current.Swap(p)
			s.updateCerts(cfg)
			s.setConfigInfo(cfg)
			// In-flight requests hold the old pipeline and finish on it;
			// stopping it ends only its background work.
			old.Stop()
		}
	}

	s.metrics.ReloadDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.Reloads.WithLabelValues("failure").Inc()
		s.logger.Error("config reload failed, keeping the running config", "config", s.path, "error", err)
		return err
	}
	s.metrics.Reloads.WithLabelValues("success").Inc()
	s.logger.Info("config reloaded", "config", s.path, "duration_ms", time.Since(start).Milliseconds())
	return nil
}

// warnRestartOnly logs settings that a reload cannot change.
func (s *Server) warnRestartOnly(cfg *config.Config) {
	old := s.current.Load().cfg
	if !reflect.DeepEqual(listenerAddrs(old), listenerAddrs(cfg)) || old.Admin.Address != cfg.Admin.Address {
		s.logger.Warn("listener addresses changed; restart Warden to apply them", "config", s.path)
	}
	if !reflect.DeepEqual(old.Events, cfg.Events) {
		s.logger.Warn("event output changed; restart Warden to apply it", "config", s.path)
	}
	if old.Admin != cfg.Admin {
		s.logger.Warn("admin settings changed; restart Warden to apply them", "config", s.path)
	}
	if !reflect.DeepEqual(old.Store, cfg.Store) {
		s.logger.Warn("store settings changed; restart Warden to apply them", "config", s.path)
	}
}

func listenerAddrs(cfg *config.Config) []string {
	var out []string
	for _, l := range cfg.Listeners {
		out = append(out, l.Address, fmt.Sprint(l.TLS != nil))
	}
	return out
}

// Run binds the listeners, serves until ctx is done, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish within the
// shutdown timeout, and flushes the events.
func (s *Server) Run(ctx context.Context) error {
	if err := s.listen(); err != nil {
		s.Close()
		return err
	}
	errc := make(chan error, len(s.servers)+1)
	for i, srv := range s.servers {
		go func() { errc <- s.serveOne(srv, s.listenersRaw[i]) }()
	}
	if s.admin != nil {
		go func() { errc <- s.serveOne(s.admin, s.adminRaw) }()
	}
	cfg := s.current.Load().cfg
	if *cfg.Gateway.WatchConfig && s.path != "" {
		go s.watch(ctx)
	}
	close(s.ready)
	s.logger.Info("warden ready", "version", s.opts.Version, "config", s.path, "listeners", addrStrings(s.addrs), "admin", addrString(s.adminAddr))

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		s.logger.Error("listener failed", "error", runErr)
	}
	s.shutdown()
	return runErr
}

func (s *Server) serveOne(srv *http.Server, l net.Listener) error {
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) shutdown() {
	timeout := s.current.Load().cfg.Gateway.ShutdownTimeout.D()
	s.logger.Info("shutting down", "timeout", timeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	var wg sync.WaitGroup
	for _, srv := range append(s.servers, s.admin) {
		if srv == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(ctx); err != nil {
				s.logger.Warn("in-flight requests did not finish before the shutdown timeout; closing connections", "listener", srv.Addr, "error", err)
				_ = srv.Close()
			}
		}()
	}
	wg.Wait()
	s.Close()
	s.logger.Info("warden stopped")
}

// Close stops the pipeline and flushes and closes the event bus. Run calls
// it; call it directly only for a Server that never ran.
func (s *Server) Close() {
	if p := s.current.Load(); p != nil {
		p.Stop()
	}
	s.closeBus()
}

func (s *Server) closeBus() {
	if !s.ownBus || s.events == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.events.Close(ctx); err != nil {
		s.logger.Error("flushing events at shutdown failed", "error", err, "dropped_total", s.events.Dropped())
	}
	s.ownBus = false
}

// Ready is closed once Run has bound every listener.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addrs returns the bound client listener addresses once Ready is closed.
func (s *Server) Addrs() []net.Addr { return s.addrs }

// AdminAddr returns the bound admin address, or nil when it is off.
func (s *Server) AdminAddr() net.Addr { return s.adminAddr }

// listenerHandler serves one client listener with the current pipeline.
type listenerHandler struct {
	s    *Server
	name string
	tls  bool
}

func (h *listenerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.s.current.Load().serve(w, r, h.name, h.tls)
}

func openEventBus(cfg config.Events, logger *slog.Logger, m func() *metrics.Metrics) (*event.Bus, error) {
	var sinks []event.Sink
	switch cfg.Output {
	case "stdout":
		sinks = append(sinks, event.NewLineSink("stdout", os.Stdout, nil))
	case "stderr":
		sinks = append(sinks, event.NewLineSink("stderr", os.Stderr, nil))
	case "file":
		f, err := os.OpenFile(cfg.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, fmt.Errorf("opening event file: %w", err)
		}
		sinks = append(sinks, event.NewLineSink("file", f, f))
	}
	return event.NewBus(cfg.QueueSize, sinks, logger.With("component", "events"), lazyObserver{m}), nil
}

// lazyObserver forwards to the metrics once they exist.
type lazyObserver struct{ m func() *metrics.Metrics }

func (o lazyObserver) EventDropped() {
	if m := o.m(); m != nil {
		m.EventsDropped.Inc()
	}
}

func (o lazyObserver) EventWritten() {
	if m := o.m(); m != nil {
		m.EventsWritten.Inc()
	}
}

func (o lazyObserver) SinkError(sink string) {
	if m := o.m(); m != nil {
		m.EventSinkErrors.WithLabelValues(sink).Inc()
	}
}

// Check builds the whole pipeline for cfg without binding listeners, and
// returns every config error found. It is what "warden config validate"
// runs. st may be an empty scratch store: nothing is read from it.
func Check(ctx context.Context, cfg *config.Config, st store.Store, logger *slog.Logger) error {
	m := metrics.New(nil)
	deps := Deps{Logger: logger, Metrics: m}
	sb, err := NewStages(st, logger).Build(cfg, m)
	if err != nil {
		return cfg.Locate(err)
	}
	deps.Stages = sb
	_, err = Build(cfg, deps)
	return err
}
