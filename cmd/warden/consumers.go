package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/warden-api/warden/internal/admin"
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
