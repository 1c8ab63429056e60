package authn

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/store"
)

// StageName is the stage name recorded in events.
const StageName = "authn"

// Default headers that tell the upstream who called.
const (
	DefaultConsumerHeader = "X-Consumer-Id"
	DefaultScopesHeader   = "X-Consumer-Scopes"
)

// Method names as they appear in Identity.Method and the "authn.method"
// attribute.
const (
	MethodAPIKey        = "api_key"
	MethodJWT           = "jwt"
	MethodIntrospection = "introspection"
	MethodMTLS          = "mtls"
	MethodAnonymous     = "anonymous"
)

// method is one entry of a route's auth.methods.
type method struct {
	kind         string
	issuers      []*issuer     // for MethodJWT
	introspector *introspector // for MethodIntrospection
}

// stage authenticates the requests of one route.
type stage struct {
	a       *Authenticator
	route   string // config path, for logs
	methods []method

	anonymous  bool
	forward    bool
	allowQuery bool
	hasAPIKey  bool
	mtlsOnly   bool

	consumerHeader string
	scopesHeader   string
	// keyHeaders are the API key headers other than Authorization.
	keyHeaders         []string
	keyInAuthorization bool
	queryParam         string
}

// Stage builds the authentication stage of one route. path is the route's
// config path, such as "routes[3].auth", used in config errors.
//
// The slices and maps of the Identity that the stage sets (scopes, roles,
// claims, metadata) are shared with its caches, so later stages must not
// modify them.
func (a *Authenticator) Stage(route config.RouteAuth, path string) (pipeline.Stage, error) {
	s := &stage{
		a:              a,
		route:          path,
		anonymous:      route.Anonymous,
		forward:        route.ForwardCredential,
		allowQuery:     route.AllowQueryKey,
		consumerHeader: http.CanonicalHeaderKey(cmpOr(route.ConsumerHeader, DefaultConsumerHeader)),
		scopesHeader:   http.CanonicalHeaderKey(cmpOr(route.ScopesHeader, DefaultScopesHeader)),
		queryParam:     a.apiKeys.QueryParam,
	}
	for _, h := range canonicalHeaders(a.apiKeys.Headers) {
		if h == "Authorization" {
			s.keyInAuthorization = true
		} else {
			s.keyHeaders = append(s.keyHeaders, h)
		}
	}

	var es config.Errors
	if !httpguts.ValidHeaderFieldName(s.consumerHeader) {
		es.Add(path+".consumer_header", "invalid header name %q", route.ConsumerHeader)
	}
	if !httpguts.ValidHeaderFieldName(s.scopesHeader) {
		es.Add(path+".scopes_header", "invalid header name %q", route.ScopesHeader)
	}
	if len(route.Methods) == 0 && !route.Anonymous {
		es.Add(path+".methods", "at least one method is required unless anonymous is true")
	}
	s.methods = a.methods(&es, path, route.Methods)
	for _, m := range s.methods {
		s.hasAPIKey = s.hasAPIKey || m.kind == MethodAPIKey
	}
	s.mtlsOnly = len(s.methods) == 1 && s.methods[0].kind == MethodMTLS
	if route.AllowQueryKey && !s.hasAPIKey {
		es.Add(path+".allow_query_key", "allow_query_key needs the api_key method")
	}
	if err := es.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// methods resolves the names of a route's auth.methods, in order.
func (a *Authenticator) methods(es *config.Errors, path string, names []string) []method {
	var out []method
	seen := map[string]bool{}
	for i, name := range names {
		p := fmt.Sprintf("%s.methods[%d]", path, i)
		if seen[name] {
			es.Add(p, "duplicate method %q", name)
			continue
		}
		seen[name] = true
		m, err := a.method(name)
		if err != nil {
			es.Add(p, "%v", err)
			continue
		}
		out = append(out, m)
	}
	return out
}

// method resolves a method name from auth.methods.
func (a *Authenticator) method(name string) (method, error) {
	kind, arg, hasArg := strings.Cut(name, ":")
	switch {
	case name == MethodAPIKey, name == MethodMTLS:
		return method{kind: name}, nil
	case name == MethodJWT:
		if len(a.issuers) == 0 {
			return method{}, fmt.Errorf("method %q needs at least one issuer in authn.jwt", name)
		}
		return method{kind: MethodJWT, issuers: a.issuers}, nil
	case kind == MethodJWT && hasArg:
		for _, is := range a.issuers {
			if is.name == arg {
				return method{kind: MethodJWT, issuers: []*issuer{is}}, nil
			}
		}
		return method{}, fmt.Errorf("unknown JWT issuer %q: define it in authn.jwt", arg)
	case kind == MethodIntrospection && hasArg:
		in, ok := a.introspectors[arg]
		if !ok {
			return method{}, fmt.Errorf("unknown introspection endpoint %q: define it in authn.introspection", arg)
		}
		return method{kind: MethodIntrospection, introspector: in}, nil
	}
	return method{}, fmt.Errorf("unknown method %q: use api_key, jwt, jwt:<issuer>, introspection:<name> or mtls", name)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Name implements pipeline.Stage.
func (s *stage) Name() string { return StageName }

// Check implements pipeline.Stage. It never lets a request through whose
// credential could not be checked.
func (s *stage) Check(ctx context.Context, x *pipeline.Exchange) pipeline.Result {
	creds, f := s.collect(x.Request)
	var id *pipeline.Identity
	var m, credID string
	if f == nil {
		id, m, credID, f = s.authenticate(ctx, x, creds)
	}
	if m != "" {
		x.SetAttr("authn.method", m)
	}
	if credID != "" {
		x.SetAttr("authn.credential_id", credID)
	}
	if f != nil {
		x.SetAttr("authn.reason", f.reason)
		s.logFailure(ctx, x, m, credID, f)
		return f.result()
	}
	if id.Issuer != "" {
		x.SetAttr("authn.issuer", id.Issuer)
	}
	x.Identity = id
	s.rewrite(x.Request, creds, id)
	return pipeline.Allowed
}

func (s *stage) logFailure(ctx context.Context, x *pipeline.Exchange, m, credID string, f *failure) {
	level := slog.LevelDebug
	if f.unavailable {
		level = slog.LevelWarn
	}
	if !s.a.log.Enabled(ctx, level) {
		return
	}
	attrs := []any{"request_id", x.ID, "route", x.Route, "method", m, "credential_id", credID, "reason", f.reason}
	// The cause comes from the store, an HTTP client or a parser, and none
	// of them includes the credential.
	if f.cause != nil {
		attrs = append(attrs, "error", f.cause)
	}
	s.a.log.Log(ctx, level, "authentication failed", attrs...)
}

// credentials holds the credentials found in a request, limited to the kinds
// the route's methods read.
type credentials struct {
	bearer   string // token of an Authorization: Bearer header
	scheme   string // scheme of a non-Bearer Authorization header
	apiKey   string // from an API key header or a wdn_ Bearer token
	queryKey bool   // apiKey came from the query string
	cert     *x509.Certificate
	certBad  bool // a certificate was sent but not verified
}

// collect reads the credentials of r. A credential sent twice with
// different values, or an API key in the query of a route that does not
// accept one there, fails.
func (s *stage) collect(r *http.Request) (credentials, *failure) {
	var c credentials
	if vals := r.Header.Values("Authorization"); len(vals) > 1 {
		return c, badRequest(ReasonAmbiguousCredential, "Send one Authorization header.")
	} else if len(vals) == 1 {
		token, isBearer, ok := bearerToken(vals[0])
		switch {
		case isBearer && !ok:
			return c, badRequest(ReasonTokenMalformed, "The bearer token is malformed.")
		case isBearer:
			c.bearer = token
		default:
			c.scheme, _ = parseAuthorization(vals[0])
		}
	}
	if s.hasAPIKey {
		if f := s.collectKey(r, &c); f != nil {
			return c, f
		}
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		if len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
			c.cert = r.TLS.VerifiedChains[0][0]
		} else {
			c.certBad = true
		}
	}
	return c, nil
}

// collectKey reads an API key from the key headers, a Bearer token that
// looks like a key, and the query string.
func (s *stage) collectKey(r *http.Request, c *credentials) *failure {
	// The failure is built only when needed: this runs on every request.
	ambiguous := func() *failure { return badRequest(ReasonAmbiguousCredential, "Send one API key.") }
	for _, h := range s.keyHeaders {
		vals := r.Header.Values(h)
		if len(vals) == 0 {
			continue
		}
		if len(vals) > 1 || (c.apiKey != "" && c.apiKey != vals[0]) {
			return ambiguous()
		}
		c.apiKey = vals[0]
	}
	if s.keyInAuthorization && c.bearer != "" && strings.HasPrefix(c.bearer, apikey.Prefix) {
		if c.apiKey != "" && c.apiKey != c.bearer {
			return ambiguous()
		}
		c.apiKey = c.bearer
	}
	if !mayContainQueryParam(r.URL.RawQuery, s.queryParam) {
		return nil
	}
	vals := queryValues(r.URL.RawQuery, s.queryParam)
	switch {
	case len(vals) == 0:
		return nil
	case !s.allowQuery:
		return badRequest(ReasonKeyInQuery, "Send the API key in a header, not in the URL.")
	case len(vals) > 1 || (c.apiKey != "" && c.apiKey != vals[0]):
		return ambiguous()
	}
	if c.apiKey == "" {
		c.apiKey = vals[0]
	}
	c.queryKey = true
	return nil
}

// authenticate tries the route's methods in order; the first one whose
// credential the request carries decides.
func (s *stage) authenticate(ctx context.Context, x *pipeline.Exchange, c credentials) (*pipeline.Identity, string, string, *failure) {
	notKey := c.bearer != "" && !strings.HasPrefix(c.bearer, apikey.Prefix)
	for _, m := range s.methods {
		switch {
		case m.kind == MethodAPIKey && c.apiKey != "":
			if len(c.apiKey) > maxCredentialLen {
				return nil, m.kind, "", invalid(ReasonKeyInvalidFormat, keyDetail)
			}
			id, credID, f := s.a.verifyKey(ctx, c.apiKey, clientIP(x))
			return id, m.kind, credID, f
		case m.kind == MethodJWT && notKey && looksLikeJWS(c.bearer):
			id, credID, f := s.a.verifyJWT(ctx, c.bearer, m.issuers)
			return s.a.withConsumer(ctx, id, m.kind, credID, f)
		case m.kind == MethodIntrospection && notKey:
			id, credID, f := m.introspector.check(ctx, c.bearer)
			return s.a.withConsumer(ctx, id, m.kind, credID, f)
		case m.kind == MethodMTLS && c.cert != nil:
			id, credID, f := s.a.verifyCert(ctx, c.cert)
			return id, m.kind, credID, f
		case m.kind == MethodMTLS && c.certBad:
			return nil, m.kind, "", invalid(ReasonMTLSUnverified, "The client certificate was not verified.")
		}
	}

	switch {
	case c.scheme != "":
		return nil, "", "", badRequest(ReasonUnsupportedScheme, "Use the Bearer authentication scheme.")
	case c.bearer != "":
		return nil, "", s.a.credentialHash(c.bearer), invalid(ReasonUnsupportedToken, "This route does not accept this kind of token.")
	case s.mtlsOnly:
		return nil, MethodMTLS, "", &failure{reason: ReasonMTLSRequired, detail: "A client certificate is required."}
	case s.anonymous:
		return &pipeline.Identity{}, MethodAnonymous, "", nil
	}
	return nil, "", "", &failure{reason: ReasonMissingCredential, detail: "Send credentials."}
}

// withConsumer applies the store's consumer, when one exists with the
// token's subject as id, to a token identity: a consumer that is not
// active fails, and its name, plan and metadata are taken over.
func (a *Authenticator) withConsumer(ctx context.Context, id *pipeline.Identity, m, credID string, f *failure) (*pipeline.Identity, string, string, *failure) {
	if f != nil || !store.ValidID(id.ConsumerID) {
		return id, m, credID, f
	}
	c, ok, err := a.consumers.get(ctx, id.ConsumerID)
	switch {
	case err != nil:
		return nil, m, credID, unavailable(ReasonStoreUnavailable, err)
	case !ok:
		return id, m, credID, nil
	case c.Status != store.StatusActive:
		return nil, m, credID, invalid(ReasonConsumerSuspended, "The consumer is suspended.")
	}
	id.ConsumerName, id.Plan, id.Metadata = c.Name, c.Plan, c.Metadata
	return id, m, credID, nil
}

// rewrite prepares the request for the upstream. Unless forward_credential
// is set, it removes the credentials the route's methods read. An API key in
// the query is removed even then, because URLs end up in logs. The consumer
// headers are replaced with the authenticated values.
func (s *stage) rewrite(r *http.Request, c credentials, id *pipeline.Identity) {
	if !s.forward {
		if c.bearer != "" {
			r.Header.Del("Authorization")
		}
		if s.hasAPIKey {
			for _, h := range s.keyHeaders {
				r.Header.Del(h)
			}
		}
	}
	if c.queryKey {
		r.URL.RawQuery = withoutQueryParam(r.URL.RawQuery, s.queryParam)
		if r.RequestURI != "" {
			r.RequestURI = r.URL.RequestURI()
		}
	}
	r.Header.Del(s.consumerHeader)
	r.Header.Del(s.scopesHeader)
	if id.Anonymous() {
		return
	}
	r.Header.Set(s.consumerHeader, id.ConsumerID)
	if len(id.Scopes) > 0 {
		r.Header.Set(s.scopesHeader, strings.Join(id.Scopes, " "))
	}
}

func clientIP(x *pipeline.Exchange) string {
	if x.ClientIP.IsValid() {
		return x.ClientIP.String()
	}
	return ""
}
