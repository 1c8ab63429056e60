// Package authn is Warden's authentication stage. It finds the credential a
// request carries (an API key, a JWT, an opaque token checked by OAuth 2.0
// introspection, or a verified client certificate), verifies it and sets the
// request's pipeline.Identity.
//
// An Authenticator holds what routes share: the configured JWT issuers and
// their key sets, the introspection endpoints, and the caches of keys,
// consumers and verified tokens. Stage builds the per-route stage from it.
//
// Fail mode: closed. A credential that cannot be checked because the store
// or an identity provider cannot be reached gets 503 with Retry-After, not
// 401, because the credential may be valid and clients should retry rather
// than discard it. Records read earlier may stand in for an unreachable
// store for a while (see staleTTL); nothing else is let through.
package authn

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/warden-api/warden/internal/authn/cache"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/store"
)

const (
	// defaultCacheTTL is how long a key or consumer read from the store is
	// reused. InvalidateKey and InvalidateConsumer end it early on this node.
	defaultCacheTTL = 5 * time.Second
	// staleTTL is how long after its fresh period a cached key or consumer
	// may stand in for a store that returns errors, so that a node that
	// loses the store keeps serving the callers it has seen recently.
	staleTTL = 5 * time.Minute
	// tokenCacheTTL caps how long a verified JWT is reused without checking
	// its signature again; its exp shortens it.
	tokenCacheTTL = time.Minute
	// cacheEntries bounds the key and consumer caches.
	cacheEntries = 100_000
	// tokenCacheEntries bounds the verified-token and introspection caches,
	// whose entries carry the token's claims and are larger. Past it, some
	// tokens are verified again.
	tokenCacheEntries = 20_000
	// storeTimeout bounds one store read on the request path.
	storeTimeout = 2 * time.Second
	// fetchTimeout bounds one JWKS or discovery fetch when the HTTP client
	// has no timeout of its own.
	fetchTimeout = 10 * time.Second
)

// Options are the dependencies of an Authenticator.
type Options struct {
	// Logger receives start, stop, refresh and error lines. Default: a
	// logger that discards everything.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// HTTPClient fetches JWKS and discovery documents and calls
	// introspection endpoints. Default: a client with a 10s timeout.
	HTTPClient *http.Client
	// CacheTTL is how long API keys and consumers read from the store are
	// reused. Default: 5s.
	CacheTTL time.Duration
}

// Authenticator verifies credentials for the routes of one config. It is
// safe for concurrent use. Call Start to refresh JWKS in the background and
// record key use, and Stop when the config is replaced.
type Authenticator struct {
	log    *slog.Logger
	now    func() time.Time
	client *http.Client
	st     store.Store

	apiKeys       config.APIKeys
	mtlsFrom      string
	issuers       []*issuer
	introspectors map[string]*introspector

	keys      *lookup[*store.Key]
	consumers *lookup[*store.Consumer]
	mtlsIndex *identityIndex
	tokens    *cache.Cache[[sha256.Size]byte, *tokenResult]
	touches   *toucher

	// credKey keys the hash that names opaque tokens in events, so the
	// names cannot be checked against guessed tokens outside this process.
	credKey [32]byte

	mu      sync.Mutex
	cancel  context.CancelFunc
	running sync.WaitGroup
}

