package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/warden-api/warden/internal/admin"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/event"
	"github.com/warden-api/warden/internal/gateway"
	"github.com/warden-api/warden/internal/ratelimit"
	"github.com/warden-api/warden/internal/secret"
	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/postgres"
	"github.com/warden-api/warden/internal/store/sqlite"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "Run the gateway. SIGHUP or a change of the config file reloads it;\nSIGTERM and SIGINT stop it gracefully.", stderr)
	configPath := fs.String("config", "warden.yaml", "path of the YAML config file")
	var lf logFlags
	lf.register(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	logger, err := lf.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "warden serve:", err)
		return exitUsage
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		printConfigErrors(stderr, *configPath, err)
		return exitFailure
	}
	g, err := startGateway(ctx, cfg, logger)
	if err != nil {
		printConfigErrors(stderr, *configPath, err)
		return exitFailure
	}
	if err := g.run(ctx); err != nil {
		logger.Error("gateway stopped with an error", "error", err)
		return exitFailure
	}
	return exitOK
}

// runningGateway is a gateway with its store, ready to run.
type runningGateway struct {
	server *gateway.Server
	stages *gateway.Stages
	store  store.Store
	logger *slog.Logger
}

// startGateway opens the store and builds the server for cfg. The caller
// runs it with run.
func startGateway(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*runningGateway, error) {
	installRedisLogger(logger)
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data directory %q: %w", cfg.DataDir, err)
	}
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}

	bootstrap, err := readBootstrapToken(cfg.Admin.BootstrapTokenFile)
	if err != nil {
		st.Close()
		return nil, err
	}

	g := &runningGateway{store: st, logger: logger}
	// The admin handler needs the server's event bus and metrics, which
	// exist only once the server does; onAudit reads them through g.
	adminHandler := admin.NewHandler(admin.Options{
		Store:          st,
		Logger:         logger.With("component", "admin"),
		BootstrapToken: bootstrap,
		OnAudit:        g.onAudit,
		Now:            time.Now,
		Usage:          g.quotaUsage,
	})
	g.stages = gateway.NewStages(st, logger)
	srv, err := gateway.New(cfg, gateway.Options{
		Logger:       logger,
		Version:      version,
		Stages:       g.stages.Build,
		AdminHandler: adminHandler,
		Ready:        st.Ping,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	g.server = srv
	return g, nil
}

func (g *runningGateway) onAudit(e store.AuditEntry) {
	if g.server == nil {
		return
	}
	// Revocations and suspensions apply to the next request, not after
	// the authentication cache expires.
	switch e.Action {
	case "key.revoke", "key.rotate", "key.delete":
		g.stages.InvalidateKey(e.Target)
	case "consumer.suspend", "consumer.activate", "consumer.delete", "consumer.update":
		g.stages.InvalidateConsumer(e.Target)
	}
	g.server.Metrics().AuditChanges.WithLabelValues(e.Action).Inc()
	g.server.Events().Publish(&event.Event{
		Timestamp: e.At,
		ID:        fmt.Sprintf("audit-%d", e.ID),
		Dataset:   event.DatasetAdmin,
		Action:    e.Action,
		Outcome:   "success",
		SourceIP:  e.SourceIP,
		UserID:    e.Actor,
		Attrs:     map[string]any{"admin.target": e.Target, "admin.detail": e.Detail},
	})
}

// quotaUsage reads a consumer's quota usage from the limiter running now,
// which a reload with a changed rate_limit section replaces.
func (g *runningGateway) quotaUsage(ctx context.Context, consumerID string) ([]ratelimit.QuotaStatus, error) {
	l := g.stages.Limiter()
	if l == nil {
		return nil, fmt.Errorf("reading quota usage: %w", admin.ErrUsageUnavailable)
	}
	return l.Usage(ctx, consumerID)
}

// run serves until ctx is done, reloading on SIGHUP.
func (g *runningGateway) run(ctx context.Context) error {
	defer g.store.Close()
	defer g.stages.Close()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				g.logger.Info("SIGHUP received, reloading config")
				_ = g.server.Reload()
			}
		}
	}()
	return g.server.Run(ctx)
}

