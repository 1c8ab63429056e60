// Package pathnorm turns the raw path of a request target into the one
// canonical path that the router matches, policies see and the upstream
// receives, and rejects paths that different servers could read in
// different ways.
//
// Normalize decodes percent-encoding exactly once, merges repeated slashes,
// resolves "." and ".." segments as in RFC 3986 section 5.2.4 (".." above
// the root is rejected, not clamped) and keeps a trailing slash as sent. It
// then encodes the result again with the minimum set of escapes, so that
// Path.Escaped is a function of Path.Decoded alone: two requests that mean
// the same path reach the upstream as the same bytes.
//
// Decisions that go beyond RFC 3986:
//
//   - Control characters are rejected raw or encoded: C0, DEL and the C1
//     code points U+0080 to U+009F, because C1 characters such as NEL act as
//     line breaks in some log and header parsers.
//   - A literal "%" in the decoded path is kept only when it is not followed
//     by two hex digits. Anything else, such as "%252e", is double encoding,
//     which a second decoder in the upstream would turn into something the
//     gateway never saw.
//   - ";" is encoded as "%3B" in Escaped. Tomcat strips ";params" from the
//     raw path before it decodes "%XX" (CoyoteAdapter.postParseRequest), so
//     "%3B" stays data there. The upstream then reads the segment text that
//     the router matched: "/admin;x" is one segment named "admin;x" and
//     never becomes "/admin".
//   - Unicode is not folded or normalized: "é" and "e\u0301" are different
//     paths. A segment is rejected only when its compatibility form (NFKC)
//     is a dot segment or contains a slash or backslash, such as fullwidth
//     "．．" or "／", because an upstream that applies NFKC would otherwise
//     resolve a path the router never saw. Overlong UTF-8 such as "%C0%AE"
//     is invalid UTF-8 and rejected as such.
//   - Segments of only dots and spaces other than "." and "..", such as
//     "..." or ".. ", are rejected: Win32 path normalization trims trailing
//     dots and spaces from segments (see PATHCCH_DO_NOT_NORMALIZE_SEGMENTS
//     in the PathCchCanonicalizeEx documentation), so a Windows upstream may
//     read them as dot segments.
//
// NOTE: names are kept as sent apart from these checks, so an upstream
// that trims trailing dots (Windows) reads "/admin." as "/admin", and one
// that applies NFKC reads fullwidth "/ａdmin" as "/admin". Routes in front of
// such upstreams cannot tell these paths apart from other names.
//
// With Options.AllowEncodedSlash, "%2F" and "%5C" inside a segment are kept
// as the three characters "%2F" and "%5C" (upper case) in both Decoded and
// Escaped, so a decoded path still splits on "/" into the segments the
// client meant. This cannot be confused with a literal "%2F" in a name,
// because a decoded "%" followed by two hex digits is rejected as double
// encoding. The parts between encoded slashes must not be dot segments
// either, so an upstream that decodes "%2F" before resolving dots cannot be
// led out of the matched prefix.
package pathnorm

import (
	"bytes"
	"net/http"
)

// Options configure Normalize. The zero value rejects encoded slashes and
// sets no length limit.
type Options struct {
	// AllowEncodedSlash accepts "%2F" and "%5C" inside a segment and keeps
	// them encoded; see the package documentation.
	AllowEncodedSlash bool
	// MaxBytes is the maximum length of the raw path in bytes. Longer paths
	// are rejected with status 414. Zero or less means no limit.
	MaxBytes int
}

// Path is a canonical request path.
type Path struct {
	// Decoded is the percent-decoded canonical path: it starts with "/",
	// contains no empty and no dot segments, and ends with "/" only when
	// the client sent a trailing slash. Routes match it and policies see it.
	Decoded string
	// Escaped is Decoded encoded for the upstream. It escapes every byte
	// outside the unreserved characters, the sub-delimiters other than ";",
	// ":", "@" and "/", using upper-case hex, so url.PathUnescape(Escaped)
	// returns Decoded. The exception is an allowed encoded slash or
	// backslash, which is "%2F" or "%5C" in both.
	Escaped string

	// encodedSlash records an allowed "%2F" or "%5C" anywhere in the raw
	// path, even in a segment that a ".." removed.
	encodedSlash bool
}