// New validates cfg and returns an Authenticator over st. Config errors are
// a config.Errors whose paths start with "authn.". New reads jwks_file,
// hmac_secret_file and client_secret_file but makes no network request.
func New(cfg config.Authn, st store.Store, opt Options) (*Authenticator, error) {
	if st == nil {
		return nil, fmt.Errorf("creating authenticator: store is nil")
	}
	opt = opt.withDefaults()
	cfg = withDefaults(cfg)
	if err := validate(cfg); err != nil {
		return nil, err
	}
	a := &Authenticator{
		log:           opt.Logger.With("component", "authn"),
		now:           opt.Now,
		client:        opt.HTTPClient,
		st:            st,
		apiKeys:       cfg.APIKeys,
		mtlsFrom:      cfg.MTLS.ConsumerFrom,
		introspectors: make(map[string]*introspector),
		tokens:        cache.New[[sha256.Size]byte, *tokenResult](tokenCacheEntries, opt.Now),
	}
	if _, err := rand.Read(a.credKey[:]); err != nil {
		return nil, fmt.Errorf("creating authenticator: reading random key: %w", err)
	}
	a.keys = newLookup("api_key", opt.CacheTTL, opt.Now, a.log, st.GetKey)
	a.consumers = newLookup("consumer", opt.CacheTTL, opt.Now, a.log, st.GetConsumer)
	a.mtlsIndex = newIdentityIndex(st, opt.Now, a.log)
	a.touches = newToucher(st, opt.Now, a.log)

	var es config.Errors
	for i, jc := range cfg.JWT {
		is, err := newIssuer(jc, a, fmt.Sprintf("authn.jwt[%d]", i))
		es.Merge(fmt.Sprintf("authn.jwt[%d]", i), err)
		if is != nil {
			a.issuers = append(a.issuers, is)
		}
	}
	for i, ic := range cfg.Introspection {
		in, err := newIntrospector(ic, a, fmt.Sprintf("authn.introspection[%d]", i))
		es.Merge(fmt.Sprintf("authn.introspection[%d]", i), err)
		if in != nil {
			a.introspectors[in.name] = in
		}
	}
	if err := es.Err(); err != nil {
		return nil, err
	}
	return a, nil
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: fetchTimeout}
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = defaultCacheTTL
	}
	return o
}

// Start begins the background work: fetching and refreshing each issuer's
// JWKS and writing key last-use times to the store. It returns at once, and
// the work runs until ctx ends or Stop is called. Calling Start twice has no
// further effect.
func (a *Authenticator) Start(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancel != nil {
		return
	}
	ctx, a.cancel = context.WithCancel(ctx)
	for _, is := range a.issuers {
		if is.source == nil {
			continue
		}
		a.running.Add(1)
		go func() {
			defer a.running.Done()
			is.source.run(ctx)
		}()
	}
	a.running.Add(1)
	go func() {
		defer a.running.Done()
		a.touches.run(ctx)
	}()
	a.log.Info("authenticator started", "issuers", len(a.issuers), "introspection_endpoints", len(a.introspectors))
}

// Stop ends the background work, writes pending key last-use times and
// waits for the goroutines to finish. Stages keep working after Stop, with
// the key sets they have.
func (a *Authenticator) Stop() {
	a.mu.Lock()
	cancel := a.cancel
	a.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	a.running.Wait()
	a.log.Info("authenticator stopped")
}

// InvalidateKey drops the cached record of an API key, so that a revocation,
// rotation or deletion takes effect on this node's next request. The admin
// API calls it after changing a key. Other nodes see the change through
// InvalidateAll when the store sends change signals, and otherwise when
// their cache entry expires (Options.CacheTTL, 5s by default).
func (a *Authenticator) InvalidateKey(keyID string) {
	a.keys.invalidate(keyID)
}

// InvalidateConsumer drops the cached consumer, its cached keys and the
// mTLS identity index, so that a suspension, deletion or metadata change
// takes effect on this node's next request. Other nodes see the change as
// for InvalidateKey.
func (a *Authenticator) InvalidateConsumer(consumerID string) {
	a.consumers.invalidate(consumerID)
	a.keys.invalidateFunc(func(k *store.Key) bool { return k != nil && k.ConsumerID == consumerID })
	a.mtlsIndex.invalidate()
}

// InvalidateAll makes every cached API key and consumer, and the mTLS
// identity index, stale, so that the next request that uses each of them
// reads the store again. It is meant for a store.Notifier signal, which
// reports that something changed but not what. It runs in constant time
// whatever the cache holds. A store read that was already in flight does
// not refill the cache.
//
// Unlike InvalidateKey and InvalidateConsumer, it keeps the records: when
// the store read after it fails, a record stands in for the store as
// described for staleTTL, so a spurious signal during a store outage does
// not turn every caller away. Verified JWTs stay cached, because their
// consumer is read through the consumer cache on every request.
func (a *Authenticator) InvalidateAll() {
	a.keys.invalidateAll()
	a.consumers.invalidateAll()
	a.mtlsIndex.markStale()
}

// credentialHash names a bearer token without revealing it: the first 16
// hex digits of its HMAC-SHA256 under a key that lives only in this process.
func (a *Authenticator) credentialHash(token string) string {
	m := hmac.New(sha256.New, a.credKey[:])
	m.Write([]byte(token))
	return "h:" + hex.EncodeToString(m.Sum(nil)[:8])
}
