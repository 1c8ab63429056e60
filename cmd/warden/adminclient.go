package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/warden-api/warden/internal/admin"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/secret"
	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/postgres"
	"github.com/warden-api/warden/internal/store/sqlite"
)

// adminTokenEnv names the environment variable that holds the admin token
// for --admin-url when --token-file is not set.
const adminTokenEnv = "WARDEN_ADMIN_TOKEN"

// adminAPI is the set of operations that the consumers, keys and tokens
// commands call. The direct backend works on the store through admin.Service; the remote
// backend calls a running gateway's admin API. Both apply the same
// validation and write the same audit entries.
type adminAPI interface {
	ListConsumers(ctx context.Context) ([]admin.Consumer, error)
	GetConsumer(ctx context.Context, id string) (admin.Consumer, error)
	CreateConsumer(ctx context.Context, req admin.ConsumerCreate) (admin.Consumer, error)
	SetConsumerStatus(ctx context.Context, id, status string) (admin.Consumer, error)
	DeleteConsumer(ctx context.Context, id string) error

	ListKeys(ctx context.Context, consumerID string) ([]admin.APIKey, error)
	CreateKey(ctx context.Context, consumerID string, req admin.KeyCreate) (admin.CreatedKey, error)
	RotateKey(ctx context.Context, id string, req admin.KeyRotate) (admin.RotatedKey, error)
	RevokeKey(ctx context.Context, id string) (admin.APIKey, error)

	ListTokens(ctx context.Context) ([]admin.AdminToken, error)
	CreateToken(ctx context.Context, req admin.TokenCreate) (admin.CreatedToken, error)
	RevokeToken(ctx context.Context, id string) (admin.AdminToken, error)

	Close() error
}

// adminFlags choose where a command acts and how it prints.
type adminFlags struct {
	dataDir    string
	configPath string
	adminURL   string
	tokenFile  string
	output     string
}

func (f *adminFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", config.DefaultDataDir,
		"data directory whose SQLite store (warden.db) is changed directly")
	fs.StringVar(&f.configPath, "config", "",
		"config file whose store section and data_dir are used instead of --data-dir")
	fs.StringVar(&f.adminURL, "admin-url", "",
		"base URL of a running gateway's admin listener, such as http://127.0.0.1:9901; the command then calls its admin API instead of opening the store")
	fs.StringVar(&f.tokenFile, "token-file", "",
		"file that holds the admin token for --admin-url (default: the "+adminTokenEnv+" environment variable)")
	fs.StringVar(&f.output, "output", "text", "output format: text, or json for scripts")
}

// check reports flag combinations that cannot work, as usage errors.
func (f *adminFlags) check(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	switch {
	case f.output != "text" && f.output != "json":
		return fmt.Errorf("invalid --output %q: use text or json", f.output)
	case f.adminURL != "" && (set["data-dir"] || set["config"]):
		return errors.New("--admin-url cannot be combined with --data-dir or --config: choose the running gateway or the store")
	case set["data-dir"] && set["config"]:
		return errors.New("--data-dir cannot be combined with --config: the config names the data directory")
	case f.tokenFile != "" && f.adminURL == "":
		return errors.New("--token-file needs --admin-url")
	}
	return nil
}

// open returns the backend the flags choose. readOnly commands do not
// create a store that does not exist yet.
func (f *adminFlags) open(ctx context.Context, stderr io.Writer, readOnly bool) (adminAPI, error) {
	if f.adminURL != "" {
		token, err := f.adminToken()
		if err != nil {
			return nil, err
		}
		return newRemoteAPI(f.adminURL, token, stderr)
	}

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := f.openStore(ctx, logger, readOnly)
	if err != nil {
		return nil, err
	}
	return &directAPI{
		svc:   admin.NewService(admin.Options{Store: st, Logger: logger}),
		store: st,
		actor: admin.Actor{ID: cliActor()},
	}, nil
}

// openStore opens the store named by --config or --data-dir.
func (f *adminFlags) openStore(ctx context.Context, logger *slog.Logger, readOnly bool) (store.Store, error) {
	driver, path, dsn := "sqlite", filepath.Join(f.dataDir, "warden.db"), ""
	if f.configPath != "" {
		cfg, err := config.Load(f.configPath)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", f.configPath, err)
		}
		if cfg.Store.Driver == "postgres" {
			driver, dsn = "postgres", cfg.Store.DSN.Reveal()
		} else {
			path = cfg.Store.Path
		}
	}

	if driver == "postgres" {
		st, err := postgres.Open(ctx, dsn, logger)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if readOnly {
			return nil, fmt.Errorf("no store at %s: check --data-dir or --config", path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
	}
	st, err := sqlite.Open(path, logger)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// adminToken reads the token from --token-file or the environment.
func (f *adminFlags) adminToken() (string, error) {
	if f.tokenFile != "" {
		data, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return "", fmt.Errorf("reading --token-file: %w", err)
		}
		token := strings.TrimSpace(string(data))
		if token == "" {
			return "", fmt.Errorf("--token-file %s is empty", f.tokenFile)
		}
		return token, nil
	}
	if token := strings.TrimSpace(os.Getenv(adminTokenEnv)); token != "" {
		return token, nil
	}
	return "", errUsage("--admin-url needs an admin token: set --token-file or " + adminTokenEnv)
}

// cliActor names the local user in audit entries of direct changes.
func cliActor() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = "unknown"
	}
	return "cli:" + name
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func errUsage(msg string) error { return usageError{msg: msg} }

// directAPI changes the store through admin.Service, with the local user
// as the actor.
type directAPI struct {
	svc   *admin.Service
	store store.Store
	actor admin.Actor
}

