// Command warden is an API security gateway and monitor.
//
// Run "warden help" for the commands. Exit codes: 0 success, 1 failure or
// findings, 2 usage error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// Quota periods reset in the configured IANA time zone; the embedded
	// database makes that work on hosts without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the gateway with a config file", runServe},
		{"quickstart", "run the gateway in front of a built-in demo API", runQuickstart},
		{"config", "validate a config file or print its JSON Schema", runConfig},
		{"consumers", "create, list, suspend and delete consumers", runConsumers},
		{"keys", "create, list, rotate and revoke API keys", runKeys},
		{"tokens", "create, list and revoke admin API tokens", runTokens},
		{"audit", "assess the risk of OpenAPI specs (OWASP API Top 10)", runAudit},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "warden: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Warden is an API security gateway and monitor.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: warden COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run \"warden COMMAND --help\" for the flags of a command.")
	fmt.Fprintln(w, "Exit codes: 0 success, 1 failure or findings, 2 usage error.")
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "Print the version of this binary.", stderr)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	fmt.Fprintf(stdout, "warden %s\n", version)
	return exitOK
}
