package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/warden-api/warden/internal/problem"
	"github.com/warden-api/warden/internal/store"
)

// route is one endpoint: its method and path pattern, the least role that
// may call it, and the function that serves it.
type route struct {
	method  string
	pattern string
	role    string
	serve   func(w http.ResponseWriter, r *http.Request, p principal) error
}

// wrap authenticates the request, checks the role and serves the route.
// The route function returns an error instead of writing one, so every
// failure goes through fail.
func (h *handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestID := requestIDOf(w, r)
		p, err := h.authenticate(r)
		if err != nil {
			h.fail(w, r, requestID, err)
			return
		}
		if store.RoleRank(p.role) < store.RoleRank(rt.role) {
			h.fail(w, r, requestID, &Error{
				Status: http.StatusForbidden, Slug: SlugForbidden, Title: "Forbidden",
				Detail: fmt.Sprintf("%s %s needs role %s; this token has role %s", rt.method, rt.pattern, rt.role, p.role),
			})
			return
		}
		if err := rt.serve(w, r, p); err != nil {
			h.fail(w, r, requestID, err)
		}
	})
}

// decodeJSON reads a JSON object of at most MaxBodyBytes into dst. Unknown
// fields, trailing data and media types other than JSON are rejected. An
// empty body leaves dst unchanged when allowEmpty is set.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Error{
				Status: http.StatusUnsupportedMediaType, Slug: SlugUnsupportedMediaType, Title: "Unsupported media type",
				Detail: "send the body as application/json",
			}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		p := problem.PayloadTooLarge
		return &Error{
			Status: p.Status, Slug: strings.TrimPrefix(p.Type, problem.TypePrefix), Title: p.Title,
			Detail: fmt.Sprintf("the body must be at most %d bytes", MaxBodyBytes),
		}
	case err != nil:
		return invalidField("body", "reading the body failed")
	case len(strings.TrimSpace(string(body))) == 0:
		if allowEmpty {
			return nil
		}
		return invalidField("body", "a JSON object is required")
	}
	return unmarshalStrict(body, dst)
}

// unmarshalStrict decodes one JSON value from body, rejecting unknown
// fields and trailing data, and turns decoding errors into field errors.
func unmarshalStrict(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &syntaxErr):
		return invalidField("body", "invalid JSON at byte %d", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return invalidField(field, "must be a JSON %s", jsonKind(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json reports unknown fields only in its message.
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if unquoted, err := strconv.Unquote(name); err == nil && unquoted != "" {
			return invalidField(unquoted, "unknown field")
		}
		return invalidField("body", "unknown field %s", name)
	default:
		return invalidField("body", "invalid JSON: %s", err.Error())
	}
	if err := dec.Decode(&json.RawMessage{}); err != io.EOF {
		return invalidField("body", "unexpected data after the JSON object")
	}
	return nil
}

// jsonKind names a Go kind in JSON terms for error messages.
func jsonKind(kind string) string {
	switch kind {
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	case "bool":
		return "boolean"
	case "string":
		return "string"
	case "ptr":
		return "value of the documented type"
	}
	return "number"
}

// writeJSON sends v as a JSON response with the status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return internal(fmt.Errorf("encoding response: %w", err))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	return nil
}
