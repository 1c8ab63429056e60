// Package router matches a request's host, method and canonical path
// against the configured routes and computes the path to forward.
//
// Paths are matched after pathnorm.Normalize, so patterns only meet
// decoded paths without empty or dot segments. A trailing slash is
// ignored when matching: "/books" matches "/books" and "/books/".
//
// # Precedence
//
// When several routes match a request, the most specific one wins:
//
//  1. Host: routes listing the exact host, then routes listing a
//     "*.example.com" wildcard that covers it, then routes without hosts.
//     A less specific host is tried only when no pattern of a more specific
//     one matches the path.
//  2. Path: patterns are compared segment by segment from the left. At the
//     first segment where they differ, a literal beats a literal of a
//     case-insensitive route, which beats a "{param}", which beats "**". A
//     pattern that ends beats "**" at the same place, so "/static" wins
//     over "/static/**" for the path "/static". In effect the longest
//     literal prefix wins.
//  3. Method: the routes that share the winning pattern on the same host
//     pattern are chosen by method. A route that lists GET also serves
//     HEAD unless another route of the group lists HEAD. When none accepts
//     the method, Match returns 405 even if a less specific pattern would
//     accept it, so a method cannot move a request to a weaker route.
//
// Two routes with the same pattern (ignoring parameter names and a
// trailing slash) on the same host pattern and with a common method are a
// configuration error.
package router

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// Router matches requests against a fixed set of routes. It is immutable
// after New and safe for concurrent use.
type Router struct {
	routes []route
	// Tries by host pattern: exact hosts, wildcard suffixes, and the
	// routes without hosts (nil when there are none).
	exact    map[string]*node
	wildcard map[string]*node
	anyHost  *node
}

// route is the compiled forwarding part of a config.Route.
type route struct {
	caseInsensitive bool
	// strip is the strip_prefix pattern, with no segments when unset.
	strip pattern
	// rewrite is the rewrite template, nil when unset.
	rewrite []rewritePart
}

// Match is the result of matching one request.
type Match struct {
	// Index is the index of the matched route in the config routes, or -1
	// when Status is not 0.
	Index int
	// Params are the bound path parameters, in path order. Values are the
	// decoded segment text as the client sent it, also for case-insensitive
	// routes. Nil when the pattern has none.
	Params []pipeline.Param
	// Status is 0 on a match, 404 when no pattern matches the path and 405
	// when a pattern matches but none of its routes accepts the method.
	Status int
	// Allow lists the methods of the matched pattern for the Allow header
	// of a 405 response, sorted. It is shared: callers must not modify it.
	Allow []string
}

