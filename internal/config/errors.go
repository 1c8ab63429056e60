package config

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one config field.
type FieldError struct {
	// Path is the field's location, such as "routes[2].authz.policies[0].expr".
	Path string
	// Message states what is wrong and what is expected.
	Message string
	// File and Line locate the field in the config file, when known.
	File string
	Line int
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors collects field errors so that one validation pass reports all of
// them. The zero value is ready to use.
type Errors []*FieldError

// Add records an error on path.
func (es *Errors) Add(path, format string, args ...any) {
	*es = append(*es, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Merge appends the field errors in err, or err itself as a general error.
func (es *Errors) Merge(path string, err error) {
	if err == nil {
		return
	}
	switch e := err.(type) {
	case Errors:
		*es = append(*es, e...)
	case *FieldError:
		*es = append(*es, e)
	default:
		*es = append(*es, &FieldError{Path: path, Message: err.Error()})
	}
}

// Err returns es as an error, or nil when it is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
