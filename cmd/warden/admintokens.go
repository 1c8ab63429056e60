package main

import (
	"context"
	"fmt"
	"io"

	"github.com/warden-api/warden/internal/admin"
)

// runTokens runs "warden tokens SUBCOMMAND".
func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dispatch(ctx, "tokens", []subcommand{
		{"create", "create an admin API token", tokensCreate},
		{"list", "list admin API tokens", tokensList},
		{"revoke", "revoke an admin API token at once", tokensRevoke},
	}, args, stdout, stderr)
}

func tokensCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("tokens create", "",
		"Create a token for the admin API. The token is printed once and cannot be shown again: only its hash is stored.", stderr)
	var af adminFlags
	af.register(fs)
	role := fs.String("role", "", "what the token may do: viewer (read), operator (also change consumers and keys) or admin (also manage tokens); required")
	name := fs.String("name", "", "label of the token, such as who or what uses it")
	if _, code, done := parseArgs(fs, args, 0, stderr); done {
		return code
	}
	if *role == "" {
		fmt.Fprintln(stderr, "warden tokens create: --role is required: viewer, operator or admin")
		return exitUsage
	}
	return runAdmin(ctx, &af, fs, stderr, false, func(api adminAPI) error {
		t, err := api.CreateToken(ctx, admin.TokenCreate{Name: *name, Role: *role})
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, t)
		}
		fmt.Fprintf(stdout, "Created admin token %s with role %s:\n\n  %s\n\n", t.ID, t.Role, t.Token)
		fmt.Fprintln(stdout, "Store it now: this token will not be shown again.")
		return nil
	})
}

func tokensList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("tokens list", "", "List admin API tokens, revoked ones included, without their secrets.", stderr)
	var af adminFlags
	af.register(fs)
	if _, code, done := parseArgs(fs, args, 0, stderr); done {
		return code
	}
	return runAdmin(ctx, &af, fs, stderr, true, func(api adminAPI) error {
		list, err := api.ListTokens(ctx)
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, admin.List[admin.AdminToken]{Items: list})
		}
		tw := newTable(stdout)
		fmt.Fprintln(tw, "ID\tROLE\tNAME\tCREATED\tREVOKED")
		for _, t := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, orDash(t.Name), formatTime(&t.CreatedAt), formatTime(t.RevokedAt))
		}
		return tw.Flush()
	})
}

func tokensRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("tokens revoke", " TOKEN_ID", "Revoke an admin API token at once. Revoking a revoked token changes nothing.", stderr)
	var af adminFlags
	af.register(fs)
	pos, code, done := parseArgs(fs, args, 1, stderr)
	if done {
		return code
	}
	return runAdmin(ctx, &af, fs, stderr, false, func(api adminAPI) error {
		t, err := api.RevokeToken(ctx, pos[0])
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, t)
		}
		fmt.Fprintf(stdout, "Revoked admin token %s at %s.\n", t.ID, formatTime(t.RevokedAt))
		return nil
	})
}
