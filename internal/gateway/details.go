package gateway

import "github.com/warden-api/warden/internal/pathnorm"

// pathDetails are client-safe explanations of path rejections. They name
// the rule, never echo the path, and tell a legitimate client what to send
// instead.
var pathDetails = map[string]string{
	pathnorm.ReasonNotAbsolute:       "The request target must be an absolute path starting with \"/\".",
	pathnorm.ReasonPathTooLong:       "The path is longer than this gateway accepts.",
	pathnorm.ReasonInvalidEscape:     "The path contains a malformed percent-encoding: use %XX with two hex digits.",
	pathnorm.ReasonInvalidCharacter:  "The path contains a character that must be percent-encoded.",
	pathnorm.ReasonBackslash:         "The path contains a backslash, which servers interpret differently: use \"/\".",
	pathnorm.ReasonEncodedSlash:      "The path contains an encoded slash (%2F) inside a segment, which this route does not accept.",
	pathnorm.ReasonEncodedBackslash:  "The path contains an encoded backslash (%5C), which this route does not accept.",
	pathnorm.ReasonControlCharacter:  "The path contains a control character.",
	pathnorm.ReasonInvalidUTF8:       "The path does not decode to valid UTF-8.",
	pathnorm.ReasonDoubleEncoding:    "The path is percent-encoded twice: encode it once.",
	pathnorm.ReasonDotSegmentEncoded: "The path contains an encoded dot segment (%2E%2E): send \"..\" unencoded or resolve it first.",
	pathnorm.ReasonDotSegmentParams:  "The path contains a dot segment with parameters (\"..;\"), which servers interpret differently.",
	pathnorm.ReasonDotSegmentVariant: "The path contains a segment made only of dots, which servers interpret differently.",
	pathnorm.ReasonAboveRoot:         "The path climbs above the root with \"..\".",
	pathnorm.ReasonUnicodeDotSegment: "The path contains a Unicode character that some servers read as a dot segment.",
	pathnorm.ReasonUnicodeSlash:      "The path contains a Unicode character that some servers read as a slash.",
}
