package admin

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/warden-api/warden/internal/store"
)

// BootstrapActor is the actor id of changes made with the bootstrap token.
const BootstrapActor = "bootstrap"

// principal is an authenticated caller.
type principal struct {
	actor Actor
	role  string
}

var errUnauthorized = &Error{
	Status: http.StatusUnauthorized, Slug: SlugUnauthorized, Title: "Unauthorized",
	Detail: "send a valid admin token as Authorization: Bearer wda_...",
}

// authenticate checks the bearer token. Every rejection returns the same
// client-facing error, so a caller cannot tell an unknown token from a
// revoked one, but the log line names the reason. A store failure is a
// 503, so the API fails closed.
func (h *handler) authenticate(r *http.Request) (principal, error) {
	ip := sourceIP(r)
	token, ok := bearerToken(r)
	if !ok {
		return principal{}, errUnauthorized
	}
	if !h.bootstrap.IsZero() && h.bootstrap.Equal(token) {
		return principal{actor: Actor{ID: BootstrapActor, SourceIP: ip}, role: store.RoleAdmin}, nil
	}

	parsed, err := tokenFormat().Parse(token)
	if err != nil {
		h.logger.Info("admin token rejected", "reason", "malformed", "source_ip", ip)
		return principal{}, errUnauthorized
	}
	t, err := h.store.GetAdminToken(r.Context(), parsed.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.logger.Info("admin token rejected", "reason", "unknown", "token_id", parsed.ID, "source_ip", ip)
		return principal{}, errUnauthorized
	case err != nil:
		return principal{}, &Error{
			Status: http.StatusServiceUnavailable, Slug: "service-unavailable", Title: "Service unavailable",
			Detail: "the state store cannot be reached: retry later", Cause: err,
		}
	case !parsed.Matches(t.Hash):
		h.logger.Warn("admin token rejected", "reason", "secret mismatch", "token_id", t.ID, "source_ip", ip)
		return principal{}, errUnauthorized
	case t.Revoked():
		h.logger.Info("admin token rejected", "reason", "revoked", "token_id", t.ID, "source_ip", ip)
		return principal{}, errUnauthorized
	case !store.ValidRole(t.Role):
		h.logger.Warn("admin token rejected", "reason", "unknown role", "token_id", t.ID, "role", t.Role)
		return principal{}, errUnauthorized
	}
	return principal{actor: Actor{ID: t.ID, SourceIP: ip}, role: t.Role}, nil
}

// bearerToken returns the credentials of an Authorization: Bearer header.
// The scheme is case-insensitive (RFC 9110, section 11.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// sourceIP is the address of the connection. The admin listener is not
// meant to sit behind a proxy, so forwarding headers are ignored.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requestIDOf returns the request's X-Request-Id when it is a short token
// of safe characters, or a new random id, and sets it on the response.
func requestIDOf(w http.ResponseWriter, r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 128 || strings.IndexFunc(id, unsafeIDChar) >= 0 {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	w.Header().Set("X-Request-Id", id)
	return id
}

func unsafeIDChar(c rune) bool {
	return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.')
}
