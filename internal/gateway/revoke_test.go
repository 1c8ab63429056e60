package gateway

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/sqlite"
)

// revokeEnv is a gateway over a SQLite file and a second handle on that
// file, as `warden keys revoke --data-dir` opens from another process while
// the gateway runs.
type revokeEnv struct {
	g   *testGateway
	cli *sqlite.Store
}

const revokeConfig = `
listeners:
  - address: LISTEN
admin:
  address: ADMIN
routes:
  - name: books
    paths: ["/books/**"]
    upstream: app
    auth:
      methods: [api_key]
upstreams:
  - name: app
    targets: ["UPSTREAM"]
events:
  output: "off"
`

func newRevokeEnv(t *testing.T) *revokeEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "warden.db")
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(path, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cli, err := sqlite.Open(path, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })

	up := newRecordingUpstream(t, nil)
	g := startGateway(t, strings.ReplaceAll(revokeConfig, "UPSTREAM", up.url), func(o *Options) {
		stages := NewStages(st, o.Logger)
		t.Cleanup(stages.Close)
		o.Stages = stages.Build
	})
	return &revokeEnv{g: g, cli: cli}
}

func (e *revokeEnv) send(t *testing.T, key string) int {
	t.Helper()
	resp, _ := rawRequest(t, e.g.addr, "GET /books/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-API-Key: "+key+"\r\n\r\n")
	return resp.StatusCode
}

// checkRevocation sends a request with key, runs revoke, and checks that a
// request 1s later gets 401. The authentication cache keeps records for
// 5s, so that 401 comes from the store's change signal.
func (e *revokeEnv) checkRevocation(t *testing.T, key string, revoke func() error) {
	t.Helper()
	// The first request puts the key and its consumer in the cache.
	if got := e.send(t, key); got != 200 {
		t.Fatalf("before: status %d, want 200", got)
	}
	if err := revoke(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if got := e.send(t, key); got != 401 {
		t.Errorf("1s after: status %d, want 401", got)
	}
}

func TestRevokeThroughOtherHandle(t *testing.T) {
	e := newRevokeEnv(t)
	ctx := context.Background()
	for _, id := range []string{"acme", "globex"} {
		if err := e.cli.CreateConsumer(ctx, &store.Consumer{ID: id}); err != nil {
			t.Fatalf("CreateConsumer(%q): %v", id, err)
		}
	}
	acmeKey, acmeID := newGatewayKey(t, e.cli, "acme")
	globexKey, _ := newGatewayKey(t, e.cli, "globex")

	tests := []struct {
		name   string
		key    string
		revoke func() error
	}{
		{"revoke key", acmeKey, func() error { return e.cli.RevokeKey(ctx, acmeID, time.Now()) }},
		{"suspend consumer", globexKey, func() error {
			c, err := e.cli.GetConsumer(ctx, "globex")
			if err != nil {
				return err
			}
			c.Status = store.StatusSuspended
			return e.cli.UpdateConsumer(ctx, c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.checkRevocation(t, tt.key, tt.revoke)
		})
	}
}

// TestRevokeAfterReload checks that the change signals reach the
// authenticator of the pipeline that a reload started.
func TestRevokeAfterReload(t *testing.T) {
	e := newRevokeEnv(t)
	ctx := context.Background()
	if err := e.cli.CreateConsumer(ctx, &store.Consumer{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	key, id := newGatewayKey(t, e.cli, "acme")
	if err := e.g.srv.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	e.checkRevocation(t, key, func() error { return e.cli.RevokeKey(ctx, id, time.Now()) })
}

// newGatewayKey stores a new API key for consumerID and returns the key
// string and its id.
func newGatewayKey(t *testing.T, st store.Store, consumerID string) (string, string) {
	t.Helper()
	plain, k, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateKey(context.Background(), &store.Key{ID: k.ID, ConsumerID: consumerID, Hash: k.Hash()}); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return plain, k.ID
}
