package pathnorm

import (
	"fmt"
	"net/http"
)

// Reason codes of an *Error. They are stable snake_case values for events,
// metrics and problem details.
const (
	// ReasonNotAbsolute: the path is empty or does not start with "/".
	// Callers handle the asterisk-form "*" and the absolute-form
	// "http://host/path" before calling Normalize.
	ReasonNotAbsolute = "not_absolute"
	// ReasonPathTooLong: the raw path is longer than Options.MaxBytes.
	ReasonPathTooLong = "path_too_long"
	// ReasonInvalidEscape: a "%" is not followed by two hex digits.
	ReasonInvalidEscape = "invalid_escape"
	// ReasonInvalidCharacter: a raw space, "#" or "?" in the path.
	ReasonInvalidCharacter = "invalid_character"
	// ReasonBackslash: a raw "\" in the path.
	ReasonBackslash = "backslash"
	// ReasonEncodedSlash: "%2F" inside a segment without AllowEncodedSlash.
	ReasonEncodedSlash = "encoded_slash"
	// ReasonEncodedBackslash: "%5C" inside a segment without
	// AllowEncodedSlash.
	ReasonEncodedBackslash = "encoded_backslash"
	// ReasonControlCharacter: a raw or encoded C0 control, DEL, or a C1
	// control code point (U+0080 to U+009F).
	ReasonControlCharacter = "control_character"
	// ReasonInvalidUTF8: the decoded path is not valid UTF-8. Overlong
	// forms such as "%C0%AE" and encoded surrogates are invalid.
	ReasonInvalidUTF8 = "invalid_utf8"
	// ReasonDoubleEncoding: the decoded path still contains "%" followed
	// by two hex digits, as in "%252e".
	ReasonDoubleEncoding = "double_encoding"
	// ReasonDotSegmentEncoded: a "." or ".." segment written with "%2E".
	ReasonDotSegmentEncoded = "dot_segment_encoded"
	// ReasonDotSegmentParams: a dot segment with path parameters, such as
	// "..;x" or ".;", which Tomcat-style servers resolve as "..".
	ReasonDotSegmentParams = "dot_segment_params"
	// ReasonDotSegmentVariant: a segment of only dots and spaces other
	// than "." and "..", such as "..." or ".. ".
	ReasonDotSegmentVariant = "dot_segment_variant"
	// ReasonAboveRoot: a ".." segment would climb above "/".
	ReasonAboveRoot = "above_root"
	// ReasonUnicodeDotSegment: a segment whose Unicode compatibility form
	// (NFKC) is a dot segment, such as fullwidth "．．".
	ReasonUnicodeDotSegment = "unicode_dot_segment"
	// ReasonUnicodeSlash: a segment whose compatibility form contains "/"
	// or "\", such as fullwidth "／". AllowEncodedSlash does not lift it.
	ReasonUnicodeSlash = "unicode_slash"
)

// Error is a rejected path. Reason is safe to show to clients. The message
// of Error() names the problem and its byte offset but never repeats the
// path, which may be large or hostile.
type Error struct {
	// Reason is one of the Reason constants.
	Reason string
	// Status is the HTTP status of the error response: 414 for ReasonPathTooLong, 400
	// for every other reason.
	Status int
	// Offset is the byte offset in the raw path where the problem starts,
	// or -1 when it concerns the whole path.
	Offset int

	// size and limit are the raw length and the maximum for
	// ReasonPathTooLong.
	size, limit int
}

func (e *Error) Error() string {
	if e.Reason == ReasonPathTooLong {
		return fmt.Sprintf("invalid request path: %d bytes, longer than the maximum of %d bytes", e.size, e.limit)
	}
	if e.Offset < 0 {
		return "invalid request path: " + describe(e.Reason)
	}
	return fmt.Sprintf("invalid request path: %s at byte %d", describe(e.Reason), e.Offset)
}

func reject(reason string, offset int) *Error {
	return &Error{Reason: reason, Status: http.StatusBadRequest, Offset: offset}
}

// describe returns the phrase for a reason in error messages.
func describe(reason string) string {
	switch reason {
	case ReasonNotAbsolute:
		return `path does not start with "/"`
	case ReasonInvalidEscape:
		return `"%" not followed by two hex digits`
	case ReasonInvalidCharacter:
		return `raw space, "#" or "?"`
	case ReasonBackslash:
		return "raw backslash"
	case ReasonEncodedSlash:
		return "encoded slash (%2F) inside a segment"
	case ReasonEncodedBackslash:
		return "encoded backslash (%5C) inside a segment"
	case ReasonControlCharacter:
		return "control character"
	case ReasonInvalidUTF8:
		return "invalid UTF-8 after decoding"
	case ReasonDoubleEncoding:
		return "percent-encoded sequence that is still encoded after decoding"
	case ReasonDotSegmentEncoded:
		return "percent-encoded dot segment"
	case ReasonDotSegmentParams:
		return `dot segment with path parameters (";")`
	case ReasonDotSegmentVariant:
		return "segment of only dots and spaces"
	case ReasonAboveRoot:
		return `".." segment above the root`
	case ReasonUnicodeDotSegment:
		return "segment whose Unicode compatibility form is a dot segment"
	case ReasonUnicodeSlash:
		return "segment whose Unicode compatibility form contains a slash or backslash"
	}
	return reason
}
