// Package event defines the security event that Warden records for every
// request and every admin change, and the bus that carries events from the
// request path to sinks without blocking it.
//
// Field names follow the Elastic Common Schema where ECS has one
// (@timestamp, event.*, http.*, url.*, source.*, user.*, user_agent.*);
// Warden's own fields live under "warden.". docs/events.md documents each.
package event

import (
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// Datasets name the kind of event in event.dataset.
const (
	DatasetRequest = "warden.request"
	DatasetAdmin   = "warden.admin"
)

// Stage is the recorded decision of one pipeline stage.
type Stage struct {
	Name     string
	Decision string
	Reason   string
}

// Event is one security event. Fields left at their zero value are omitted
// from the JSON form. An Event must never carry a secret: credentials are
// named by their id, and headers are not copied into it.
type Event struct {
	Timestamp time.Time
	ID        string
	Dataset   string
	// Action is event.action, such as "key.revoke" for admin events.
	Action string
	// Outcome is "success" or "failure".
	Outcome  string
	Duration time.Duration

	Method      string
	HTTPVersion string
	Scheme      string
	Host        string
	Path        string
	Status      int
	BytesIn     int64
	BytesOut    int64
	SourceIP    string
	SourcePort  int
	UserAgent   string
	UserID      string
	UserName    string

	Listener string
	Route    string
	Decision string
	Stage    string
	Reason   string
	Upstream string
	Stages   []Stage
	// Attrs are extra fields, written as "warden.<key>". Values are strings,
	// bools, integers, floats, []string or nil.
	Attrs map[string]any
}

// AppendJSON appends the event as one JSON object, without a newline.
// It is written by hand, in a fixed field order, because it runs once per
// request and encoding/json would cost several allocations for the map and
// the reflection.
func (e *Event) AppendJSON(b []byte) []byte {
	w := objectWriter{b: append(b, '{')}
	w.str("@timestamp", e.Timestamp.UTC().Format(time.RFC3339Nano))
	w.str("event.id", e.ID)
	w.str("event.kind", "event")
	w.str("event.dataset", e.Dataset)
	w.str("event.action", e.Action)
	w.str("event.outcome", e.Outcome)
	if e.Duration > 0 {
		w.int("event.duration", int64(e.Duration))
	}
	w.str("http.request.method", e.Method)
	w.str("http.version", e.HTTPVersion)
	w.str("url.scheme", e.Scheme)
	w.str("url.domain", e.Host)
	w.str("url.path", e.Path)
	if e.Status > 0 {
		w.int("http.response.status_code", int64(e.Status))
	}
	if e.Dataset == DatasetRequest {
		w.int("http.request.body.bytes", e.BytesIn)
		w.int("http.response.body.bytes", e.BytesOut)
	}
	w.str("source.ip", e.SourceIP)
	if e.SourcePort > 0 {
		w.int("source.port", int64(e.SourcePort))
	}
	w.str("user_agent.original", e.UserAgent)
	w.str("user.id", e.UserID)
	w.str("user.name", e.UserName)
	w.str("warden.listener", e.Listener)
	w.str("warden.route", e.Route)
	w.str("warden.decision", e.Decision)
	w.str("warden.stage", e.Stage)
	w.str("warden.reason", e.Reason)
	w.str("warden.upstream", e.Upstream)
	if len(e.Stages) > 0 {
		w.key("warden.stages")
		w.b = append(w.b, '[')
		for i, s := range e.Stages {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			sw := objectWriter{b: append(w.b, '{')}
			sw.str("name", s.Name)
			sw.str("decision", s.Decision)
			sw.str("reason", s.Reason)
			w.b = append(sw.b, '}')
		}
		w.b = append(w.b, ']')
	}
	if len(e.Attrs) > 0 {
		keys := make([]string, 0, len(e.Attrs))
		for k := range e.Attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w.any("warden."+k, e.Attrs[k])
		}
	}
	return append(w.b, '}')
}

type objectWriter struct {
	b     []byte
	count int
}

func (w *objectWriter) key(k string) {
	if w.count > 0 {
		w.b = append(w.b, ',')
	}
	w.count++
	w.b = appendString(w.b, k)
	w.b = append(w.b, ':')
}

func (w *objectWriter) str(k, v string) {
	if v == "" {
		return
	}
	w.key(k)
	w.b = appendString(w.b, v)
}

func (w *objectWriter) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *objectWriter) any(k string, v any) {
	w.key(k)
	switch x := v.(type) {
	case nil:
		w.b = append(w.b, "null"...)
	case string:
		w.b = appendString(w.b, x)
	case bool:
		w.b = strconv.AppendBool(w.b, x)
	case int:
		w.b = strconv.AppendInt(w.b, int64(x), 10)
	case int64:
		w.b = strconv.AppendInt(w.b, x, 10)
	case float64:
		w.b = strconv.AppendFloat(w.b, x, 'g', -1, 64)
	case []string:
		w.b = append(w.b, '[')
		for i, s := range x {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendString(w.b, s)
		}
		w.b = append(w.b, ']')
	default:
		// Other types are a programming error in a stage. The value is
		// dropped rather than formatted, because formatting could reveal
		// a secret held in a struct.
		w.b = append(w.b, `"[unsupported]"`...)
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// so an attacker's bytes cannot break the line format.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript consumers.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
