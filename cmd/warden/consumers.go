package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/warden-api/warden/internal/admin"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/ratelimit"
	"github.com/warden-api/warden/internal/store"
)

// runConsumers runs "warden consumers SUBCOMMAND".
func runConsumers(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dispatch(ctx, "consumers", []subcommand{
		{"create", "create a consumer", consumersCreate},
		{"list", "list consumers", consumersList},
		{"get", "show one consumer", consumersGet},
		{"suspend", "suspend a consumer: all its keys are rejected", consumersStatus(store.StatusSuspended)},
		{"activate", "activate a suspended consumer", consumersStatus(store.StatusActive)},
		{"delete", "delete a consumer with all its keys", consumersDelete},
		{"usage", "show a consumer's quota usage in the current period", consumersUsage},
	}, args, stdout, stderr)
}

func consumersCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("consumers create", " ID",
		"Create an active consumer. ID is 1 to 128 letters, digits, '.', '_' or '-'; it is sent upstream and recorded in events.", stderr)
	var af adminFlags
	af.register(fs)
	name := fs.String("name", "", "display name of the consumer")
	roles := fs.String("roles", "", "comma-separated roles granted to every key of the consumer")
	scopes := fs.String("scopes", "", "comma-separated scopes: the most a key of this consumer may carry (default: no limit)")
	plan := fs.String("plan", "", "rate-limit plan from the config")
	metadata := fs.String("metadata", "", "comma-separated key=value pairs stored with the consumer")
	pos, code, done := parseArgs(fs, args, 1, stderr)
	if done {
		return code
	}
	meta, err := parseMetadata(*metadata)
	if err != nil {
		fmt.Fprintf(stderr, "warden consumers create: %v\n", err)
		return exitUsage
	}

	return runAdmin(ctx, &af, fs, stderr, false, func(api adminAPI) error {
		c, err := api.CreateConsumer(ctx, admin.ConsumerCreate{
			ID: pos[0], Name: *name, Roles: splitList(*roles), Scopes: splitList(*scopes), Plan: *plan, Metadata: meta,
		})
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, c)
		}
		fmt.Fprintf(stdout, "Created consumer %s.\n", c.ID)
		return nil
	})
}

// parseMetadata reads "k=v,k2=v2"; nil for "".
func parseMetadata(s string) (map[string]string, error) {
	pairs := splitList(s)
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid --metadata entry %q: use key=value", p)
		}
		m[k] = v
	}
	return m, nil
}

func consumersList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("consumers list", "", "List consumers, ordered by id.", stderr)
	var af adminFlags
	af.register(fs)
	if _, code, done := parseArgs(fs, args, 0, stderr); done {
		return code
	}
	return runAdmin(ctx, &af, fs, stderr, true, func(api adminAPI) error {
		list, err := api.ListConsumers(ctx)
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, admin.List[admin.Consumer]{Items: list})
		}
		tw := newTable(stdout)
		fmt.Fprintln(tw, "ID\tSTATUS\tNAME\tPLAN\tSCOPES\tCREATED")
		for _, c := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n",
				c.ID, c.Status, orDash(c.Name), orDash(c.Plan), formatList(c.Scopes), formatTime(&c.CreatedAt))
		}
		return tw.Flush()
	})
}

func consumersGet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("consumers get", " ID", "Show one consumer.", stderr)
	var af adminFlags
	af.register(fs)
	pos, code, done := parseArgs(fs, args, 1, stderr)
	if done {
		return code
	}
	return runAdmin(ctx, &af, fs, stderr, true, func(api adminAPI) error {
		c, err := api.GetConsumer(ctx, pos[0])
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, c)
		}
		printConsumer(stdout, c)
		return nil
	})
}

func printConsumer(w io.Writer, c admin.Consumer) {
	tw := newTable(w)
	fmt.Fprintf(tw, "id:\t%s\n", c.ID)
	fmt.Fprintf(tw, "name:\t%s\n", orDash(c.Name))
	fmt.Fprintf(tw, "status:\t%s\n", c.Status)
	fmt.Fprintf(tw, "roles:\t%s\n", formatList(c.Roles))
	fmt.Fprintf(tw, "scopes:\t%s\n", formatList(c.Scopes))
	fmt.Fprintf(tw, "plan:\t%s\n", orDash(c.Plan))
	for _, k := range slices.Sorted(maps.Keys(c.Metadata)) {
		fmt.Fprintf(tw, "metadata.%s:\t%s\n", k, c.Metadata[k])
	}
	fmt.Fprintf(tw, "created:\t%s\n", formatTime(&c.CreatedAt))
	fmt.Fprintf(tw, "updated:\t%s\n", formatTime(&c.UpdatedAt))
	_ = tw.Flush()
}

