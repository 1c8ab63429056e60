package pathnorm

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Markers that stand for an allowed encoded slash or backslash inside a
// decoded segment.
const (
	slashMarker     = "%2F"
	backslashMarker = "%5C"
)

// normalizer holds the state of one slow-path Normalize call.
type normalizer struct {
	opt Options

	// dec and esc are the decoded and escaped output so far.
	dec, esc []byte
	// starts are the offsets in dec and esc where each kept segment's
	// leading "/" is, so that ".." can drop the last one.
	starts []segmentStart

	// The current segment: its decoded bytes, the literal "%" characters
	// in it, and what decoding saw.
	seg         []byte
	percents    []literalPercent
	encodedDot  bool
	hasMarker   bool
	hasNonASCII bool

	// sawMarker records an allowed encoded slash in any segment so far.
	sawMarker bool
}

type segmentStart struct{ dec, esc int }

// literalPercent is a "%" that came from "%25": its offset in the decoded
// segment and in the raw path.
type literalPercent struct{ dec, raw int }

// addSegment decodes and checks one non-empty raw segment that starts at
// byte offset in the raw path, then appends it to the output or applies it
// as a dot segment. It reports whether the segment was "." or "..".
func (n *normalizer) addSegment(raw string, offset int) (dot bool, err error) {
	if err := n.decode(raw, offset); err != nil {
		return false, err
	}
	if err := n.check(offset); err != nil {
		return false, err
	}

	switch string(n.seg) { // the conversion in a switch does not allocate
	case ".":
		if n.encodedDot {
			return false, reject(ReasonDotSegmentEncoded, offset)
		}
		return true, nil
	case "..":
		if n.encodedDot {
			return false, reject(ReasonDotSegmentEncoded, offset)
		}
		if len(n.starts) == 0 {
			return false, reject(ReasonAboveRoot, offset)
		}
		top := n.starts[len(n.starts)-1]
		n.starts = n.starts[:len(n.starts)-1]
		n.dec, n.esc = n.dec[:top.dec], n.esc[:top.esc]
		return true, nil
	}

	n.starts = append(n.starts, segmentStart{dec: len(n.dec), esc: len(n.esc)})
	n.dec = append(n.dec, '/')
	n.dec = append(n.dec, n.seg...)
	n.esc = append(n.esc, '/')
	n.esc = appendEscaped(n.esc, n.seg)
	return false, nil
}

// decode percent-decodes raw into n.seg and rejects characters that must
// not appear in it raw or encoded.
func (n *normalizer) decode(raw string, offset int) error {
	n.seg, n.percents = n.seg[:0], n.percents[:0]
	n.encodedDot, n.hasMarker, n.hasNonASCII = false, false, false

	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return reject(ReasonInvalidEscape, offset+i)
			}
			if err := n.addDecoded(unhex(raw[i+1])<<4|unhex(raw[i+2]), offset+i); err != nil {
				return err
			}
			i += 2
		case c == '\\':
			return reject(ReasonBackslash, offset+i)
		case c < 0x20 || c == 0x7f:
			return reject(ReasonControlCharacter, offset+i)
		case c == ' ' || c == '#' || c == '?':
			return reject(ReasonInvalidCharacter, offset+i)
		default:
			n.seg = append(n.seg, c)
			n.hasNonASCII = n.hasNonASCII || c >= utf8.RuneSelf
		}
	}
	return nil
}

// addDecoded appends the byte v that "%XX" at rawOffset decoded to.
func (n *normalizer) addDecoded(v byte, rawOffset int) error {
	switch {
	case v == '/' || v == '\\':
		if !n.opt.AllowEncodedSlash {
			if v == '/' {
				return reject(ReasonEncodedSlash, rawOffset)
			}
			return reject(ReasonEncodedBackslash, rawOffset)
		}
		marker := slashMarker
		if v == '\\' {
			marker = backslashMarker
		}
		n.seg = append(n.seg, marker...)
		n.hasMarker, n.sawMarker = true, true
	case v < 0x20 || v == 0x7f:
		return reject(ReasonControlCharacter, rawOffset)
	case v == '%':
		n.percents = append(n.percents, literalPercent{dec: len(n.seg), raw: rawOffset})
		n.seg = append(n.seg, '%')
	default:
		n.encodedDot = n.encodedDot || v == '.'
		n.hasNonASCII = n.hasNonASCII || v >= utf8.RuneSelf
		n.seg = append(n.seg, v)
	}
	return nil
}

