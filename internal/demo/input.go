package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxBodyBytes is the largest request body accepted. The largest valid
// body, a book, is well under 2 KiB.
const maxBodyBytes = 64 << 10

// Patterns shared with openapi.yaml, which states the same ones, so that the
// handler accepts exactly what the spec describes. Compiled regular
// expressions are safe for concurrent use.
var (
	userIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	emailPattern  = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
	isbnPattern   = regexp.MustCompile(`^97[89][0-9]{10}$`)
	nonBlank      = regexp.MustCompile(`\S`)
)

// decodeJSON reads the request body as one JSON object into dst. Fields
// that dst does not have are rejected, so that a typo is not silently
// ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return &problem{Type: typePrefix + "unsupported-media-type", Title: "Unsupported media type",
			Status: http.StatusUnsupportedMediaType, Detail: "send the body as application/json"}
	}

	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return badRequest("the request body must contain exactly one JSON value")
	}
	return nil
}

// decodeError converts an error of json.Decoder.Decode into a problem that
// names what the client must fix.
func decodeError(err error) error {
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var wrongType *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return &problem{Type: typePrefix + "payload-too-large", Title: "Request body too large",
			Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the limit is %d bytes", tooLarge.Limit)}
	case errors.Is(err, io.EOF):
		return badRequest("the request body is missing")
	case errors.As(err, &syntax):
		return badRequest(fmt.Sprintf("the request body is not valid JSON: %s at byte %d", syntax, syntax.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body is not valid JSON: it ends too early")
	case errors.As(err, &wrongType):
		if wrongType.Field == "" {
			return badRequest("the request body must be a JSON object")
		}
		p := badRequest("a field has the wrong JSON type")
		p.Errors = []fieldError{{Field: wrongType.Field, Message: "must be " + jsonKind(wrongType.Type)}}
		return p
	}
	// encoding/json reports unknown fields only in the message text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		p := badRequest("the request body has a field that this operation does not accept")
		p.Errors = []fieldError{{Field: strings.Trim(name, `"`), Message: "is not a known field"}}
		return p
	}
	return badRequest("the request body is not valid JSON")
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	default:
		return "an object"
	}
}

// validator collects the field errors of one request body, so that the
// client learns of all of them at once.
type validator struct {
	errs []fieldError
}

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, fieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// text checks a required string of 1 to maxLen characters with at least
// one that is not white space, and matching pattern when it is not nil.
func (v *validator) text(field string, value *string, maxLen int, pattern *regexp.Regexp) string {
	switch {
	case value == nil:
		v.add(field, "is required")
	case !nonBlank.MatchString(*value):
		v.add(field, "must not be empty or blank")
	case utf8.RuneCountInString(*value) > maxLen:
		v.add(field, "must be at most %d characters", maxLen)
	case pattern != nil && !pattern.MatchString(*value):
		v.add(field, "must match %s", pattern)
	default:
		return *value
	}
	return ""
}

// integer checks a required integer from lo to hi.
func (v *validator) integer(field string, value *int64, lo, hi int64) int64 {
	switch {
	case value == nil:
		v.add(field, "is required")
	case *value < lo || *value > hi:
		v.add(field, "must be from %d to %d", lo, hi)
	default:
		return *value
	}
	return 0
}

// err returns the collected errors as a 422 problem, or nil.
func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return invalidFields(v.errs...)
}

// validISBN13 checks the ISBN-13 check digit of a 13-digit string.
func validISBN13(isbn string) bool {
	sum := 0
	for i := range 13 {
		d := int(isbn[i] - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return sum%10 == 0
}

// pathID parses the {id} path value of books and orders.
func pathID(r *http.Request, kind string) (int64, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 || s[0] == '+' {
		p := badRequest(fmt.Sprintf("%s ids are positive integers", kind))
		p.Errors = []fieldError{{Field: "id", Message: fmt.Sprintf("%q is not a positive integer", s)}}
		return 0, p
	}
	return id, nil
}

// queryInt parses an optional integer query parameter from lo to hi.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		p := badRequest("a query parameter is invalid")
		p.Errors = []fieldError{{Field: name, Message: fmt.Sprintf("must be an integer from %d to %d", lo, hi)}}
		return 0, p
	}
	return n, nil
}