// New compiles routes into a Router. Its error is config.Errors with field
// paths such as "routes[1].paths[0]". It reports invalid names, hosts,
// methods, patterns, strip prefixes and rewrites, and routes that claim the
// same pattern on the same host pattern for a common method.
func New(routes []config.Route) (*Router, error) {
	r := &Router{
		routes:   make([]route, len(routes)),
		exact:    make(map[string]*node),
		wildcard: make(map[string]*node),
	}
	var errs config.Errors
	names := make(map[string]int, len(routes))
	for i := range routes {
		field := fmt.Sprintf("routes[%d]", i)
		rt := &routes[i]
		if rt.Name == "" {
			errs.Add(field+".name", "missing route name")
		} else if first, dup := names[rt.Name]; dup {
			errs.Add(field+".name", "duplicate route name %q: also used by routes[%d]", rt.Name, first)
		} else {
			names[rt.Name] = i
		}
		r.addRoute(&errs, field, i, rt)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// addRoute compiles route i and inserts its patterns, recording problems in
// errs under field.
func (r *Router) addRoute(errs *config.Errors, field string, i int, rt *config.Route) {
	methods := checkMethods(errs, field, rt.Methods)
	hosts := checkHosts(errs, field, rt.Hosts)

	if len(rt.Paths) == 0 {
		errs.Add(field+".paths", `at least one path pattern is required, such as "/books/{id}" or "/static/**"`)
	}
	syntax := patternSyntax{allowRest: true, allowParams: true, allowEncodedSlash: rt.AllowEncodedSlash}
	patterns := make([]pattern, 0, len(rt.Paths))
	fields := make([]string, 0, len(rt.Paths))
	for j, raw := range rt.Paths {
		pf := fmt.Sprintf("%s.paths[%d]", field, j)
		p, err := parsePattern(raw, syntax)
		if err != nil {
			errs.Add(pf, "%s", err)
			continue
		}
		patterns, fields = append(patterns, p), append(fields, pf)
	}

	r.routes[i] = compileForward(errs, field, rt, patterns, fields)

	for k, p := range patterns {
		for _, h := range hosts {
			s := r.tree(h).insert(p, rt.CaseInsensitive)
			e := entry{route: i, methods: methods, params: p.params, field: fields[k]}
			if err := s.add(e, h); err != nil {
				errs.Add(fields[k], "%s", err)
			}
		}
	}
}

// tree returns the trie for host pattern h, creating it.
func (r *Router) tree(h hostPattern) *node {
	switch h.kind {
	case exactHost:
		return treeFor(r.exact, h.key)
	case wildcardHost:
		return treeFor(r.wildcard, h.key)
	}
	if r.anyHost == nil {
		r.anyHost = &node{}
	}
	return r.anyHost
}

func treeFor(trees map[string]*node, key string) *node {
	t := trees[key]
	if t == nil {
		t = &node{}
		trees[key] = t
	}
	return t
}

// checkMethods validates Route.Methods and returns them, or nil for any
// method. Methods are case-sensitive tokens, as in RFC 9110.
func checkMethods(errs *config.Errors, field string, methods []string) []string {
	if len(methods) == 0 {
		return nil
	}
	for j, m := range methods {
		mf := fmt.Sprintf("%s.methods[%d]", field, j)
		switch {
		case !validToken(m):
			errs.Add(mf, "invalid method %q: use an HTTP method such as GET", m)
		case slices.Contains(methods[:j], m):
			errs.Add(mf, "duplicate method %q", m)
		}
	}
	return slices.Clone(methods)
}

// checkHosts parses Route.Hosts; no hosts means any host.
func checkHosts(errs *config.Errors, field string, hosts []string) []hostPattern {
	if len(hosts) == 0 {
		return []hostPattern{{kind: anyHost}}
	}
	parsed := make([]hostPattern, 0, len(hosts))
	for j, raw := range hosts {
		hf := fmt.Sprintf("%s.hosts[%d]", field, j)
		h, err := parseHost(raw)
		switch {
		case err != nil:
			errs.Add(hf, "%s", err)
		case slices.Contains(parsed, h):
			errs.Add(hf, "duplicate host %q", raw)
		default:
			parsed = append(parsed, h)
		}
	}
	return parsed
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c < 0x80 && isTokenSymbol(c):
		default:
			return false
		}
	}
	return true
}

func isTokenSymbol(c byte) bool {
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// Match returns the route for a request. host is the Host header value
// (a port is ignored), method the request method, and decodedPath the
// Path.Decoded of pathnorm.Normalize. It allocates the Params slice when
// the pattern binds parameters, and otherwise only for a host longer than
// 128 bytes or a segment longer than 64 bytes that meets a case-insensitive
// literal.
func (r *Router) Match(host, method, decodedPath string) Match {
	if decodedPath == "" || decodedPath[0] != '/' {
		return Match{Index: -1, Status: http.StatusNotFound}
	}
	var st matchState
	var hostBuf [128]byte
	key := appendHostKey(hostBuf[:0], host)

	if t := r.exact[string(key)]; t != nil {
		if m, ok := matchTree(t, method, decodedPath, &st); ok {
			return m
		}
	}
	if dot := bytes.IndexByte(key, '.'); dot > 0 {
		if t := r.wildcard[string(key[dot+1:])]; t != nil {
			if m, ok := matchTree(t, method, decodedPath, &st); ok {
				return m
			}
		}
	}
	if r.anyHost != nil {
		if m, ok := matchTree(r.anyHost, method, decodedPath, &st); ok {
			return m
		}
	}
	return Match{Index: -1, Status: http.StatusNotFound}
}

// matchTree matches path in one host pattern's trie. It reports false when
// no pattern matches, so that the caller can try a less specific host.
func matchTree(t *node, method, path string, st *matchState) (Match, bool) {
	s := t.lookup(path, 1, 0, st)
	if s == nil {
		return Match{}, false
	}
	e, ok := s.pick(method)
	if !ok {
		return Match{Index: -1, Status: http.StatusMethodNotAllowed, Allow: s.allow}, true
	}
	m := Match{Index: e.route}
	if len(e.params) > 0 {
		m.Params = make([]pipeline.Param, len(e.params))
		for i, name := range e.params {
			sp := st.params[i]
			m.Params[i] = pipeline.Param{Name: name, Value: path[sp.start:sp.end]}
		}
	}
	return m, true
}
