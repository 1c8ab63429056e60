package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/demo"
	"github.com/warden-api/warden/internal/store"
)

// quickstartConfig is the config quickstart writes on its first run. Later
// runs keep the file, so edits survive and reload live.
var quickstartConfig = template.Must(template.New("config").Parse(`# Warden quickstart config. Edit it while Warden runs: it reloads on save.
# Every field is documented in docs/config.md.
data_dir: .

listeners:
  - name: public
    address: {{.Listen}}

admin:
  address: {{.Admin}}

events:
  output: file
  file: events.jsonl

upstreams:
  - name: bookstore
    targets: ["http://{{.Demo}}"]
    health_check:
      active:
        path: /healthz
        interval: 5s

rate_limit:
  plans:
    demo:
      limits:
        - name: per-minute
          rate: 60
          period: 1m
          burst: 20
      quotas:
        - name: daily
          period: day
          requests: 10000

routes:
  # The catalogue is public: anyone may read it, no key needed.
  - name: books-read
    methods: [GET, HEAD]
    paths: ["/books", "/books/{id}"]
    upstream: bookstore
    auth:
      anonymous: true
      methods: [api_key]

  # Changing the catalogue needs a key with the books:write scope.
  - name: books-write
    methods: [POST, PUT, DELETE]
    paths: ["/books", "/books/{id}"]
    upstream: bookstore
    auth:
      methods: [api_key]
    authz:
      scopes:
        all_of: ["books:write"]
    rate_limit:
      plan: true

  # A user may read only their own record and orders, unless they have
  # the admin role: an object-level rule written in CEL.
  - name: users
    paths: ["/users/{id}", "/users/{id}/orders"]
    upstream: bookstore
    auth:
      methods: [api_key]
    authz:
      policies:
        - name: owner-or-admin
          expr: request.params.id == consumer.id || "admin" in consumer.roles
    rate_limit:
      plan: true

  - name: orders
    paths: ["/orders/{id}", "/whoami"]
    upstream: bookstore
    auth:
      methods: [api_key]
    rate_limit:
      plan: true
`))

func runQuickstart(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("quickstart", "Run the gateway on loopback in front of a built-in demo bookstore API, with an\nexample config, an embedded store and a demo API key printed once.", stderr)
	dataDir := fs.String("data-dir", "warden-data", "directory for the config, the store and the event file")
	listen := fs.String("listen", "127.0.0.1:8080", "address of the gateway listener (host:port)")
	adminAddr := fs.String("admin", "127.0.0.1:9901", "address of the admin listener (host:port)")
	demoAddr := fs.String("demo", "127.0.0.1:8081", "address of the demo API (host:port)")
	reset := fs.Bool("reset", false, "overwrite an existing quickstart config with the default one")
	var lf logFlags
	lf.register(fs)
	fs.Lookup("log-format").DefValue = "text"
	lf.format = "text"
	if code, done := parseFlags(fs, args); done {
		return code
	}
	logger, err := lf.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "warden quickstart:", err)
		return exitUsage
	}
	if err := quickstart(ctx, quickstartOptions{
		dataDir: *dataDir, listen: *listen, admin: *adminAddr, demo: *demoAddr, reset: *reset,
	}, logger, stdout); err != nil {
		var es config.Errors
		if errors.As(err, &es) {
			printConfigErrors(stderr, filepath.Join(*dataDir, "warden.yaml"), err)
		} else {
			fmt.Fprintln(stderr, "warden quickstart:", err)
		}
		return exitFailure
	}
	return exitOK
}

type quickstartOptions struct {
	dataDir, listen, admin, demo string
	reset                        bool
}