func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (store.Store, error) {
	switch cfg.Store.Driver {
	case "postgres":
		st, err := postgres.Open(ctx, cfg.Store.DSN.Reveal(), logger.With("component", "store"))
		if err != nil {
			return nil, fmt.Errorf("opening PostgreSQL store: %w", err)
		}
		return st, nil
	default:
		st, err := sqlite.Open(cfg.Store.Path, logger.With("component", "store"))
		if err != nil {
			return nil, fmt.Errorf("opening SQLite store %q: %w", cfg.Store.Path, err)
		}
		// The store holds key hashes and the audit trail: keep it private
		// to the user that runs Warden, like the event file.
		if err := os.Chmod(cfg.Store.Path, 0o600); err != nil {
			logger.Warn("restricting the store file's permissions failed", "path", cfg.Store.Path, "error", err)
		}
		return st, nil
	}
}

func readBootstrapToken(path string) (secret.Value, error) {
	if path == "" {
		return secret.Value{}, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return secret.Value{}, fmt.Errorf("admin.bootstrap_token_file: %w (relative paths are resolved against the config file's directory)", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return secret.Value{}, fmt.Errorf("admin.bootstrap_token_file: %q is readable by other users (mode %v): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return secret.Value{}, fmt.Errorf("admin.bootstrap_token_file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if len(tok) < 32 {
		return secret.Value{}, fmt.Errorf("admin.bootstrap_token_file: the token in %q is shorter than 32 characters; generate one with: openssl rand -hex 32", path)
	}
	return secret.New(tok), nil
}

// printConfigErrors prints every config error on its own line.
func printConfigErrors(stderr io.Writer, path string, err error) {
	var es config.Errors
	if errors.As(err, &es) {
		fmt.Fprintf(stderr, "%s: %d problem(s):\n", path, len(es))
		for _, e := range es {
			fmt.Fprintf(stderr, "  %s\n", e)
		}
		return
	}
	fmt.Fprintf(stderr, "warden: %v\n", err)
}

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, "Usage: warden config validate FILE   check a config file, as serve and reload do")
		fmt.Fprintln(stdout, "       warden config schema          print the JSON Schema of the config file")
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "schema":
		fs := newFlagSet("config schema", "Print the JSON Schema (draft 2020-12) of the config file, for editors and CI.", stderr)
		if code, done := parseFlags(fs, args[1:]); done {
			return code
		}
		stdout.Write(config.Schema())
		return exitOK
	case "validate":
		fs := newFlagSet("config validate FILE", "Check a config file: syntax, fields, values, referenced files, route patterns,\npolicies and limits. Nothing is started. Exit code 1 when it is invalid.", stderr)
		if code, done := parseFlags(fs, args[1:]); done {
			return code
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "warden config validate: expected one config file")
			return exitUsage
		}
		return validateConfig(ctx, fs.Arg(0), stdout, stderr)
	}
	fmt.Fprintf(stderr, "warden config: unknown subcommand %q: use validate or schema\n", args[0])
	return exitUsage
}

// validateConfig loads the config and builds the whole pipeline without
// binding listeners, so the check is the same as at startup.
func validateConfig(ctx context.Context, path string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(path)
	if err != nil {
		printConfigErrors(stderr, path, err)
		return exitFailure
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := readBootstrapToken(cfg.Admin.BootstrapTokenFile); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return exitFailure
	}
	// The pipeline is built against a scratch store, so validating never
	// touches the real data directory or database.
	dir, err := os.MkdirTemp("", "warden-validate-")
	if err != nil {
		fmt.Fprintln(stderr, "warden config validate:", err)
		return exitFailure
	}
	defer os.RemoveAll(dir)
	scratch, err := sqlite.Open(filepath.Join(dir, "check.db"), logger)
	if err != nil {
		fmt.Fprintln(stderr, "warden config validate: opening a scratch store:", err)
		return exitFailure
	}
	defer scratch.Close()
	if err := gateway.Check(ctx, cfg, scratch, logger); err != nil {
		printConfigErrors(stderr, path, err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s: valid (%d listeners, %d routes, %d upstreams)\n", path, len(cfg.Listeners), len(cfg.Routes), len(cfg.Upstreams))
	return exitOK
}
