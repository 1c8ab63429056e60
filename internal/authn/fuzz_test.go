package authn

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{
		"Bearer abc.def.ghi", "bearer  token==", "Bearer", "Bearer ", "Basic dXNlcg==",
		"Bearer a b", "Bearer ===", "Bearer wdn_x", "BEARER\ttoken", "Bearer tok\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		token, isBearer, ok := bearerToken(v)
		if !isBearer && (ok || token != "") {
			t.Fatalf("bearerToken(%q) = %q, %v, %v: a token without the Bearer scheme", v, token, isBearer, ok)
		}
		if !ok {
			return
		}
		if !validB64Token(token) {
			t.Fatalf("bearerToken(%q) returned %q, which is not a b64token", v, token)
		}
		if strings.ContainsAny(token, " \t\r\n\"") {
			t.Fatalf("token %q contains a separator", token)
		}
		if !strings.HasSuffix(v, token) {
			t.Fatalf("token %q is not the end of %q", token, v)
		}
	})
}

func FuzzParseCompact(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.AAAA")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c.d")
	f.Add("eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiYjY0Il19.e30.AA")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := parseCompact(token)
		if err != nil {
			return
		}
		if strings.Count(token, ".") != 2 || c.header.Alg == "" {
			t.Fatalf("parseCompact(%q) accepted a token without three parts or alg", token)
		}
		if len(c.header.Crit) > 0 {
			t.Fatalf("parseCompact(%q) accepted a crit header", token)
		}
		// Strict decoding means the parts re-encode to the same text.
		if parts := strings.Split(token, "."); b64(c.payload) != parts[1] {
			t.Fatalf("payload of %q re-encodes to %q", token, b64(c.payload))
		}
	})
}

func FuzzQueryParam(f *testing.F) {
	f.Add("a=1&api_key=wdn_x&b=2")
	f.Add("api%5Fkey=x&api_key=y")
	f.Add("api_key")
	f.Add("&&api+key=1;api_key=2")
	f.Add("%zz=1&api_key=%zz")
	f.Fuzz(func(t *testing.T, raw string) {
		const name = "api_key"
		values := queryValues(raw, name)
		rest := withoutQueryParam(raw, name)
		if got := queryValues(rest, name); len(got) != 0 {
			t.Fatalf("withoutQueryParam(%q) = %q still has %q", raw, rest, got)
		}
		parsed, err := url.ParseQuery(raw)
		if err == nil && len(parsed[name]) != len(values) {
			t.Fatalf("queryValues(%q) = %q, url.ParseQuery found %q", raw, values, parsed[name])
		}
		if len(values) > 0 && !mayContainQueryParam(raw, name) {
			t.Fatalf("mayContainQueryParam(%q) = false, but the query has the key", raw)
		}
	})
}

// FuzzAPIKeyExtraction sends arbitrary API key headers and queries through
// the stage of a route that accepts keys in the query. Without a store
// behind them, no key may authenticate, and a rejected request must be a
// 401.
func FuzzAPIKeyExtraction(f *testing.F) {
	e := newEnv(f, config.Authn{})
	s := e.stage(f, config.RouteAuth{Methods: []string{"api_key"}, AllowQueryKey: true})
	f.Add("Bearer wdn_0123456789ab_0123456789abcdef0123456789abcdef012345", "", "a=1")
	f.Add("", "wdn_x", "api_key=wdn_x")
	f.Add("Basic x", "k", "api%5Fkey=1&api_key=2")
	f.Fuzz(func(t *testing.T, authorization, xAPIKey, query string) {
		r, err := http.NewRequest(http.MethodGet, "http://gw.test/", nil)
		if err != nil {
			t.Skip()
		}
		r.URL.RawQuery = query
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		if xAPIKey != "" {
			r.Header["X-Api-Key"] = []string{xAPIKey}
		}
		x := exchangeFor(r)
		res := s.Check(context.Background(), x)
		if res.Decision != pipeline.Deny {
			t.Fatalf("request authenticated without a stored key: %+v", x.Identity)
		}
		if res.Status != http.StatusUnauthorized {
			t.Fatalf("status = %d (%s), want 401", res.Status, res.Reason)
		}
		for k, v := range x.Attrs {
			if s, ok := v.(string); ok && len(s) > 20 && (strings.Contains(authorization, s) || strings.Contains(xAPIKey, s)) {
				t.Fatalf("attribute %s = %q repeats a credential", k, s)
			}
		}
	})
}

func FuzzParseKeySet(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","use":"enc"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, _, err := parseKeySet(data, keySetOptions{})
		if err != nil {
			return
		}
		for _, ks := range set.byKID {
			for _, k := range ks {
				if _, ok := k.key.([]byte); ok {
					t.Fatalf("a fetched key set accepted a symmetric key")
				}
			}
		}
	})
}
