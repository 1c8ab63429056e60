package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// maxDocumentBytes bounds a fetched JWKS or discovery document.
const maxDocumentBytes = 1 << 20

// keySource loads an issuer's key set from a JWKS URL, a JWKS file or OpenID
// Connect discovery, and keeps it current. Readers call current, which never
// blocks. A failed fetch keeps the previous set.
type keySource struct {
	issuer     string // issuer name, for logs
	issuerURL  string // the "iss" value; the discovery base
	jwksURL    string // configured jwks_url, "" with discovery or a file
	discovery  bool
	file       string
	client     *http.Client
	log        *slog.Logger
	now        func() time.Time
	every      time.Duration // periodic refresh
	minRefresh time.Duration // shortest time between fetches caused by requests

	set atomic.Pointer[keySet]

	mu          sync.Mutex
	lastAttempt time.Time
	loading     int    // callers waiting for a fetch, which later callers join
	discovered  string // jwks_uri from the discovery document
	flight      singleflight.Group
}

// current returns the loaded key set, or nil before the first success.
func (s *keySource) current() *keySet { return s.set.Load() }

// run loads the key set and refreshes it every s.every until ctx ends.
// After a failure it retries sooner, starting at minRefresh and doubling.
func (s *keySource) run(ctx context.Context) {
	wait := time.Duration(0)
	retry := s.minRefresh
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		s.mu.Lock()
		s.lastAttempt = s.now()
		s.loading++
		s.mu.Unlock()
		err := s.load(ctx)
		s.loaded()
		if err != nil {
			wait = retry
			retry = min(2*retry, s.every)
			continue
		}
		wait, retry = s.every, s.minRefresh
	}
}

// refreshForRequest fetches the key set again for a token whose kid is not
// in the current set, or when no set was loaded yet, and reports whether the
// fetch succeeded. It starts at most one fetch per minRefresh, so tokens with
// made-up kids cannot flood the issuer.
//
// A request that arrives while a fetch is in flight waits for that fetch
// instead, so the requests that come in with a new key, or before the
// first key set, are not rejected while it loads.
func (s *keySource) refreshForRequest(ctx context.Context) bool {
	s.mu.Lock()
	now := s.now()
	if s.loading == 0 && !s.lastAttempt.IsZero() && now.Sub(s.lastAttempt) < s.minRefresh {
		s.mu.Unlock()
		return false
	}
	if s.loading == 0 {
		s.lastAttempt = now
	}
	s.loading++
	s.mu.Unlock()
	defer s.loaded()
	return s.load(ctx) == nil
}

// loaded ends a caller's wait that refreshForRequest or run began.
func (s *keySource) loaded() {
	s.mu.Lock()
	s.loading--
	s.mu.Unlock()
}

// load fetches and installs the key set once for all concurrent callers.
// The shared fetch is detached from the callers' cancellation, and each
// caller stops waiting when its own ctx ends.
func (s *keySource) load(ctx context.Context) error {
	ch := s.flight.DoChan("load", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		return nil, s.fetchAndInstall(fctx)
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *keySource) fetchAndInstall(ctx context.Context) error {
	data, from, err := s.fetch(ctx)
	if err != nil {
		s.log.Warn("loading JWKS failed; keeping the previous keys", "issuer", s.issuer, "error", err)
		return err
	}
	set, skipped, err := parseKeySet(data, keySetOptions{})
	for _, e := range skipped {
		s.log.Warn("JWKS key ignored", "issuer", s.issuer, "source", from, "error", e)
	}
	if err != nil {
		s.log.Error("JWKS rejected; keeping the previous keys", "issuer", s.issuer, "source", from, "error", err)
		return err
	}
	s.install(set, from)
	return nil
}

// install makes set current. A set equal to the current one keeps its
// generation, so cached token verifications stay valid.
func (s *keySource) install(set *keySet, from string) {
	old := s.set.Load()
	if old != nil && old.fingerprint == set.fingerprint {
		return
	}
	if old != nil {
		set.generation = old.generation + 1
	}
	s.set.Store(set)
	s.log.Info("JWKS loaded", "issuer", s.issuer, "source", from,
		"keys", len(set.byKID)+len(set.noKID), "generation", set.generation)
}

// fetch returns the JWKS document and where it came from.
func (s *keySource) fetch(ctx context.Context) ([]byte, string, error) {
	if s.file != "" {
		data, err := os.ReadFile(s.file)
		if err != nil {
			return nil, s.file, fmt.Errorf("reading JWKS file: %w", err)
		}
		return data, s.file, nil
	}
	u := s.jwksURL
	if s.discovery {
		var err error
		if u, err = s.discover(ctx); err != nil {
			return nil, s.issuerURL, err
		}
	}
	data, err := s.get(ctx, u)
	if err != nil && s.discovery {
		// The provider may have moved its keys: discover again next time.
		s.mu.Lock()
		s.discovered = ""
		s.mu.Unlock()
	}
	return data, u, err
}

// discover returns the jwks_uri from the issuer's OpenID Connect discovery
// document, fetched once and kept until a JWKS fetch fails.
func (s *keySource) discover(ctx context.Context) (string, error) {
	s.mu.Lock()
	known := s.discovered
	s.mu.Unlock()
	if known != "" {
		return known, nil
	}

	docURL := strings.TrimSuffix(s.issuerURL, "/") + "/.well-known/openid-configuration"
	data, err := s.get(ctx, docURL)
	if err != nil {
		return "", fmt.Errorf("fetching discovery document: %w", err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("parsing discovery document %q: %w", docURL, err)
	}

	// OpenID Connect Discovery 1.0, section 4.3: the issuer in the document
	// must be the one it was fetched for.
	if doc.Issuer != s.issuerURL {
		return "", fmt.Errorf("discovery document %q names issuer %q, expected %q", docURL, doc.Issuer, s.issuerURL)
	}
	if err := checkFetchURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("discovery document %q: jwks_uri: %w", docURL, err)
	}

	s.mu.Lock()
	s.discovered = doc.JWKSURI
	s.mu.Unlock()
	return doc.JWKSURI, nil
}

// get fetches u and returns its body, which must come with status 200 and
// fit in maxDocumentBytes.
func (s *keySource) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %q: status %d", u, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", u, err)
	}
	if len(data) > maxDocumentBytes {
		return nil, fmt.Errorf("reading %q: document larger than %d bytes", u, maxDocumentBytes)
	}
	return data, nil
}

// errNoKeys is returned when a token arrives before any key set loaded.
var errNoKeys = errors.New("no JWKS loaded yet")