func (d *directAPI) ListConsumers(ctx context.Context) ([]admin.Consumer, error) {
	return d.svc.ListConsumers(ctx)
}

func (d *directAPI) GetConsumer(ctx context.Context, id string) (admin.Consumer, error) {
	return d.svc.GetConsumer(ctx, id)
}

func (d *directAPI) CreateConsumer(ctx context.Context, req admin.ConsumerCreate) (admin.Consumer, error) {
	return d.svc.CreateConsumer(ctx, d.actor, req)
}

func (d *directAPI) SetConsumerStatus(ctx context.Context, id, status string) (admin.Consumer, error) {
	return d.svc.SetConsumerStatus(ctx, d.actor, id, status)
}

func (d *directAPI) DeleteConsumer(ctx context.Context, id string) error {
	return d.svc.DeleteConsumer(ctx, d.actor, id)
}

func (d *directAPI) ListKeys(ctx context.Context, consumerID string) ([]admin.APIKey, error) {
	return d.svc.ListKeys(ctx, consumerID)
}

func (d *directAPI) CreateKey(ctx context.Context, consumerID string, req admin.KeyCreate) (admin.CreatedKey, error) {
	return d.svc.CreateKey(ctx, d.actor, consumerID, req)
}

func (d *directAPI) RotateKey(ctx context.Context, id string, req admin.KeyRotate) (admin.RotatedKey, error) {
	return d.svc.RotateKey(ctx, d.actor, id, req)
}

func (d *directAPI) RevokeKey(ctx context.Context, id string) (admin.APIKey, error) {
	return d.svc.RevokeKey(ctx, d.actor, id)
}

func (d *directAPI) ListTokens(ctx context.Context) ([]admin.AdminToken, error) {
	return d.svc.ListTokens(ctx)
}

func (d *directAPI) CreateToken(ctx context.Context, req admin.TokenCreate) (admin.CreatedToken, error) {
	return d.svc.CreateToken(ctx, d.actor, req)
}

func (d *directAPI) RevokeToken(ctx context.Context, id string) (admin.AdminToken, error) {
	return d.svc.RevokeToken(ctx, d.actor, id)
}

func (d *directAPI) Close() error { return d.store.Close() }

// remoteAPI calls a running gateway's admin API.
type remoteAPI struct {
	*admin.Client
}

func (remoteAPI) Close() error { return nil }

// remoteTimeout bounds one admin API call, connection included.
const remoteTimeout = 30 * time.Second

func newRemoteAPI(adminURL, token string, stderr io.Writer) (adminAPI, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// The admin listener is local or on a private network: never send the
	// token through a proxy named in the environment.
	transport.Proxy = nil
	client, err := admin.NewClient(adminURL, secret.New(token), &http.Client{Timeout: remoteTimeout, Transport: transport})
	if err != nil {
		return nil, errUsage(err.Error())
	}
	if u, err := url.Parse(adminURL); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		fmt.Fprintf(stderr, "warning: --admin-url %s is plain HTTP to a non-loopback host, so the admin token crosses the network unencrypted\n", u.Redacted())
	}
	return remoteAPI{Client: client}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// newAdminFlagSet returns a flag set for "warden GROUP SUB" whose --help
// prints the usage line, the description and every flag.
func newAdminFlagSet(name, args, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: warden %s [flags]%s\n\n%s\n\nFlags:\n", name, args, description)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments (the standard flag package stops at the first
// positional one) and checks the number of positional arguments. It
// returns the positional arguments, or an exit code when the caller should
// stop.
func parseArgs(fs *flag.FlagSet, args []string, positional int, stderr io.Writer) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, true
			}
			return nil, exitUsage, true
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != positional {
		fmt.Fprintf(stderr, "warden %s: got %d arguments, want %d\n", fs.Name(), len(pos), positional)
		fs.Usage()
		return nil, exitUsage, true
	}
	return pos, 0, false
}

// runAdmin opens the backend that the flags choose, runs fn with it and
// turns errors into exit codes.
func runAdmin(ctx context.Context, af *adminFlags, fs *flag.FlagSet, stderr io.Writer, readOnly bool, fn func(adminAPI) error) int {
	if err := af.check(fs); err != nil {
		fmt.Fprintf(stderr, "warden %s: %v\n", fs.Name(), err)
		return exitUsage
	}
	api, err := af.open(ctx, stderr, readOnly)
	if err != nil {
		fmt.Fprintf(stderr, "warden %s: %v\n", fs.Name(), err)
		var ue usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailure
	}
	defer api.Close()
	if err := fn(api); err != nil {
		fmt.Fprintf(stderr, "warden %s: %v\n", fs.Name(), err)
		return exitFailure
	}
	return exitOK
}

// subcommand is one verb of a command group such as "keys".
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// dispatch runs the subcommand that args name.
func dispatch(ctx context.Context, group string, subs []subcommand, args []string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: warden %s SUBCOMMAND [flags]\n\nSubcommands:\n", group)
		for _, s := range subs {
			fmt.Fprintf(w, "  %-9s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(w, "\nRun \"warden %s SUBCOMMAND --help\" for its flags.\n", group)
	}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "warden %s: unknown subcommand %q\n\n", group, args[0])
	usage(stderr)
	return exitUsage
}

// splitList splits a comma-separated flag value; "" is an empty list.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// newTable returns a writer that aligns tab-separated columns; call Flush.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// formatTime prints a time in RFC 3339, or "-" when absent.
func formatTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// formatList prints a list comma-separated, or "-" when empty.
func formatList(v []string) string {
	if len(v) == 0 {
		return "-"
	}
	return strings.Join(v, ",")
}
