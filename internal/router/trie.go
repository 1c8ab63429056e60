package router

import (
	"fmt"
	"net/http"
	"slices"
	"unicode"
	"unicode/utf8"
)

// node is a segment trie over the patterns of one host pattern. The edge
// into a node is one path segment.
type node struct {
	// literals are the children for case-sensitive literal segments.
	literals map[string]*node
	// folded are the children for case-insensitive literal segments, keyed
	// by appendFold of the literal.
	folded map[string]*node
	// param is the child for a "{name}" segment.
	param *node
	// end holds the patterns that end at this node, rest the patterns that
	// end with "**" here.
	end, rest *slot
}

// slot is the set of routes that share one pattern on one host pattern.
// Their methods do not overlap, so the request method picks at most one.
type slot struct {
	entries []entry
	// allow lists the methods of all entries, sorted, for a 405 response.
	allow []string
}

// entry is one route's claim on a slot.
type entry struct {
	route int
	// methods are the route's methods; nil means any method.
	methods []string
	// params are the pattern's parameter names, in path order.
	params []string
	// field is the config path of the pattern, for conflict messages.
	field string
}

// insert adds the path of p to the trie and returns the slot of its last
// segment. ci makes its literal segments case-insensitive.
func (n *node) insert(p pattern, ci bool) *slot {
	cur := n
	for _, seg := range p.segments {
		switch seg.kind {
		case literalSegment:
			if ci {
				cur = childNode(&cur.folded, string(appendFold(nil, seg.text)))
			} else {
				cur = childNode(&cur.literals, seg.text)
			}
		case paramSegment:
			if cur.param == nil {
				cur.param = &node{}
			}
			cur = cur.param
		case restSegment:
			if cur.rest == nil {
				cur.rest = &slot{}
			}
			return cur.rest
		}
	}
	if cur.end == nil {
		cur.end = &slot{}
	}
	return cur.end
}

func childNode(children *map[string]*node, key string) *node {
	if *children == nil {
		*children = make(map[string]*node)
	}
	child := (*children)[key]
	if child == nil {
		child = &node{}
		(*children)[key] = child
	}
	return child
}

// add claims the slot for e, or returns an error naming the entry whose
// methods overlap. host names the host pattern in the message.
func (s *slot) add(e entry, host hostPattern) error {
	for _, other := range s.entries {
		if other.route == e.route {
			return fmt.Errorf("pattern matches the same paths on %s as %s of the same route: remove one", host, other.field)
		}
		if method, overlap := overlappingMethod(other.methods, e.methods); overlap {
			return fmt.Errorf("pattern conflicts with %s on %s for %s: give the routes different methods or hosts", other.field, host, method)
		}
	}
	s.entries = append(s.entries, e)

	s.allow = s.allow[:0]
	for _, x := range s.entries {
		s.allow = append(s.allow, x.methods...)
		if slices.Contains(x.methods, http.MethodGet) {
			s.allow = append(s.allow, http.MethodHead)
		}
	}
	slices.Sort(s.allow)
	s.allow = slices.Compact(s.allow)
	return nil
}

// overlappingMethod returns a method that both lists accept, where nil
// accepts every method.
func overlappingMethod(a, b []string) (string, bool) {
	switch {
	case a == nil && b == nil:
		return "every method", true
	case a == nil:
		return "method " + b[0], true
	case b == nil:
		return "method " + a[0], true
	}
	for _, m := range a {
		if slices.Contains(b, m) {
			return "method " + m, true
		}
	}
	return "", false
}

// pick returns the entry that serves method: the one that lists it, else
// one that accepts any method, else for HEAD one that lists GET.
func (s *slot) pick(method string) (*entry, bool) {
	for i := range s.entries {
		if slices.Contains(s.entries[i].methods, method) {
			return &s.entries[i], true
		}
	}
	for i := range s.entries {
		if s.entries[i].methods == nil {
			return &s.entries[i], true
		}
	}
	if method == http.MethodHead {
		for i := range s.entries {
			if slices.Contains(s.entries[i].methods, http.MethodGet) {
				return &s.entries[i], true
			}
		}
	}
	return nil, false
}

// span is the position of a bound parameter value in the path.
type span struct{ start, end int }

// matchState is the scratch space of one lookup. It lives on the caller's
// stack so that a lookup does not allocate.
type matchState struct {
	params [maxParams]span
	fold   [64]byte
}

// lookup returns the slot of the most specific pattern that matches the
// segments of path from byte pos on, and records parameter values from
// index nparams on. A segment starts at pos; a path that is used up (pos
// past its end, or only a trailing "/" left) ends at this node.
//
// At each node it tries the exact literal child, the case-insensitive
// literal child, the parameter child, and then "**" at this node, and it
// backtracks when a child's subtree has no match.
func (n *node) lookup(path string, pos, nparams int, st *matchState) *slot {
	if pos >= len(path) {
		if n.end != nil {
			return n.end
		}
		return n.rest
	}
	end := pos
	for end < len(path) && path[end] != '/' {
		end++
	}
	seg, next := path[pos:end], end+1

	if child := n.literals[seg]; child != nil {
		if s := child.lookup(path, next, nparams, st); s != nil {
			return s
		}
	}
	if len(n.folded) > 0 {
		if child := n.folded[string(appendFold(st.fold[:0], seg))]; child != nil {
			if s := child.lookup(path, next, nparams, st); s != nil {
				return s
			}
		}
	}
	if n.param != nil && seg != "" && nparams < maxParams {
		st.params[nparams] = span{start: pos, end: end}
		if s := n.param.lookup(path, next, nparams+1, st); s != nil {
			return s
		}
	}
	return n.rest
}

// appendFold appends the case-folded form of s to dst: every rune is
// replaced by the smallest rune of its Unicode simple case folding orbit,
// so two strings fold to the same bytes exactly when strings.EqualFold
// reports them equal. Bytes that are not valid UTF-8 are kept as they are.
func appendFold(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A' // the upper-case letter is the smaller rune
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, c)
			i++
			continue
		}
		dst = utf8.AppendRune(dst, foldRune(r))
		i += size
	}
	return dst
}

// foldRune returns the smallest rune of r's simple case folding orbit.
func foldRune(r rune) rune {
	smallest := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		smallest = min(smallest, f)
	}
	return smallest
}
