package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestQuickstartEndToEnd runs the quickstart as a user would and follows
// the curl commands it prints.
func TestQuickstartEndToEnd(t *testing.T) {
	dir := t.TempDir()
	o := quickstartOptions{
		dataDir: filepath.Join(dir, "warden-data"),
		listen:  freePort(t), admin: freePort(t), demo: freePort(t),
	}
	var out, logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- quickstart(ctx, o, logger, &out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("quickstart returned %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("quickstart did not stop")
		}
	})

	keyRE := regexp.MustCompile(`export WARDEN_KEY=(wdn_\S+)`)
	var key string
	deadline := time.Now().Add(15 * time.Second)
	for key == "" && time.Now().Before(deadline) {
		if m := keyRE.FindStringSubmatch(out.String()); m != nil {
			key = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if key == "" {
		t.Fatalf("no key printed; output:\n%s\nlogs:\n%s", out.String(), logs.String())
	}
	waitHealthy(t, "http://"+o.admin+"/healthz")

	base := "http://" + o.listen
	tests := []struct {
		name   string
		method string
		path   string
		header string
		want   int
	}{
		{"public catalogue", "GET", "/books", "", 200},
		{"missing key", "GET", "/users/alice", "", 401},
		{"own record", "GET", "/users/alice", "Authorization: Bearer " + key, 200},
		{"other user's record", "GET", "/users/bob", "Authorization: Bearer " + key, 403},
		{"missing scope", "DELETE", "/books/1", "X-API-Key: " + key, 403},
		{"key in query", "GET", "/users/alice?api_key=" + key, "", 401},
		{"mistyped key", "GET", "/users/alice", "Authorization: Bearer " + key[:len(key)-1] + "x", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, nil)
			if tt.header != "" {
				k, v, _ := strings.Cut(tt.header, ": ")
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}

	t.Run("rate limit", func(t *testing.T) {
		got429 := false
		for range 40 {
			req, _ := http.NewRequest("GET", base+"/whoami", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == 429 {
				got429 = true
				if resp.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
				break
			}
		}
		if !got429 {
			t.Error("no 429 within 40 requests")
		}
	})

	t.Run("one event per request", func(t *testing.T) {
		events := readEvents(t, filepath.Join(o.dataDir, "events.jsonl"), len(tests))
		if len(events) < len(tests) {
			t.Fatalf("got %d events, want at least %d", len(events), len(tests))
		}
		raw, _ := os.ReadFile(filepath.Join(o.dataDir, "events.jsonl"))
		secretPart := key[len("wdn_")+13:]
		if strings.Contains(string(raw), secretPart) {
			t.Error("the API key's secret appears in the events")
		}
		if strings.Contains(logs.String(), secretPart) {
			t.Error("the API key's secret appears in the logs")
		}
	})

	t.Run("config edit reloads", func(t *testing.T) {
		cfgPath := filepath.Join(o.dataDir, "warden.yaml")
		data, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(string(data), `paths: ["/books", "/books/{id}"]`, `paths: ["/books", "/books/{id}", "/catalogue"]`, 1)
		if err := os.WriteFile(cfgPath, []byte(edited), 0o640); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), "config reloaded") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		resp, err := http.Get(base + "/catalogue")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The demo API has no /catalogue, so its own 404 (not Warden's
		// no-route problem) proves the new route is in use.
		if !strings.Contains(string(body), "urn:bookstore:problem") {
			t.Fatalf("GET /catalogue answered %d %s, want the demo API's 404; logs:\n%s", resp.StatusCode, body, logs.String())
		}
	})
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not healthy within 10s", url)
}

func readEvents(t *testing.T, path string, min int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var events []map[string]any
		f, err := os.Open(path)
		if err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var e map[string]any
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("event line is not JSON: %q", sc.Text())
				}
				events = append(events, e)
			}
			f.Close()
		}
		if len(events) >= min || time.Now().After(deadline) {
			return events
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{nil, exitUsage},
		{[]string{"bogus"}, exitUsage},
		{[]string{"help"}, exitOK},
		{[]string{"version"}, exitOK},
		{[]string{"serve", "--no-such-flag"}, exitUsage},
		{[]string{"serve", "--help"}, exitOK},
		{[]string{"config"}, exitUsage},
		{[]string{"config", "validate"}, exitUsage},
		{[]string{"config", "validate", "/nonexistent/warden.yaml"}, exitFailure},
		{[]string{"quickstart", "--listen", "0.0.0.0:8080", "--data-dir", "DIR"}, exitFailure},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "DIR", t.TempDir())
			}
			var stdout, stderr strings.Builder
			if got := run(context.Background(), args, &stdout, &stderr); got != tt.code {
				t.Errorf("exit code = %d, want %d; stderr: %s", got, tt.code, stderr.String())
			}
		})
	}
}

func TestConfigSchemaPrints(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"config", "schema"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(stdout.String()), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema["$schema"] == nil {
		t.Error("schema has no $schema")
	}
}