// HasEncodedSlash reports whether the raw path contained "%2F" or "%5C",
// which Normalize accepted because of AllowEncodedSlash. It is true even
// when a ".." removed the segment that contained it, so that a result with
// HasEncodedSlash false is exactly what Normalize returns without the
// option. Normalization runs before routing, so a gateway can normalize
// with AllowEncodedSlash when any route allows it. It then rejects the
// request with ReasonEncodedSlash when HasEncodedSlash is true and the
// matched route does not allow encoded slashes.
func (p Path) HasEncodedSlash() bool { return p.encodedSlash }

// Normalize returns the canonical form of raw, the still-encoded path of a
// request target without the query (the part of r.RequestURI before "?",
// never r.URL.Path, which Go has already decoded). On failure the error is
// an *Error with a reason code and an HTTP status.
//
// A path made only of unreserved characters, sub-delimiters other than ";",
// ":", "@" and single slashes, with no dot segment, is returned as is
// without allocating.
func Normalize(raw string, opt Options) (Path, error) {
	if opt.MaxBytes > 0 && len(raw) > opt.MaxBytes {
		return Path{}, &Error{
			Reason: ReasonPathTooLong, Status: http.StatusRequestURITooLong, Offset: -1,
			size: len(raw), limit: opt.MaxBytes,
		}
	}
	if raw == "" || raw[0] != '/' {
		return Path{}, reject(ReasonNotAbsolute, 0)
	}
	if isCanonical(raw) {
		return Path{Decoded: raw, Escaped: raw}, nil
	}
	return normalizeSlow(raw, opt)
}

// isCanonical reports whether raw, which starts with "/", needs neither
// decoding nor escaping nor segment resolution.
func isCanonical(raw string) bool {
	segStart := 1
	onlyDots := true
	for i := 1; i < len(raw); i++ {
		c := raw[i]
		if c == '/' {
			if i == segStart || onlyDots {
				return false // empty segment, or ".", "..", "..."
			}
			segStart, onlyDots = i+1, true
			continue
		}
		if !isPathSafe(c) {
			return false
		}
		if c != '.' {
			onlyDots = false
		}
	}
	// A final empty segment is a trailing slash, which is canonical.
	return segStart == len(raw) || !onlyDots
}

// normalizeSlow decodes raw segment by segment, checks each segment and
// builds the decoded and escaped paths side by side.
func normalizeSlow(raw string, opt Options) (Path, error) {
	n := &normalizer{
		opt:    opt,
		dec:    make([]byte, 0, len(raw)),
		esc:    make([]byte, 0, len(raw)+8),
		seg:    make([]byte, 0, 64),
		starts: make([]segmentStart, 0, 16),
	}
	trailingSlash := false
	for start := 1; start <= len(raw); {
		end := start
		for end < len(raw) && raw[end] != '/' {
			end++
		}
		seg := raw[start:end]
		last := end == len(raw)
		if seg == "" {
			// Repeated slashes merge. A final empty segment is a trailing slash.
			trailingSlash = last
		} else {
			dot, err := n.addSegment(seg, start)
			if err != nil {
				return Path{}, err
			}
			// As in RFC 3986, "/a/b/.." resolves to "/a/", with a slash.
			trailingSlash = last && dot
		}
		start = end + 1
	}

	p := Path{Decoded: "/", Escaped: "/", encodedSlash: n.sawMarker}
	switch {
	case len(n.dec) == 0:
		return p, nil
	case trailingSlash:
		n.dec = append(n.dec, '/')
		n.esc = append(n.esc, '/')
	}
	p.Decoded = string(n.dec)
	p.Escaped = p.Decoded
	if !bytes.Equal(n.dec, n.esc) {
		p.Escaped = string(n.esc)
	}
	return p, nil
}
