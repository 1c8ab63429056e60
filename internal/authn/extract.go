package authn

import (
	"net/url"
	"strings"
)

// maxCredentialLen bounds any credential read from a header or the query:
// longer values are rejected before they are parsed or hashed.
const maxCredentialLen = 16 << 10

// parseAuthorization splits an Authorization value (RFC 9110, section
// 11.6.2) into its scheme and what follows, with the separating spaces
// removed. net/http has already trimmed the value's outer whitespace.
func parseAuthorization(v string) (scheme, rest string) {
	scheme, rest, _ = strings.Cut(v, " ")
	return scheme, strings.TrimLeft(rest, " ")
}

// bearerToken returns the token of a "Bearer" Authorization value. isBearer
// is false for other schemes; ok is false when the scheme is Bearer but the
// token is not a b64token (RFC 6750, section 2.1).
func bearerToken(v string) (token string, isBearer, ok bool) {
	scheme, rest := parseAuthorization(v)
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, false
	}
	if !validB64Token(rest) {
		return "", true, false
	}
	return rest, true, true
}

// validB64Token reports whether s matches
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func validB64Token(s string) bool {
	if s == "" || len(s) > maxCredentialLen {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// looksLikeJWS reports whether a bearer token has the shape of a JWS in
// compact serialization: three parts separated by two dots.
func looksLikeJWS(token string) bool {
	return strings.Count(token, ".") == 2
}

// queryValues returns the decoded values of the query parameter name in
// rawQuery. Names are compared after percent-decoding, so "api%5Fkey" is
// found as "api_key". Pairs that do not decode are skipped, as
// url.ParseQuery skips them.
func queryValues(rawQuery, name string) []string {
	var out []string
	for pair := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if !queryNameIs(k, name) {
			continue
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		out = append(out, dv)
	}
	return out
}

// withoutQueryParam returns rawQuery without the pairs named name, leaving
// every other pair as the client encoded it. url.Values would re-encode and
// sort the whole query, which changes what the upstream receives; that is
// why this walks the pairs itself.
func withoutQueryParam(rawQuery, name string) string {
	var b strings.Builder
	for pair := range strings.SplitSeq(rawQuery, "&") {
		k, _, _ := strings.Cut(pair, "=")
		if queryNameIs(k, name) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	return b.String()
}

func queryNameIs(rawName, name string) bool {
	if rawName == name {
		return true
	}
	if !strings.ContainsAny(rawName, "%+") {
		return false
	}
	dk, err := url.QueryUnescape(rawName)
	return err == nil && dk == name
}

// mayContainQueryParam is a cheap test that lets most requests skip the
// query walk: a pair named name must contain it literally or encoded.
func mayContainQueryParam(rawQuery, name string) bool {
	return rawQuery != "" && (strings.Contains(rawQuery, name) || strings.ContainsAny(rawQuery, "%+"))
}
