package authn

import (
	"errors"
	"net/http"
	"strings"

	"github.com/warden-api/warden/internal/pipeline"
)

// Reason codes of a denial, recorded as the outcome's Reason and as the
// "authn.reason" attribute.
const (
	ReasonMissingCredential   = "missing_credential"
	ReasonUnsupportedScheme   = "unsupported_auth_scheme"
	ReasonAmbiguousCredential = "credential_ambiguous"
	ReasonUnsupportedToken    = "token_unsupported"

	ReasonKeyInvalidFormat   = "key_invalid_format"
	ReasonKeyChecksum        = "key_checksum"
	ReasonKeyNotFound        = "key_not_found"
	ReasonKeySecretMismatch  = "key_secret_mismatch"
	ReasonKeyRevoked         = "key_revoked"
	ReasonKeyExpired         = "key_expired"
	ReasonKeyInQuery         = "key_in_query"
	ReasonConsumerSuspended  = "consumer_suspended"
	ReasonConsumerNotFound   = "consumer_not_found"
	ReasonStoreUnavailable   = "store_unavailable"
	ReasonTokenMalformed     = "token_malformed"
	ReasonTokenExpired       = "token_expired"
	ReasonTokenNotYetValid   = "token_not_yet_valid"
	ReasonTokenIssuedFuture  = "token_issued_in_future"
	ReasonTokenBadSignature  = "token_bad_signature"
	ReasonTokenAlgNotAllowed = "token_alg_not_allowed"
	ReasonTokenWrongIssuer   = "token_wrong_issuer"
	ReasonTokenWrongAudience = "token_wrong_audience"
	ReasonTokenUnknownKID    = "token_unknown_kid"
	ReasonTokenAmbiguousKID  = "token_ambiguous_kid"
	ReasonTokenInvalidClaim  = "token_invalid_claim"
	ReasonJWKSUnavailable    = "jwks_unavailable"

	ReasonIntrospectionInactive    = "introspection_inactive"
	ReasonIntrospectionUnavailable = "introspection_unavailable"

	ReasonMTLSRequired        = "mtls_required"
	ReasonMTLSUnverified      = "mtls_unverified"
	ReasonMTLSUnknownConsumer = "mtls_unknown_consumer"
)

// OAuth 2.0 bearer token error codes (RFC 6750, section 3.1) sent in
// WWW-Authenticate.
const (
	oauthInvalidRequest = "invalid_request"
	oauthInvalidToken   = "invalid_token"
)

// retryAfterSeconds is sent in Retry-After when a store or an identity
// provider cannot be reached.
const retryAfterSeconds = "5"

// failure is a failed authentication: a client error (401) or a technical
// failure (503). Only reason, oauthError and detail reach the client.
type failure struct {
	reason string
	// unavailable marks a technical failure: the store or an identity
	// provider could not be reached, so the credential may well be valid.
	unavailable bool
	// oauthError is the RFC 6750 error code; "" when no credential was sent.
	oauthError string
	// detail is a client-safe sentence for the problem document and the
	// error_description parameter.
	detail string
	// cause is the internal error, for the log only.
	cause error
}

func (f *failure) Error() string {
	if f.cause != nil {
		return f.reason + ": " + f.cause.Error()
	}
	return f.reason
}

func (f *failure) Unwrap() error { return f.cause }

// invalid returns a 401 failure for a credential that was sent but is not
// accepted.
func invalid(reason, detail string) *failure {
	return &failure{reason: reason, oauthError: oauthInvalidToken, detail: detail}
}

// badRequest returns a 401 failure for a request that carries a credential
// in a way the route does not accept.
func badRequest(reason, detail string) *failure {
	return &failure{reason: reason, oauthError: oauthInvalidRequest, detail: detail}
}

// unavailable returns a 503 failure for a store or identity provider that
// could not be reached.
func unavailable(reason string, cause error) *failure {
	return &failure{reason: reason, unavailable: true, cause: cause,
		detail: "Authentication is temporarily unavailable; retry later."}
}

// asFailure returns err as a *failure, or wraps an unexpected error as a
// store failure, which keeps the stage closed.
func asFailure(err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	return unavailable(ReasonStoreUnavailable, err)
}

// result turns f into the stage's Result.
func (f *failure) result() pipeline.Result {
	if f.unavailable {
		return pipeline.Result{
			Decision: pipeline.Deny,
			Reason:   f.reason,
			Status:   http.StatusServiceUnavailable,
			Problem:  "service-unavailable",
			Title:    "Authentication unavailable",
			Detail:   f.detail,
			Headers:  http.Header{"Retry-After": {retryAfterSeconds}},
		}
	}
	title := "Invalid credentials"
	if f.reason == ReasonMissingCredential || f.reason == ReasonMTLSRequired {
		title = "Authentication required"
	}
	return pipeline.Result{
		Decision: pipeline.Deny,
		Reason:   f.reason,
		Status:   http.StatusUnauthorized,
		Problem:  "unauthorized",
		Title:    title,
		Detail:   f.detail,
		Headers:  http.Header{"Www-Authenticate": {f.challenge()}},
	}
}

// challenge returns the WWW-Authenticate value for f (RFC 6750, section 3).
// A request without credentials gets no error code.
func (f *failure) challenge() string {
	var b strings.Builder
	b.WriteString(`Bearer realm="warden"`)
	if f.oauthError == "" {
		return b.String()
	}
	b.WriteString(`, error="`)
	b.WriteString(f.oauthError)
	b.WriteString(`"`)
	if f.detail != "" {
		// error_description allows %x20-21 / %x23-5B / %x5D-7E; the details
		// are constants written without quotes or backslashes.
		b.WriteString(`, error_description="`)
		b.WriteString(f.detail)
		b.WriteString(`"`)
	}
	return b.String()
}
