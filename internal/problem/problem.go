// Package problem writes the errors that the gateway itself returns as
// RFC 9457 problem details (application/problem+json).
//
// Every problem carries a stable type URI, a short title, the status and the
// request id, and never internal detail such as an upstream address or an
// error message from a library. docs/problems.md lists the types.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// TypePrefix starts every problem type URI; the slug follows it.
const TypePrefix = "urn:warden:problem:"

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// Details is the problem document.
type Details struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Standard problems returned by the gateway core. Stages name their own
// slugs in pipeline.Result.
var (
	BadRequest         = Details{Type: TypePrefix + "bad-request", Title: "Bad request", Status: http.StatusBadRequest}
	InvalidPath        = Details{Type: TypePrefix + "invalid-path", Title: "Invalid request path", Status: http.StatusBadRequest}
	NotFound           = Details{Type: TypePrefix + "not-found", Title: "No route matches the request", Status: http.StatusNotFound}
	MethodNotAllowed   = Details{Type: TypePrefix + "method-not-allowed", Title: "Method not allowed on this route", Status: http.StatusMethodNotAllowed}
	PayloadTooLarge    = Details{Type: TypePrefix + "payload-too-large", Title: "Request body too large", Status: http.StatusRequestEntityTooLarge}
	URITooLong         = Details{Type: TypePrefix + "uri-too-long", Title: "Request path too long", Status: http.StatusRequestURITooLong}
	BadGateway         = Details{Type: TypePrefix + "bad-gateway", Title: "Upstream failed to answer", Status: http.StatusBadGateway}
	ServiceUnavailable = Details{Type: TypePrefix + "service-unavailable", Title: "Service unavailable", Status: http.StatusServiceUnavailable}
	GatewayTimeout     = Details{Type: TypePrefix + "gateway-timeout", Title: "Upstream timed out", Status: http.StatusGatewayTimeout}
	Internal           = Details{Type: TypePrefix + "internal", Title: "Internal gateway error", Status: http.StatusInternalServerError}
)

// New returns a problem with the given slug, status and title.
func New(slug string, status int, title string) Details {
	return Details{Type: TypePrefix + slug, Title: title, Status: status}
}

// Write sends p with the request id and returns the number of body bytes
// written. It sets Cache-Control: no-store so that shared caches never keep
// an error meant for one client.
func Write(w http.ResponseWriter, p Details, requestID string) int {
	p.RequestID = requestID
	body, err := json.Marshal(p)
	if err != nil {
		// Details holds only strings and an int, so Marshal cannot fail;
		// the fallback keeps the response well-formed all the same.
		body = []byte(`{"type":"` + Internal.Type + `","title":"Internal gateway error","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	n, _ := w.Write(body)
	return n
}
