package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadClient sends requests from several goroutines until stop is closed
// or max requests were sent, and counts failures. It is bounded in count
// and time so it cannot run away on a shared machine.
type loadClient struct {
	ok, failed atomic.Int64
	firstErr   atomic.Value
}

func (lc *loadClient) run(url string, workers, max int, stop <-chan struct{}) *sync.WaitGroup {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sent.Add(1) <= int64(max) {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(url)
				if err != nil {
					lc.failed.Add(1)
					lc.firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					lc.failed.Add(1)
					lc.firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d", resp.StatusCode))
					continue
				}
				lc.ok.Add(1)
			}
		}()
	}
	return &wg
}

func TestReloadUnderLoad(t *testing.T) {
	up := newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	cfg := strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1)
	cfg = strings.Replace(cfg, "gateway:\n", "gateway:\n  watch_config: false\n", 1)
	g := startGateway(t, cfg)
	cfg = g.cfgText

	stop := make(chan struct{})
	var lc loadClient
	wg := lc.run(g.url+"/public/x", 8, 200000, stop)

	for i := range 20 {
		// Each reload changes the config so a real rebuild happens.
		next := strings.Replace(cfg, "paths: [\"/public/**\"]", fmt.Sprintf("paths: [\"/public/**\", \"/v%d/**\"]", i), 1)
		if err := os.WriteFile(g.cfgPath, []byte(next), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := g.srv.Reload(); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	if n := lc.failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during 20 reloads; first: %v", n, n+lc.ok.Load(), lc.firstErr.Load())
	}
	if lc.ok.Load() == 0 {
		t.Error("no request succeeded")
	}
	if got := g.srv.Pipeline().Config().Routes[0].Paths[1]; got != "/v19/**" {
		t.Errorf("running config has path %q, want the last reload's /v19/**", got)
	}
}

func TestReloadInvalidKeepsOld(t *testing.T) {
	up := newRecordingUpstream(t, nil)
	g := startGateway(t, strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1))
	cfg := g.cfgText

	if err := os.WriteFile(g.cfgPath, []byte(strings.Replace(cfg, "upstream: app", "upstream: missing", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := g.srv.Reload(); err == nil {
		t.Fatal("reload of an invalid config succeeded")
	}
	resp, _ := rawRequest(t, g.addr, "GET /public/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp.StatusCode != 200 {
		t.Errorf("status after failed reload = %d, want 200 from the old config", resp.StatusCode)
	}
	if !strings.Contains(g.logs.String(), "config reload failed") {
		t.Error("failed reload was not logged")
	}
}

func TestReloadOnFileChange(t *testing.T) {
	up := newRecordingUpstream(t, nil)
	g := startGateway(t, strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1))
	cfg := g.cfgText
	if err := os.WriteFile(g.cfgPath, []byte(strings.Replace(cfg, "/public/**", "/open/**", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, _ := rawRequest(t, g.addr, "GET /open/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode == 200 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("config change was not picked up within 10s")
}

func TestShutdownUnderLoad(t *testing.T) {
	up := newRecordingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		io.WriteString(w, "ok")
	})
	g := startGateway(t, strings.Replace(publicOnlyConfig, "UPSTREAM", up.url, 1))

	// Requests already in flight when shutdown starts must complete.
	const inFlight = 16
	var wg sync.WaitGroup
	var failed atomic.Int64
	started := make(chan struct{}, inFlight)
	client := &http.Client{Timeout: 10 * time.Second}
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			resp, err := client.Get(g.url + "/public/slow")
			if err != nil {
				failed.Add(1)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed.Add(1)
			}
		}()
	}
	for range inFlight {
		<-started
	}
	time.Sleep(20 * time.Millisecond)
	g.stop()
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d in-flight requests failed during shutdown", n, inFlight)
	}
	evs := g.waitEvents(inFlight)
	if len(evs) < inFlight {
		t.Errorf("got %d events after shutdown, want %d (events must be flushed)", len(evs), inFlight)
	}
	if _, err := client.Get(g.url + "/public/after"); err == nil {
		t.Error("gateway still accepts requests after shutdown")
	}
	_ = context.Background()
}
