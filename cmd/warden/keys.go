package main

import (
	"context"
	"fmt"
	"io"

	"github.com/warden-api/warden/internal/admin"
)

// runKeys runs "warden keys SUBCOMMAND".
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dispatch(ctx, "keys", []subcommand{
		{"create", "issue an API key to a consumer", keysCreate},
		{"list", "list API keys", keysList},
		{"rotate", "replace a key; the old one works until the overlap ends", keysRotate},
		{"revoke", "revoke a key at once", keysRevoke},
	}, args, stdout, stderr)
}

func keysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("keys create", "",
		"Issue an API key to a consumer. The key is printed once and cannot be shown again: only its hash is stored.", stderr)
	var af adminFlags
	af.register(fs)
	consumer := fs.String("consumer", "", "id of the consumer that gets the key; required")
	name := fs.String("name", "", "label of the key, such as the application or environment that uses it")
	scopes := fs.String("scopes", "", "comma-separated scopes of the key, a subset of the consumer's (default: the consumer's scopes)")
	expiresIn := fs.String("expires-in", "", "lifetime of the key as a Go duration such as 720h (30 days) or 2160h (90 days); default: never expires")
	if _, code, done := parseArgs(fs, args, 0, stderr); done {
		return code
	}
	if *consumer == "" {
		fmt.Fprintln(stderr, "warden keys create: --consumer is required")
		return exitUsage
	}

	return runAdmin(ctx, &af, fs, stderr, false, func(api adminAPI) error {
		k, err := api.CreateKey(ctx, *consumer, admin.KeyCreate{Name: *name, Scopes: splitList(*scopes), ExpiresIn: *expiresIn})
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, k)
		}
		fmt.Fprintf(stdout, "Created key %s for consumer %s (scopes %s, expires %s):\n\n  %s\n\n",
			k.ID, k.ConsumerID, formatList(k.Scopes), formatTime(k.ExpiresAt), k.Key)
		fmt.Fprintln(stdout, "Store it now: this key will not be shown again.")
		return nil
	})
}

func keysList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("keys list", "", "List API keys without their secrets, oldest first.", stderr)
	var af adminFlags
	af.register(fs)
	consumer := fs.String("consumer", "", "list only the keys of this consumer id (default: every key)")
	if _, code, done := parseArgs(fs, args, 0, stderr); done {
		return code
	}
	return runAdmin(ctx, &af, fs, stderr, true, func(api adminAPI) error {
		keys, err := api.ListKeys(ctx, *consumer)
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, admin.List[admin.APIKey]{Items: keys})
		}
		tw := newTable(stdout)
		fmt.Fprintln(tw, "ID\tCONSUMER\tSTATE\tNAME\tSCOPES\tEXPIRES\tREPLACED BY\tLAST USED")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.ConsumerID, k.State, orDash(k.Name),
				formatList(k.Scopes), formatTime(k.ExpiresAt), orDash(k.ReplacedBy), formatTime(k.LastUsedAt))
		}
		return tw.Flush()
	})
}

func keysRotate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("keys rotate", " KEY_ID",
		"Issue a new key that replaces KEY_ID, with the same name and scopes. The old key keeps working until the overlap ends, so clients can switch without downtime. The new key is printed once.", stderr)
	var af adminFlags
	af.register(fs)
	overlap := fs.String("overlap", admin.DefaultOverlap.String(),
		"how long the old key keeps working, as a Go duration such as 24h or 30m; 0s ends it at once")
	expiresIn := fs.String("expires-in", "",
		"lifetime of the new key as a Go duration such as 720h (default: the old key's lifetime, or never when it had none)")
	pos, code, done := parseArgs(fs, args, 1, stderr)
	if done {
		return code
	}
	return runAdmin(ctx, &af, fs, stderr, false, func(api adminAPI) error {
		k, err := api.RotateKey(ctx, pos[0], admin.KeyRotate{Overlap: *overlap, ExpiresIn: *expiresIn})
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, k)
		}
		fmt.Fprintf(stdout, "Rotated key %s to %s (scopes %s, expires %s):\n\n  %s\n\n",
			k.Previous.ID, k.ID, formatList(k.Scopes), formatTime(k.ExpiresAt), k.Key)
		fmt.Fprintf(stdout, "The old key %s works until %s.\n", k.Previous.ID, formatTime(k.Previous.ExpiresAt))
		fmt.Fprintln(stdout, "Store the new key now: it will not be shown again.")
		return nil
	})
}

func keysRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newAdminFlagSet("keys revoke", " KEY_ID", "Revoke an API key at once. Revoking a revoked key changes nothing.", stderr)
	var af adminFlags
	af.register(fs)
	pos, code, done := parseArgs(fs, args, 1, stderr)
	if done {
		return code
	}
	return runAdmin(ctx, &af, fs, stderr, false, func(api adminAPI) error {
		k, err := api.RevokeKey(ctx, pos[0])
		if err != nil {
			return err
		}
		if af.output == "json" {
			return printJSON(stdout, k)
		}
		fmt.Fprintf(stdout, "Revoked key %s of consumer %s at %s.\n", k.ID, k.ConsumerID, formatTime(k.RevokedAt))
		return nil
	})
}
