package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/warden-api/warden/internal/problem"
	"github.com/warden-api/warden/internal/store"
)

// Problem type slugs of the admin API, after problem.TypePrefix.
const (
	SlugInvalidRequest       = "invalid-request"
	SlugUnauthorized         = "unauthorized"
	SlugForbidden            = "forbidden"
	SlugResourceNotFound     = "resource-not-found"
	SlugConflict             = "conflict"
	SlugUnsupportedMediaType = "unsupported-media-type"
	SlugServiceUnavailable   = "service-unavailable"
)

// FieldError names one invalid field of a request and what is wrong with
// it. Field is a JSON path such as "scopes[1]" or "metadata.team", or a
// query parameter name.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Error is a failed admin operation: the HTTP status and problem type
// sent to the client, a client-safe detail, the invalid fields, and the
// internal cause, which is logged and never sent.
type Error struct {
	Status int
	Slug   string
	Title  string
	Detail string
	Fields []FieldError
	Cause  error
}

// Error returns the detail, or the invalid fields with what is wrong with
// each; never the cause.
func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			parts[i] = f.Field + ": " + f.Detail
		}
		return "invalid request: " + strings.Join(parts, "; ")
	}
	if e.Detail != "" {
		return e.Detail
	}
	return e.Title
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Cause }

func invalid(fields ...FieldError) *Error {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Field
	}
	return &Error{
		Status: http.StatusBadRequest, Slug: SlugInvalidRequest, Title: "Invalid request",
		Detail: "invalid value of " + strings.Join(names, ", "), Fields: fields,
	}
}

func invalidField(field, format string, args ...any) *Error {
	return invalid(FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

func notFound(what, id string) *Error {
	return &Error{
		Status: http.StatusNotFound, Slug: SlugResourceNotFound, Title: "Resource not found",
		Detail: fmt.Sprintf("%s %q not found", what, id),
	}
}

func conflict(format string, args ...any) *Error {
	return &Error{
		Status: http.StatusConflict, Slug: SlugConflict, Title: "Conflict with the current state",
		Detail: fmt.Sprintf(format, args...),
	}
}

// storeError turns a store error into an Error. store.ErrNotFound becomes
// 404 and store.ErrConflict 409, with the given details. Anything else is
// an internal error whose cause is logged.
func storeError(err error, notFoundDetail, conflictDetail string) *Error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Slug: SlugResourceNotFound, Title: "Resource not found", Detail: notFoundDetail, Cause: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Slug: SlugConflict, Title: "Conflict with the current state", Detail: conflictDetail, Cause: err}
	}
	return internal(err)
}

// unavailable is a 503 for data that the server cannot read for now. The
// cause is logged, the detail sent.
func unavailable(detail string, cause error) *Error {
	p := problem.ServiceUnavailable
	return &Error{Status: p.Status, Slug: SlugServiceUnavailable, Title: p.Title, Detail: detail, Cause: cause}
}

func internal(err error) *Error {
	p := problem.Internal
	return &Error{Status: p.Status, Slug: strings.TrimPrefix(p.Type, problem.TypePrefix), Title: p.Title, Cause: err}
}

// asError returns err as an *Error, wrapping other errors as internal ones.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return internal(err)
}

// Problem is the problem+json document of the admin API: RFC 9457 fields
// with an "errors" extension that names the invalid fields.
type Problem struct {
	problem.Details
	Errors []FieldError `json:"errors,omitempty"`
}

// writeProblem sends e as problem+json with the request id. It sets the
// same headers as problem.Write; problem.Write itself has no room for the
// "errors" extension.
func writeProblem(w http.ResponseWriter, e *Error, requestID string) {
	body, err := json.Marshal(Problem{
		Details: problem.Details{
			Type: problem.TypePrefix + e.Slug, Title: e.Title, Status: e.Status,
			Detail: e.Detail, RequestID: requestID,
		},
		Errors: e.Fields,
	})
	if err != nil {
		problem.Write(w, problem.Internal, requestID)
		return
	}
	h := w.Header()
	h.Set("Content-Type", problem.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
