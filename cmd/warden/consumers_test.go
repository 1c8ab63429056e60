package main

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/admin"
	"github.com/warden-api/warden/internal/store"
)

func TestConsumersCommands(t *testing.T) {
	for _, mode := range []cliMode{directMode(t), remoteMode(t)} {
		t.Run(mode.name, func(t *testing.T) {
			r := mustRunAdmin(t, runConsumers, withMode(mode, "create", "acme", "--name", "Acme Inc.",
				"--roles", "partner", "--scopes", "books:read, books:write", "--plan", "gold",
				"--metadata", "team=mobile,owner=ops", "--output", "json")...)
			created := decodeCLIOutput[admin.Consumer](t, r)
			if !reflect.DeepEqual(created.Scopes, []string{"books:read", "books:write"}) {
				t.Errorf("scopes: got %v, want [books:read books:write]", created.Scopes)
			}
			if !reflect.DeepEqual(created.Metadata, map[string]string{"team": "mobile", "owner": "ops"}) {
				t.Errorf("metadata: got %v", created.Metadata)
			}

			r = mustRunAdmin(t, runConsumers, withMode(mode, "list")...)
			if !strings.Contains(r.stdout, "acme") || !strings.Contains(r.stdout, "Acme Inc.") {
				t.Errorf("list output: got %q, want the consumer", r.stdout)
			}

			r = mustRunAdmin(t, runConsumers, withMode(mode, "suspend", "acme")...)
			if !strings.Contains(r.stdout, "suspended") {
				t.Errorf("suspend output: got %q", r.stdout)
			}
			r = mustRunAdmin(t, runConsumers, withMode(mode, "get", "acme", "--output", "json")...)
			if got := decodeCLIOutput[admin.Consumer](t, r).Status; got != store.StatusSuspended {
				t.Errorf("status after suspend: got %q, want suspended", got)
			}
			mustRunAdmin(t, runConsumers, withMode(mode, "activate", "acme")...)
			r = mustRunAdmin(t, runConsumers, withMode(mode, "get", "acme")...)
			if !strings.Contains(r.stdout, "metadata.owner:") || !strings.Contains(r.stdout, "active") {
				t.Errorf("get output: got %q", r.stdout)
			}

			// Flags may follow or precede the positional argument.
			r = runAdminCLI(runConsumers, append(append([]string{"create"}, mode.flags...), "acme")...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "already exists") {
				t.Errorf("duplicate create: got code %d stderr %q, want 1 and already exists", r.code, r.stderr)
			}
			r = runAdminCLI(runConsumers, withMode(mode, "create", "bad id")...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "id:") {
				t.Errorf("invalid id: got code %d stderr %q, want 1 naming the id field", r.code, r.stderr)
			}

			mustRunAdmin(t, runConsumers, withMode(mode, "delete", "acme", "--yes")...)
			r = runAdminCLI(runConsumers, withMode(mode, "get", "acme")...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "not found") {
				t.Errorf("get after delete: got code %d stderr %q, want 1 and not found", r.code, r.stderr)
			}

			checkAudit(t, mode, []string{"consumer.create", "consumer.suspend", "consumer.activate", "consumer.delete"})
		})
	}
}

// checkAudit checks that the mode's store holds the actions, oldest
// first, all made by the mode's actor.
func checkAudit(t *testing.T, mode cliMode, want []string) {
	t.Helper()
	entries, err := mode.auditStore(t).ListAudit(context.Background(), 1000)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	var got []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Actor != mode.actor {
			t.Errorf("audit entry %s: got actor %q, want %q", e.Action, e.Actor, mode.actor)
		}
		got = append(got, e.Action)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit actions: got %v, want %v", got, want)
	}
}
