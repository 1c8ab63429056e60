package pathnorm

// Escape returns the escaped form of a canonical decoded path, or of one
// segment of it, exactly as Normalize builds Path.Escaped. "/" is kept as
// the separator, and "%2F" and "%5C" are kept as allowed encoded slashes.
// It returns s itself, without allocating, when nothing needs escaping.
//
// Escape is meant for text taken from Path.Decoded, such as a bound path
// parameter. Other input is escaped byte by byte; a "%" in it that is not
// part of "%2F" or "%5C" becomes "%25".
func Escape(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '/' && !isPathSafe(c) {
			return string(appendEscaped(make([]byte, 0, len(s)+16), s))
		}
	}
	return s
}

// appendEscaped appends the escaped form of s to dst; see Escape.
func appendEscaped[T ~string | ~[]byte](dst []byte, s T) []byte {
	const upperHex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/' || isPathSafe(c):
			dst = append(dst, c)
		case c == '%' && i+2 < len(s) && isMarker(s[i+1], s[i+2]):
			dst = append(dst, c, s[i+1], s[i+2])
			i += 2
		default:
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0x0f])
		}
	}
	return dst
}

// isMarker reports whether "%" followed by hi and lo is an encoded slash or
// backslash marker.
func isMarker(hi, lo byte) bool {
	return hi == '2' && lo == 'F' || hi == '5' && lo == 'C'
}

// isPathSafe reports whether c stays unescaped inside a segment of an
// escaped path: the RFC 3986 unreserved characters, the sub-delimiters
// except ";", and ":" and "@".
func isPathSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', '=', ':', '@':
		return true
	}
	return false
}
