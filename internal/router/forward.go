package router

import (
	"slices"
	"strings"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pathnorm"
	"github.com/warden-api/warden/internal/pipeline"
)

// rewritePart is a piece of a compiled rewrite template: escaped literal
// text, then the value of a parameter when param is set.
type rewritePart struct {
	text  string
	param string
}

// compileForward validates and compiles the strip_prefix and rewrite of a
// route. patterns are the route's valid path patterns and fields their
// config paths.
func compileForward(errs *config.Errors, field string, rt *config.Route, patterns []pattern, fields []string) route {
	out := route{caseInsensitive: rt.CaseInsensitive}
	if rt.StripPrefix != "" {
		sf := field + ".strip_prefix"
		p, err := parsePattern(rt.StripPrefix, patternSyntax{allowEncodedSlash: rt.AllowEncodedSlash})
		switch {
		case err != nil:
			errs.Add(sf, "%s", err)
		case len(p.segments) == 0:
			errs.Add(sf, `strip prefix "/" removes nothing: remove it`)
		default:
			for k, pat := range patterns {
				if !prefixFits(p, pat, rt.CaseInsensitive) {
					errs.Add(sf, "prefix %q does not match the start of %s (%q): every path of the route must start with it", p.raw, fields[k], pat.raw)
				}
			}
			out.strip = p
		}
	}

	if rt.Rewrite != "" {
		rf := field + ".rewrite"
		if rt.StripPrefix != "" {
			errs.Add(rf, "rewrite replaces the whole path, so strip_prefix has no effect: remove one of them")
		}
		p, err := parsePattern(rt.Rewrite, patternSyntax{allowParams: true, allowEncodedSlash: rt.AllowEncodedSlash})
		if err != nil {
			errs.Add(rf, "%s", err)
			return out
		}
		for _, name := range p.params {
			for k, pat := range patterns {
				if !slices.Contains(pat.params, name) {
					errs.Add(rf, "parameter {%s} is not bound by %s (%q)", name, fields[k], pat.raw)
				}
			}
		}
		out.rewrite = compileRewrite(p)
	}
	return out
}

// prefixFits reports whether some path that pat matches starts with the
// segments of prefix.
func prefixFits(prefix, pat pattern, ci bool) bool {
	for j, seg := range prefix.segments {
		if j >= len(pat.segments) {
			return false
		}
		switch ps := pat.segments[j]; ps.kind {
		case restSegment:
			return true
		case literalSegment:
			if ps.text != seg.text && !(ci && strings.EqualFold(ps.text, seg.text)) {
				return false
			}
		}
	}
	return true
}

// compileRewrite turns a parsed rewrite template into parts with escaped
// literal text.
func compileRewrite(p pattern) []rewritePart {
	var parts []rewritePart
	var text strings.Builder
	for _, seg := range p.segments {
		text.WriteByte('/')
		if seg.kind == paramSegment {
			parts = append(parts, rewritePart{text: text.String(), param: seg.text})
			text.Reset()
			continue
		}
		text.WriteString(pathnorm.Escape(seg.text))
	}
	if p.trailingSlash || len(p.segments) == 0 {
		text.WriteByte('/')
	}
	if text.Len() > 0 {
		parts = append(parts, rewritePart{text: text.String()})
	}
	return parts
}

// ForwardPath returns the escaped path to send upstream for a request that
// matched route index with m. decoded and escaped are the request's
// pathnorm.Path fields.
//
// With a rewrite, the result is the rewrite template with the parameters
// of m filled in and escaped. m must be the Match for that route. With
// a strip prefix, the prefix is removed when the path starts with its
// segments (compared case-insensitively on a case-insensitive route), and
// "/" remains when nothing else does. Otherwise, or when index is not a
// route index, it returns escaped unchanged.
func (r *Router) ForwardPath(index int, m Match, decoded, escaped string) string {
	if index < 0 || index >= len(r.routes) {
		return escaped
	}
	rt := &r.routes[index]
	if rt.rewrite != nil {
		return expandRewrite(rt.rewrite, m.Params)
	}
	if len(rt.strip.segments) > 0 {
		if rest, ok := stripSegments(decoded, rt.strip, rt.caseInsensitive); ok {
			return pathnorm.Escape(rest)
		}
	}
	return escaped
}

func expandRewrite(parts []rewritePart, params []pipeline.Param) string {
	var b strings.Builder
	for _, part := range parts {
		b.WriteString(part.text)
		if part.param == "" {
			continue
		}
		for _, p := range params {
			if p.Name == part.param {
				b.WriteString(pathnorm.Escape(p.Value))
				break
			}
		}
	}
	return b.String()
}

// stripSegments removes the segments of prefix from the start of path and
// returns the rest, or false when path does not start with them.
func stripSegments(path string, prefix pattern, ci bool) (string, bool) {
	pos := 0
	for _, seg := range prefix.segments {
		if pos >= len(path) || path[pos] != '/' {
			return "", false
		}
		end := pos + 1
		for end < len(path) && path[end] != '/' {
			end++
		}
		if s := path[pos+1 : end]; s != seg.text && !(ci && strings.EqualFold(s, seg.text)) {
			return "", false
		}
		pos = end
	}
	if pos == len(path) {
		return "/", true
	}
	return path[pos:], true
}
