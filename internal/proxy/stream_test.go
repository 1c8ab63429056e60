package proxy

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
)

const (
	streamSize = 64 << 20
	// streamHead is sent before the sender waits for proof that the
	// receiver already has it; a proxy that buffered whole bodies would
	// deadlock there.
	streamHead = 1 << 20
)

func generated(seed uint64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(key), streamSize)
}

func expectedHash(t *testing.T, seed uint64) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, generated(seed)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// gatedReader returns the first streamHead bytes of r, then waits for
// gate before returning the rest.
type gatedReader struct {
	r    io.Reader
	n    int
	gate <-chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.n == streamHead {
		select {
		case <-g.gate:
		case <-time.After(20 * time.Second):
			return 0, io.ErrNoProgress
		}
		g.n++
	}
	if g.n < streamHead && len(p) > streamHead-g.n {
		p = p[:streamHead-g.n]
	}
	n, err := g.r.Read(p)
	if g.n < streamHead {
		g.n += n
	}
	return n, err
}

func TestStreamLargeResponse(t *testing.T) {
	want := expectedHash(t, 1)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			gate := make(chan struct{})
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body := &gatedReader{r: generated(1), gate: gate}
				io.CopyN(w, body, streamHead)
				http.NewResponseController(w).Flush()
				io.Copy(w, body)
			}))
			defer upstream.Close()
			u := newTestUpstream(t, config.Upstream{Targets: []string{upstream.URL}}, Options{UseNetHTTP: tr.useNetHTTP})
			g := newGateway(t, u, nil)

			resp, err := g.client.Get(g.URL + "/big")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			h := sha256.New()
			if _, err := io.CopyN(h, resp.Body, streamHead); err != nil {
				t.Fatalf("reading the first MiB: %v", err)
			}
			close(gate)
			if _, err := io.Copy(h, resp.Body); err != nil {
				t.Fatalf("reading the rest: %v", err)
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != want {
				t.Errorf("body hash = %s, want %s", got, want)
			}
			if res := g.lastResult(); res.BytesOut != streamSize {
				t.Errorf("BytesOut = %d, want %d", res.BytesOut, streamSize)
			}
		})
	}
}

func TestStreamLargeRequest(t *testing.T) {
	want := expectedHash(t, 2)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			gate := make(chan struct{})
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h := sha256.New()
				if _, err := io.CopyN(h, r.Body, streamHead); err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				close(gate)
				if _, err := io.Copy(h, r.Body); err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
			}))
			defer upstream.Close()
			u := newTestUpstream(t, config.Upstream{Targets: []string{upstream.URL}}, Options{UseNetHTTP: tr.useNetHTTP})
			g := newGateway(t, u, nil)

			for _, length := range []int64{streamSize, -1} {
				gate = make(chan struct{})
				req, _ := http.NewRequest("POST", g.URL+"/upload", &gatedReader{r: generated(2), gate: gate})
				req.ContentLength = length
				resp, err := g.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != want {
					t.Errorf("content length %d: upstream hash = %s, want %s", length, got, want)
				}
			}
		})
	}
}

func TestEventStreamFlush(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			next := make(chan struct{})
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: one\n\n")
				http.NewResponseController(w).Flush()
				select {
				case <-next:
				case <-time.After(10 * time.Second):
				}
				io.WriteString(w, "data: two\n\n")
			}))
			defer upstream.Close()
			u := newTestUpstream(t, config.Upstream{Targets: []string{upstream.URL}}, Options{UseNetHTTP: tr.useNetHTTP})
			g := newGateway(t, u, nil)

			resp, err := g.client.Get(g.URL + "/events")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			first := make(chan string, 1)
			go func() {
				line, _ := br.ReadString('\n')
				first <- line
			}()
			select {
			case line := <-first:
				if line != "data: one\n" {
					t.Errorf("first line = %q, want %q", line, "data: one\n")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("first event did not arrive before the upstream finished")
			}
			close(next)
			rest, _ := io.ReadAll(br)
			if want := "\ndata: two\n\n"; string(rest) != want {
				t.Errorf("rest = %q, want %q", rest, want)
			}
		})
	}
}

func TestTrailers(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				w.Header().Set("Trailer", "X-Checksum")
				w.Header().Set("X-Got-Trailer", "")
				io.WriteString(w, "echo:"+string(body))
				w.Header().Set("X-Checksum", "sum-"+r.Trailer.Get("X-Request-Sum"))
				w.Header().Set(http.TrailerPrefix+"X-Late", "late")
			}))
			defer upstream.Close()
			u := newTestUpstream(t, config.Upstream{Targets: []string{upstream.URL}}, Options{UseNetHTTP: tr.useNetHTTP})
			g := newGateway(t, u, nil)

			req, _ := http.NewRequest("POST", g.URL+"/", io.MultiReader(strings.NewReader("payload")))
			req.ContentLength = -1
			req.Trailer = http.Header{"X-Request-Sum": {"42"}}
			resp, err := g.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "echo:payload" {
				t.Errorf("body = %q, want echo:payload", body)
			}
			checks := []struct{ name, got, want string }{
				{"X-Checksum", resp.Trailer.Get("X-Checksum"), "sum-42"},
				{"X-Late", resp.Trailer.Get("X-Late"), "late"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("trailer %s = %q, want %q (all: %v)", c.name, c.got, c.want, resp.Trailer)
				}
			}
		})
	}
}