func consumersStatus(status string) func(context.Context, []string, io.Writer, io.Writer) int {
	verb, description := "activate", "Activate a suspended consumer, so that its keys work again."
	if status == store.StatusSuspended {
		verb, description = "suspend", "Suspend a consumer: every key of it is rejected until it is activated."
	}
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		fs := newAdminFlagSet("consumers "+verb, " ID", description, stderr)
		var af adminFlags
		af.register(fs)
		pos, code, done := parseArgs(fs, args, 1, stderr)
		if done {
			return code
		}
		return runAdmin(ctx, &af, fs, stderr, false, func(api adminAPI) error {
			c, err := api.SetConsumerStatus(ctx, pos[0], status)
			if err != nil {
				return err
			}
			if af.output == "json" {
				return printJSON(stdout, c)
			}
			fmt.Fprintf(stdout, "Consumer %s is %s.\n", c.ID, c.Status)
			return nil
		})
	}
}

func consumersDelete(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("consumers delete", " ID",
		"Delete a consumer with all its keys and quota usage. This cannot be undone; suspend the consumer to stop it reversibly.", stderr)
	var af adminFlags
	af.register(fs)
	yes := fs.Bool("yes", false, "confirm the deletion; required")
	pos, code, done := parseArgs(fs, args, 1, stderr)
	if done {
		return code
	}
	if !*yes {
		fmt.Fprintf(stderr, "warden consumers delete: deleting %s also deletes its keys: run again with --yes to confirm\n", pos[0])
		return exitUsage
	}
	return runAdmin(ctx, &af, fs, stderr, false, func(api adminAPI) error {
		if err := api.DeleteConsumer(ctx, pos[0]); err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, map[string]any{"id": pos[0], "deleted": true})
		}
		fmt.Fprintf(stdout, "Deleted consumer %s and its keys.\n", pos[0])
		return nil
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// usageReader is the source of a consumer's quota usage: the admin API
// client with --admin-url, or a directUsage with --config.
type usageReader interface {
	ConsumerUsage(ctx context.Context, id string) (admin.ConsumerUsage, error)
}

func consumersUsage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("consumers usage", " ID",
		"Show a consumer's quota usage in the current period: each quota of its plan and of the routes, with the\n"+
			"requests and response bytes used and allowed. With --admin-url the running gateway returns it, including\n"+
			"the usage it counted but has not written to the store yet. With --config the store is read directly and\n"+
			"the quotas come from that config's rate_limit section and routes. --data-dir alone is not enough,\n"+
			"because the quotas are defined in the config.", stderr)
	var af adminFlags
	af.register(fs)
	pos, code, done := parseArgs(fs, args, 1, stderr)
	if done {
		return code
	}
	if err := af.check(fs); err != nil {
		fmt.Fprintf(stderr, "warden %s: %v\n", fs.Name(), err)
		return exitUsage
	}
	if af.adminURL == "" && af.configPath == "" {
		fmt.Fprintf(stderr, "warden %s: pass --config FILE or --admin-url URL: the quotas and their allowances are "+
			"defined in the config's rate_limit plans and routes, which --data-dir alone does not name\n", fs.Name())
		return exitUsage
	}

	reader, closeReader, err := openUsageReader(ctx, &af, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "warden %s: %v\n", fs.Name(), err)
		var ue usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailure
	}
	defer closeReader()

	u, err := reader.ConsumerUsage(ctx, pos[0])
	if err == nil {
		err = printUsage(stdout, u, af.output)
	}
	if err != nil {
		fmt.Fprintf(stderr, "warden %s: %v\n", fs.Name(), err)
		return exitFailure
	}
	return exitOK
}

