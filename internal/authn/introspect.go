package authn

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/warden-api/warden/internal/authn/cache"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/secret"
)

// introspector checks opaque tokens with an OAuth 2.0 token introspection
// endpoint (RFC 7662). Responses are cached by the SHA-256 of the token:
// active ones for min(cache_ttl, exp - now), inactive ones for
// negative_cache_ttl. An endpoint that cannot be reached or responds with
// anything but 200 and a JSON object fails closed with 503.
type introspector struct {
	name     string
	cfg      config.Introspection
	clientID string
	secret   secret.Value
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger
	hash     func(string) string
	cache    *cache.Cache[[sha256.Size]byte, *introspection]
	flight   singleflight.Group
	warned   rateLimit
}

// introspection is a cached response of the endpoint.
type introspection struct {
	active   bool
	reason   string // reason code of an inactive result
	identity pipeline.Identity
}

// introspectionResponse contains the members of an RFC 7662 response that
// Warden reads (section 2.2).
type introspectionResponse struct {
	Active    bool         `json:"active"`
	Scope     string       `json:"scope"`
	ClientID  string       `json:"client_id"`
	Username  string       `json:"username"`
	Subject   string       `json:"sub"`
	Audience  audienceList `json:"aud"`
	Expiry    *json.Number `json:"exp"`
	NotBefore *json.Number `json:"nbf"`
	ID        string       `json:"jti"`
}

// audienceList reads "aud" as a string or a list of strings.
type audienceList []string

func (a *audienceList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audienceList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud is neither a string nor a list of strings: %w", err)
	}
	*a = many
	return nil
}

func newIntrospector(cfg config.Introspection, a *Authenticator, path string) (*introspector, error) {
	in := &introspector{
		name:     cfg.Name,
		cfg:      cfg,
		clientID: cfg.ClientID,
		secret:   cfg.ClientSecret,
		client:   a.client,
		now:      a.now,
		log:      a.log,
		hash:     a.credentialHash,
		cache:    cache.New[[sha256.Size]byte, *introspection](tokenCacheEntries, a.now),
	}
	if cfg.ClientSecretFile != "" {
		data, err := readSecretFile(cfg.ClientSecretFile)
		if err != nil {
			var es config.Errors
			es.Add(path+".client_secret_file", "%v", err)
			return nil, es
		}
		in.secret = secret.New(string(data))
	}
	return in, nil
}

// check returns the identity of an active token.
func (in *introspector) check(ctx context.Context, token string) (*pipeline.Identity, string, *failure) {
	sum := sha256.Sum256([]byte(token))
	res, state := in.cache.Get(sum)
	if state != cache.Fresh {
		ch := in.flight.DoChan(string(sum[:]), func() (any, error) { return in.call(ctx, token, sum) })
		select {
		case r := <-ch:
			if r.Err != nil {
				if in.warned.allow(in.now()) {
					in.log.Warn("token introspection failed", "endpoint", in.name, "error", r.Err)
				}
				return nil, in.hash(token), unavailable(ReasonIntrospectionUnavailable, r.Err)
			}
			res = r.Val.(*introspection)
		case <-ctx.Done():
			return nil, in.hash(token), unavailable(ReasonIntrospectionUnavailable, ctx.Err())
		}
	}
	if !res.active {
		reason := res.reason
		if reason == "" {
			reason = ReasonIntrospectionInactive
		}
		return nil, in.hash(token), invalid(reason, "The access token is not active.")
	}
	id := res.identity
	if id.CredentialID == "" {
		id.CredentialID = in.hash(token)
	}
	return &id, id.CredentialID, nil
}

// call sends token to the endpoint and caches the response. It runs once
// for concurrent requests with the same token, detached from their
// cancellation and bounded by the endpoint's timeout.
func (in *introspector) call(ctx context.Context, token string, sum [sha256.Size]byte) (*introspection, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.cfg.Timeout.D())
	defer cancel()
	resp, claims, err := in.post(ctx, token)
	if err != nil {
		return nil, err
	}

	now := in.now()
	res := in.interpret(resp, claims, now)
	ttl := in.cfg.NegativeCacheTTL.D()
	if res.active {
		ttl = in.cfg.CacheTTL.D()
		if exp, ok := numericDate(resp.Expiry); ok {
			ttl = min(ttl, exp.Sub(now))
		}
	}
	if ttl > 0 {
		in.cache.Set(sum, res, now.Add(ttl), now.Add(ttl))
	}
	return res, nil
}

// post sends the introspection request (RFC 7662, section 2.1) with HTTP
// Basic client authentication, whose user and password are form-encoded
// first as RFC 6749, section 2.3.1 requires.
func (in *introspector) post(ctx context.Context, token string) (*introspectionResponse, map[string]any, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, fmt.Errorf("building introspection request for %q: %w", in.cfg.URL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(in.clientID), url.QueryEscape(in.secret.Reveal()))

	resp, err := in.client.Do(req)
	if err != nil {
		// The client's error names the URL, never the form body.
		return nil, nil, fmt.Errorf("calling introspection endpoint: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("introspection endpoint %q returned status %d", in.cfg.URL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading introspection response: %w", err)
	}
	if len(body) > maxDocumentBytes {
		return nil, nil, fmt.Errorf("introspection response larger than %d bytes", maxDocumentBytes)
	}

	var r introspectionResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, nil, fmt.Errorf("parsing introspection response: %w", err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(body, &claims); err != nil {
		return nil, nil, fmt.Errorf("parsing introspection response: %w", err)
	}
	return &r, claims, nil
}

// interpret turns a response into a cached result. A response with active
// set counts as inactive when its exp or nbf rule it out at now, or when
// its audience is not accepted.
func (in *introspector) interpret(r *introspectionResponse, claims map[string]any, now time.Time) *introspection {
	if !r.Active {
		return &introspection{}
	}
	exp, expOK := numericDate(r.Expiry)
	nbf, nbfOK := numericDate(r.NotBefore)
	switch {
	case r.Expiry != nil && !expOK, r.NotBefore != nil && !nbfOK:
		return &introspection{reason: ReasonTokenInvalidClaim}
	case expOK && !now.Before(exp):
		return &introspection{reason: ReasonTokenExpired}
	case nbfOK && now.Before(nbf):
		return &introspection{reason: ReasonTokenNotYetValid}
	}
	if len(in.cfg.Audiences) > 0 &&
		!slices.ContainsFunc(r.Audience, func(a string) bool { return slices.Contains(in.cfg.Audiences, a) }) {
		return &introspection{reason: ReasonTokenWrongAudience}
	}
	consumer := r.Subject
	if consumer == "" {
		consumer = r.Username
	}
	if consumer == "" {
		consumer = r.ClientID
	}
	if !validHeaderValue(consumer) {
		return &introspection{reason: ReasonTokenInvalidClaim}
	}
	delete(claims, "active")
	return &introspection{
		active: true,
		identity: pipeline.Identity{
			ConsumerID:   consumer,
			Method:       "introspection",
			CredentialID: safeID(r.ID),
			Issuer:       in.name,
			Scopes:       scopeList(r.Scope),
			Roles:        stringList(claims["roles"]),
			Claims:       claims,
		},
	}
}

// maxNumericDate is the year 9999 in seconds; later dates are ignored.
const maxNumericDate = 253402300799

// numericDate reads a NumericDate (seconds since the epoch, possibly with a
// fraction).
func numericDate(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, false
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)), true
}