func quickstart(ctx context.Context, o quickstartOptions, logger *slog.Logger, stdout io.Writer) error {
	for _, a := range []string{o.listen, o.admin, o.demo} {
		if err := requireLoopback(a); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(o.dataDir, 0o750); err != nil {
		return fmt.Errorf("creating %q: %w", o.dataDir, err)
	}
	cfgPath := filepath.Join(o.dataDir, "warden.yaml")
	if err := writeQuickstartConfig(cfgPath, o); err != nil {
		return err
	}

	demoLn, err := net.Listen("tcp", o.demo)
	if err != nil {
		return fmt.Errorf("starting the demo API on %s: %w (pass --demo with a free address)", o.demo, err)
	}
	demoSrv := &http.Server{
		Handler:           demo.NewHandler(logger.With("component", "demo")),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	go func() {
		if err := demoSrv.Serve(demoLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("demo API stopped", "error", err)
		}
	}()
	defer demoSrv.Close()

	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	g, err := startGateway(ctx, cfg, logger)
	if err != nil {
		return err
	}
	key, err := demoKey(ctx, g.store)
	if err != nil {
		g.server.Close()
		g.store.Close()
		return err
	}
	printQuickstart(stdout, cfg, cfgPath, key)
	return g.run(ctx)
}

func writeQuickstartConfig(path string, o quickstartOptions) error {
	if _, err := os.Stat(path); err == nil && !o.reset {
		return nil
	}
	var b strings.Builder
	if err := quickstartConfig.Execute(&b, map[string]string{"Listen": o.listen, "Admin": o.admin, "Demo": o.demo}); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o640); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}

// demoKey makes sure the demo consumer exists and creates a new key for it.
// Keys are stored hashed, so an old key cannot be shown again.
func demoKey(ctx context.Context, st store.Store) (string, error) {
	const consumerID = "alice"
	now := time.Now().UTC()
	_, err := st.GetConsumer(ctx, consumerID)
	if errors.Is(err, store.ErrNotFound) {
		err = st.CreateConsumer(ctx, &store.Consumer{
			ID: consumerID, Name: "Alice (quickstart demo)", Plan: "demo",
			Roles: []string{"customer"}, Scopes: []string{"books:read", "orders:read", "orders:write"},
			Status: store.StatusActive, CreatedAt: now, UpdatedAt: now,
		})
	}
	if err != nil {
		return "", fmt.Errorf("creating the demo consumer: %w", err)
	}
	// Each run prints a new key, so the keys of earlier runs are revoked:
	// a demo should not leave working credentials behind.
	old, err := st.ListKeys(ctx, consumerID)
	if err != nil {
		return "", fmt.Errorf("listing the demo keys: %w", err)
	}
	for _, k := range old {
		if k.Name == "quickstart" && k.RevokedAt.IsZero() {
			if err := st.RevokeKey(ctx, k.ID, now); err != nil {
				return "", fmt.Errorf("revoking the previous demo key %s: %w", k.ID, err)
			}
		}
	}
	plain, k, err := apikey.Generate()
	if err != nil {
		return "", fmt.Errorf("generating the demo key: %w", err)
	}
	err = st.CreateKey(ctx, &store.Key{
		ID: k.ID, ConsumerID: consumerID, Name: "quickstart", Hash: k.Hash(),
		Scopes: []string{"books:read", "orders:read"}, CreatedAt: now,
		ExpiresAt: now.Add(30 * 24 * time.Hour),
	})
	if err != nil {
		return "", fmt.Errorf("storing the demo key: %w", err)
	}
	if err := st.AppendAudit(ctx, &store.AuditEntry{
		At: now, Actor: "cli:quickstart", Action: "key.create", Target: k.ID,
		Detail: `{"consumer_id":"alice","name":"quickstart"}`,
	}); err != nil {
		return "", fmt.Errorf("recording the demo key in the audit trail: %w", err)
	}
	return plain, nil
}

func printQuickstart(w io.Writer, cfg *config.Config, cfgPath, key string) {
	url := "http://" + cfg.Listeners[0].Address
	events := filepath.Join(filepath.Dir(cfgPath), "events.jsonl")
	fmt.Fprintf(w, `
Warden is running in front of the demo bookstore API.

  Gateway:  %[1]s
  Admin:    http://%[2]s  (/healthz, /readyz, /metrics)
  Config:   %[3]s  (edit it: Warden reloads on save)
  Events:   %[4]s  (one JSON line per request)

Demo API key for consumer "alice" (shown once, stored only as a hash):

  export WARDEN_KEY=%[5]s

Try it in another terminal:

  curl -i %[1]s/books                                              # public, no key needed
  curl -i %[1]s/users/alice                                        # 401: this route needs a key
  curl -i -H "Authorization: Bearer $WARDEN_KEY" %[1]s/users/alice   # 200: alice reads her own record
  curl -i -H "Authorization: Bearer $WARDEN_KEY" %[1]s/users/bob     # 403: not her record (CEL rule)
  curl -i -H "X-API-Key: $WARDEN_KEY" -X DELETE %[1]s/books/1        # 403: the key lacks books:write
  curl -i "%[1]s/users/alice?api_key=$WARDEN_KEY"                    # 401: keys in URLs are rejected
  curl -i --path-as-is %[1]s/books/../users/bob                     # 401: the path is made canonical first
  for i in $(seq 25); do curl -s -o /dev/null -w "%%{http_code} " -H "Authorization: Bearer $WARDEN_KEY" %[1]s/whoami; done; echo
                                                                     # 429 after 20 requests (plan "demo")
  tail -f %[4]s

Press Ctrl-C to stop.
`, url, cfg.Admin.Address, cfgPath, events, key)
}

// requireLoopback keeps quickstart on this machine: its demo key and open
// admin API are not meant for a network.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address %q: use host:port such as 127.0.0.1:8080", addr)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback address: quickstart listens only on 127.0.0.1 or ::1", addr)
	}
	return nil
}
