package demo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// typePrefix starts the type URI of every problem the demo API returns.
const typePrefix = "urn:bookstore:problem:"

// problem is an RFC 9457 problem document, sent as application/problem+json.
// It is also the error type of the store and the handlers, so an error
// carries the status and the client-safe text from where it happens.
type problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []fieldError `json:"errors,omitempty"`
}

// fieldError names one invalid field of a request and what is wrong with it.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *problem) Error() string {
	return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
}

func badRequest(detail string) *problem {
	return &problem{Type: typePrefix + "bad-request", Title: "Bad request", Status: http.StatusBadRequest, Detail: detail}
}

func notFound(kind, id string) *problem {
	return &problem{Type: typePrefix + "not-found", Title: "Not found", Status: http.StatusNotFound,
		Detail: fmt.Sprintf("%s %q does not exist", kind, id)}
}

func conflict(detail string) *problem {
	return &problem{Type: typePrefix + "conflict", Title: "Conflict", Status: http.StatusConflict, Detail: detail}
}

func invalidFields(errs ...fieldError) *problem {
	return &problem{Type: typePrefix + "validation", Title: "Invalid fields", Status: http.StatusUnprocessableEntity,
		Detail: "fix the listed fields and send the request again", Errors: errs}
}

// writeProblem sends p with the request path as its instance.
func writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	doc := *p
	doc.Instance = r.URL.Path
	body, err := json.Marshal(doc)
	if err != nil {
		// Unreachable: problem contains only strings, ints and a slice of
		// string pairs, which json.Marshal always encodes.
		body = []byte(`{"type":"` + typePrefix + `internal","title":"Internal error","status":500}`)
		doc.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(doc.Status)
	_, _ = w.Write(body)
}

// writeJSON sends v as application/json with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the response: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}