// openUsageReader returns the reader that the flags choose and a function
// that releases it.
func openUsageReader(ctx context.Context, af *adminFlags, stderr io.Writer) (usageReader, func(), error) {
	if af.configPath != "" {
		d, err := openDirectUsage(ctx, af.configPath, stderr)
		if err != nil {
			return nil, nil, err
		}
		return d, d.close, nil
	}
	api, err := af.open(ctx, stderr, true)
	if err != nil {
		return nil, nil, err
	}
	reader, ok := api.(usageReader)
	if !ok {
		_ = api.Close()
		return nil, nil, fmt.Errorf("the admin backend %T cannot read quota usage", api)
	}
	return reader, func() { _ = api.Close() }, nil
}

// directUsage reads quota usage from the store that a config names, with a
// rate limiter built from that config and never started: it counts no
// request and only reads the stored usage.
type directUsage struct {
	svc     *admin.Service
	limiter *ratelimit.Limiter
	store   store.Store
}

func openDirectUsage(ctx context.Context, configPath string, stderr io.Writer) (*directUsage, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", configPath, err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if cfg.Store.Driver != "postgres" {
		if _, err := os.Stat(cfg.Store.Path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s: check data_dir and store in %s", cfg.Store.Path, configPath)
		}
	}
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	l, err := newUsageLimiter(cfg, st, logger)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("building the rate limiter of %s: %w", configPath, err)
	}
	return &directUsage{
		svc:     admin.NewService(admin.Options{Store: st, Logger: logger, Usage: l.Usage}),
		limiter: l,
		store:   st,
	}, nil
}

// newUsageLimiter builds a limiter with the plans and the route quotas of
// cfg, as the gateway builds its own.
func newUsageLimiter(cfg *config.Config, st store.Store, logger *slog.Logger) (*ratelimit.Limiter, error) {
	rl := cfg.RateLimit
	// Quota usage lives in the store, never in Redis, so the report needs
	// no Redis connection or password file.
	rl.Backend = "memory"
	l, err := ratelimit.New(rl, ratelimit.Options{Store: st, Logger: logger})
	if err != nil {
		return nil, err
	}
	var errs config.Errors
	for i, rc := range cfg.Routes {
		if rc.RateLimit == nil {
			continue
		}
		// NewStage registers the route's quotas with the limiter, which
		// is how Usage learns of them. The stage itself is not used.
		_, err := ratelimit.NewStage(l, rc.Name, rc.RateLimit, fmt.Sprintf("routes[%d].rate_limit", i))
		errs.Merge(fmt.Sprintf("routes[%d].rate_limit", i), err)
	}
	if err := errs.Err(); err != nil {
		_ = l.Stop(context.Background())
		return nil, err
	}
	return l, nil
}

func (d *directUsage) ConsumerUsage(ctx context.Context, id string) (admin.ConsumerUsage, error) {
	return d.svc.ConsumerUsage(ctx, id)
}

func (d *directUsage) close() {
	// The limiter counted nothing, so stopping it writes nothing.
	_ = d.limiter.Stop(context.Background())
	_ = d.store.Close()
}

// printUsage writes u as JSON or as a table with one quota per row.
func printUsage(w io.Writer, u admin.ConsumerUsage, output string) error {
	if output == "json" {
		return printJSON(w, u)
	}
	if len(u.Quotas) == 0 {
		fmt.Fprintf(w, "No quota applies to consumer %s (plan %s).\n", u.ConsumerID, orDash(u.Plan))
		return nil
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "QUOTA\tROUTE\tPERIOD\tSTART\tEND\tREQUESTS USED/ALLOWED\tBYTES USED/ALLOWED")
	for _, q := range u.Quotas {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%s\t%s/%s\n",
			q.Name, orDash(q.Route), q.Period, formatTime(&q.PeriodStart), formatTime(&q.PeriodEnd),
			q.RequestsUsed, formatAllowance(q.RequestsAllowed, formatCount),
			formatBytes(q.BytesUsed), formatAllowance(q.BytesAllowed, formatBytes))
	}
	return tw.Flush()
}

// formatAllowance prints an allowance with format, or "unlimited" when
// there is none.
func formatAllowance(n *int64, format func(int64) string) string {
	if n == nil {
		return "unlimited"
	}
	return format(*n)
}

func formatCount(n int64) string { return strconv.FormatInt(n, 10) }

// formatBytes prints a byte count in IEC units with one decimal, such as
// "1.5MiB", and counts below 1 KiB in bytes.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
