package router

import (
	"errors"
	"fmt"
	"strings"

	"github.com/warden-api/warden/internal/pathnorm"
)

// maxParams is the maximum number of parameters in one path pattern. It
// bounds the fixed-size array that Match binds parameters into, so matching
// does not allocate until it returns.
const maxParams = 16

type segmentKind uint8

const (
	literalSegment segmentKind = iota
	paramSegment
	restSegment // "**", always last
)

// segment is one segment of a parsed pattern.
type segment struct {
	kind segmentKind
	// text is the literal text or the parameter name.
	text string
}

// pattern is a parsed path pattern, rewrite template or strip prefix.
type pattern struct {
	raw           string
	segments      []segment
	params        []string
	trailingSlash bool
}

// patternSyntax selects the parts that parsePattern accepts.
type patternSyntax struct {
	allowRest   bool // "**" as the last segment
	allowParams bool
	// allowEncodedSlash is the route's setting, which decides whether a
	// literal may contain "%2F" and "%5C".
	allowEncodedSlash bool
}

// parsePattern parses raw as a pattern over canonical decoded paths. Its
// error messages describe the problem and are meant for a FieldError.
func parsePattern(raw string, syntax patternSyntax) (pattern, error) {
	p := pattern{raw: raw}
	if raw == "" {
		return p, errors.New("missing pattern")
	}
	if raw[0] != '/' {
		return p, fmt.Errorf("invalid pattern %q: must start with \"/\"", raw)
	}
	body := raw[1:]
	if body != "" && strings.HasSuffix(body, "/") {
		body, p.trailingSlash = body[:len(body)-1], true
	}
	if body == "" {
		return p, nil
	}

	parts := strings.Split(body, "/")
	for i, text := range parts {
		seg, err := parseSegment(text, i == len(parts)-1, syntax)
		if err != nil {
			return p, fmt.Errorf("invalid pattern %q: %w", raw, err)
		}
		if seg.kind == paramSegment {
			for _, name := range p.params {
				if name == seg.text {
					return p, fmt.Errorf("invalid pattern %q: parameter {%s} appears twice", raw, name)
				}
			}
			p.params = append(p.params, seg.text)
		}
		p.segments = append(p.segments, seg)
	}
	if len(p.params) > maxParams {
		return p, fmt.Errorf("invalid pattern %q: %d parameters, more than the maximum of %d", raw, len(p.params), maxParams)
	}
	return p, nil
}

// parseSegment parses one segment of a pattern.
func parseSegment(text string, last bool, syntax patternSyntax) (segment, error) {
	switch {
	case text == "":
		return segment{}, errors.New(`empty segment: remove the repeated "/"`)
	case text == "**":
		if !syntax.allowRest {
			return segment{}, errors.New(`"**" is not allowed here`)
		}
		if !last {
			return segment{}, errors.New(`"**" must be the last segment`)
		}
		return segment{kind: restSegment}, nil
	case strings.HasPrefix(text, "{") && strings.HasSuffix(text, "}"):
		name := text[1 : len(text)-1]
		if !syntax.allowParams {
			return segment{}, errors.New("parameters are not allowed here")
		}
		if !validParamName(name) {
			return segment{}, fmt.Errorf("invalid parameter name %q: use a letter or \"_\" followed by letters, digits or \"_\"", name)
		}
		return segment{kind: paramSegment, text: name}, nil
	case strings.ContainsAny(text, "{}"):
		return segment{}, fmt.Errorf("segment %q: a parameter must be a whole segment, such as \"/users/{id}\"", text)
	case strings.Contains(text, "*"):
		return segment{}, fmt.Errorf("segment %q: \"*\" is only valid as the last segment \"**\"; use \"{name}\" for one segment", text)
	}
	if err := checkLiteral(text, syntax.allowEncodedSlash); err != nil {
		return segment{}, fmt.Errorf("segment %q: %w", text, err)
	}
	return segment{kind: literalSegment, text: text}, nil
}

// checkLiteral rejects literal text that no canonical path contains, such
// as a dot segment, a control character or "%41". It runs the same checks
// as a request path.
func checkLiteral(text string, allowEncodedSlash bool) error {
	p, err := pathnorm.Normalize("/"+pathnorm.Escape(text), pathnorm.Options{AllowEncodedSlash: allowEncodedSlash})
	var pe *pathnorm.Error
	if errors.As(err, &pe) {
		return fmt.Errorf("never matches a canonical request path, which rejects it as %s", pe.Reason)
	}
	if err != nil {
		return fmt.Errorf("checking literal: %w", err)
	}
	if p.Decoded != "/"+text {
		return fmt.Errorf("never matches a canonical request path, which would read %q", p.Decoded[1:])
	}
	return nil
}

func validParamName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