// check applies the checks that need the whole decoded segment, except the
// plain "." and ".." cases, which addSegment resolves.
func (n *normalizer) check(offset int) error {
	for _, p := range n.percents {
		if p.dec+2 < len(n.seg) && isHex(n.seg[p.dec+1]) && isHex(n.seg[p.dec+2]) {
			return reject(ReasonDoubleEncoding, p.raw)
		}
	}

	if n.hasNonASCII {
		if err := checkUnicode(n.seg, offset); err != nil {
			return err
		}
	}

	if !n.hasMarker {
		if isDotSegment(n.seg) {
			return nil
		}
		return checkDotLike(n.seg, offset, ReasonDotSegmentVariant)
	}
	// An upstream that decodes "%2F" before it resolves dot segments treats
	// each part between encoded slashes as a segment.
	for part := range splitMarkers(string(n.seg)) {
		if isDotSegment(part) {
			return reject(ReasonDotSegmentEncoded, offset)
		}
		if err := checkDotLike(part, offset, ReasonDotSegmentVariant); err != nil {
			return err
		}
	}
	return nil
}

func isDotSegment[T ~string | ~[]byte](seg T) bool {
	return string(seg) == "." || string(seg) == ".."
}

// checkDotLike rejects a segment that is not "." or ".." but that some
// servers read as one: a dot segment with ";" parameters, or a segment of
// only dots and spaces. variant is the reason for the second case.
func checkDotLike[T ~string | ~[]byte](seg T, offset int, variant string) error {
	onlyDotsAndSpaces, dots := true, 0
	for i := 0; i < len(seg); i++ {
		switch seg[i] {
		case '.':
			dots++
		case ' ':
		case ';':
			if onlyDotsAndSpaces && isDotSegment(seg[:i]) {
				return reject(ReasonDotSegmentParams, offset)
			}
			onlyDotsAndSpaces = false
		default:
			onlyDotsAndSpaces = false
		}
	}
	if onlyDotsAndSpaces && dots > 0 && !isDotSegment(seg) {
		return reject(variant, offset)
	}
	return nil
}

// checkUnicode validates the UTF-8 of a decoded segment with non-ASCII
// bytes and rejects C1 controls and compatibility forms of separators and
// dot segments.
func checkUnicode(seg []byte, offset int) error {
	if !utf8.Valid(seg) {
		return reject(ReasonInvalidUTF8, offset)
	}
	for _, r := range string(seg) {
		if r >= 0x80 && r <= 0x9f {
			return reject(ReasonControlCharacter, offset)
		}
	}

	compat := norm.NFKC.Bytes(seg)
	if bytes.Equal(compat, seg) {
		return nil
	}
	// The slash check comes first and does not depend on AllowEncodedSlash,
	// so Path.HasEncodedSlash finds every separator hidden in a segment.
	if bytes.ContainsAny(compat, `/\`) {
		return reject(ReasonUnicodeSlash, offset)
	}
	for part := range splitMarkers(string(compat)) {
		if isDotSegment(part) || checkDotLike(part, offset, ReasonUnicodeDotSegment) != nil {
			return reject(ReasonUnicodeDotSegment, offset)
		}
	}
	return nil
}

// splitMarkers yields the parts of a decoded segment between encoded
// slash and backslash markers.
func splitMarkers(seg string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for {
			i := strings.Index(seg, slashMarker)
			if j := strings.Index(seg, backslashMarker); j >= 0 && (i < 0 || j < i) {
				i = j
			}
			if i < 0 {
				yield(seg)
				return
			}
			if !yield(seg[:i]) {
				return
			}
			seg = seg[i+len(slashMarker):]
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
