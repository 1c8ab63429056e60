package authn

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/store"
)

// MTLSIdentityKey is the consumer metadata key that maps a certificate
// identity (a subject CN, SAN or fingerprint, per authn.mtls.consumer_from)
// to a consumer whose id differs from it, such as a SPIFFE id.
const MTLSIdentityKey = "mtls_identity"

const (
	// indexFresh is how long the mtls_identity index is used before it is
	// rebuilt from the store.
	indexFresh = 30 * time.Second
	// indexMinRebuild is the shortest time between rebuilds caused by
	// certificates that map to no consumer.
	indexMinRebuild = 5 * time.Second
)

// verifyCert maps a client certificate that the listener verified to an
// active consumer. The certificate's SHA-256 fingerprint names it.
func (a *Authenticator) verifyCert(ctx context.Context, cert *x509.Certificate) (*pipeline.Identity, string, *failure) {
	sum := sha256.Sum256(cert.Raw)
	fingerprint := hex.EncodeToString(sum[:])
	credID := "sha256:" + fingerprint
	for _, value := range certIdentities(cert, a.mtlsFrom, fingerprint) {
		c, f := a.certConsumer(ctx, value)
		if f != nil {
			return nil, credID, f
		}
		if c == nil {
			continue
		}
		if c.Status != store.StatusActive {
			return nil, credID, invalid(ReasonConsumerSuspended, "The consumer is suspended.")
		}
		return &pipeline.Identity{
			ConsumerID:   c.ID,
			ConsumerName: c.Name,
			Method:       "mtls",
			CredentialID: credID,
			Scopes:       c.Scopes,
			Roles:        c.Roles,
			Plan:         c.Plan,
			Metadata:     c.Metadata,
		}, credID, nil
	}
	return nil, credID, invalid(ReasonMTLSUnknownConsumer, "The client certificate is not registered.")
}

// certConsumer finds the consumer for one certificate identity: the
// consumer with that id, else the one whose mtls_identity metadata is it.
// It returns nil when there is none.
func (a *Authenticator) certConsumer(ctx context.Context, value string) (*store.Consumer, *failure) {
	if store.ValidID(value) {
		c, ok, err := a.consumers.get(ctx, value)
		if err != nil {
			return nil, unavailable(ReasonStoreUnavailable, err)
		}
		if ok {
			return c, nil
		}
	}
	id, ok, err := a.mtlsIndex.lookup(ctx, value)
	if err != nil {
		return nil, unavailable(ReasonStoreUnavailable, err)
	}
	if !ok {
		return nil, nil
	}
	c, ok, err := a.consumers.get(ctx, id)
	switch {
	case err != nil:
		return nil, unavailable(ReasonStoreUnavailable, err)
	case !ok:
		return nil, nil
	}
	return c, nil
}

// certIdentities returns the values of cert that name its consumer, in
// order, for the consumer_from setting.
func certIdentities(cert *x509.Certificate, from, fingerprint string) []string {
	switch from {
	case "san_uri":
		out := make([]string, 0, len(cert.URIs))
		for _, u := range cert.URIs {
			out = append(out, u.String())
		}
		return out
	case "san_dns":
		return cert.DNSNames
	case "san_email":
		return cert.EmailAddresses
	case "fingerprint":
		return []string{fingerprint}
	}
	if cert.Subject.CommonName == "" {
		return nil
	}
	return []string{cert.Subject.CommonName}
}

// identityIndex maps mtls_identity metadata values to consumer ids. The
// store has no query by metadata, so the index is built from
// ListConsumers: when it is older than indexFresh, on a miss when it is
// older than indexMinRebuild, and after markStale or invalidate.
type identityIndex struct {
	st  store.Store
	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex
	index   map[string]string
	builtAt time.Time
	// gen changes on every markStale and invalidate, and builtGen is the
	// gen at which the build of index began. An index built before the
	// last change is rebuilt on the next lookup.
	gen, builtGen uint64
	flight        singleflight.Group
	warned        rateLimit
}

func newIdentityIndex(st store.Store, now func() time.Time, log *slog.Logger) *identityIndex {
	return &identityIndex{st: st, now: now, log: log}
}

// lookup returns the consumer id mapped to value. When the store fails, an
// index built within staleTTL is used instead.
func (ix *identityIndex) lookup(ctx context.Context, value string) (string, bool, error) {
	ix.mu.Lock()
	index, builtAt, current := ix.index, ix.builtAt, ix.builtGen == ix.gen
	ix.mu.Unlock()
	age := ix.now().Sub(builtAt)
	if index != nil && current && age < indexFresh {
		if id, ok := index[value]; ok || age < indexMinRebuild {
			return id, ok, nil
		}
	}
	rebuilt, err := ix.rebuild(ctx)
	if err != nil {
		if index == nil || age >= indexFresh+staleTTL {
			return "", false, err
		}
		if ix.warned.allow(ix.now()) {
			ix.log.Warn("listing consumers failed, using the previous mTLS identity index", "error", err)
		}
		rebuilt = index
	}
	id, ok := rebuilt[value]
	return id, ok, nil
}

func (ix *identityIndex) rebuild(ctx context.Context) (map[string]string, error) {
	ix.mu.Lock()
	gen := ix.gen
	ix.mu.Unlock()
	// As in lookup.get, a lookup after a change never joins a build that
	// began before it.
	ch := ix.flight.DoChan("rebuild/"+strconv.FormatUint(gen, 10), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		consumers, err := ix.st.ListConsumers(ctx)
		if err != nil {
			return nil, err
		}
		index := make(map[string]string)
		for _, c := range consumers {
			if v := c.Metadata[MTLSIdentityKey]; v != "" {
				index[v] = c.ID
			}
		}
		ix.mu.Lock()
		if gen >= ix.builtGen {
			ix.index, ix.builtAt, ix.builtGen = index, ix.now(), gen
		}
		ix.mu.Unlock()
		return index, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(map[string]string), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// invalidate makes the next lookup rebuild the index, with no fallback to
// the current one when the store fails.
func (ix *identityIndex) invalidate() {
	ix.mu.Lock()
	ix.index, ix.builtAt = nil, time.Time{}
	ix.gen++
	ix.mu.Unlock()
}

// markStale makes the next lookup rebuild the index. Unlike invalidate, it
// keeps the current index as the fallback for a store that fails.
func (ix *identityIndex) markStale() {
	ix.mu.Lock()
	ix.gen++
	ix.mu.Unlock()
}
