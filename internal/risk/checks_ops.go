package risk

import (
	"sort"
	"strconv"
	"strings"
)

// checkDocument runs the rules about the document as a whole.
func (r *run) checkDocument(m *model) {
	if m.spec.swagger2 {
		r.report(idSwagger2, m.root.child("swagger"), "", "the description uses Swagger 2.0")
	}
	if len(m.schemes) == 0 && len(m.ops) > 0 {
		r.report(idNoSchemes, m.root, "", "the description defines no security scheme (operations: %d)", len(m.ops))
	}
	for _, d := range m.spec.dangling {
		r.report(idDanglingRef, d.loc, "", "$ref %q points at nothing", d.ref)
	}
	r.checkOperationIDs(m)
	r.checkVersions(m)
	r.checkCORS(m)
}

func (r *run) checkOperationIDs(m *model) {
	first := map[string]*operation{}
	for _, list := range [][]*operation{m.ops, m.hooks} {
		for _, o := range list {
			id := o.op.OperationID
			if id == "" {
				if o.kind == pathOp {
					r.report(idNoOperationID, o.loc, "", "%s has no operationId", o.name())
				}
				continue
			}
			if prev, ok := first[id]; ok {
				r.report(idDuplicateOpID, o.loc.child("operationId"), "", "%s uses operationId %q, which %s uses already", o.name(), id, prev.name())
				continue
			}
			first[id] = o
		}
	}
}

// checkVersions reports the paths of each API version older than the
// newest one, once per version, at the first such path.
func (r *run) checkVersions(m *model) {
	firstPath := map[int]*operation{}
	for _, o := range m.ops {
		for _, seg := range strings.Split(o.path, "/") {
			if v := versionSegment.FindStringSubmatch(seg); v != nil {
				n, _ := strconv.Atoi(v[1])
				if _, ok := firstPath[n]; !ok {
					firstPath[n] = o
				}
				break
			}
		}
	}
	if len(firstPath) < 2 {
		return
	}
	versions := make([]int, 0, len(firstPath))
	for v := range firstPath {
		versions = append(versions, v)
	}
	sort.Ints(versions)
	newest := versions[len(versions)-1]
	for _, v := range versions[:len(versions)-1] {
		o := firstPath[v]
		r.report(idOldVersion, m.root.child("paths", o.path), "", "paths of API version v%d, such as %s, are served next to v%d", v, o.path, newest)
	}
}

// checkCORS reports wildcard origins, or the absence of any CORS header.
func (r *run) checkCORS(m *model) {
	documented := false
	for _, o := range m.ops {
		for _, resp := range o.responses {
			for _, h := range resp.headers {
				if !strings.EqualFold(h.name, "Access-Control-Allow-Origin") {
					continue
				}
				documented = true
				if headerAllowsWildcard(h) {
					r.report(idCORSWildcard, h.loc, "", "%s returns Access-Control-Allow-Origin: *", o.name())
				}
			}
		}
	}
	if !documented && len(m.ops) > 0 {
		r.report(idNoCORS, m.root, "", "no response documents Access-Control-Allow-Origin")
	}
}

func headerAllowsWildcard(h *header) bool {
	values := []any{h.h.Example}
	for _, ex := range h.h.Examples {
		if ex != nil && ex.Value != nil {
			values = append(values, ex.Value.Value)
		}
	}
	if h.h.Schema != nil && h.h.Schema.Value != nil {
		s := h.h.Schema.Value
		values = append(values, s.Default, s.Example, s.Const)
		values = append(values, s.Enum...)
	}
	for _, v := range values {
		if str, ok := v.(string); ok && strings.TrimSpace(str) == "*" {
			return true
		}
	}
	return false
}

// rateLimitsDocumented reports whether any operation documents a 429
// response or a rate limit header, which shows that the API has limits.
func rateLimitsDocumented(m *model) bool {
	for _, o := range m.ops {
		for _, resp := range o.responses {
			if resp.code == "429" {
				return true
			}
			for _, h := range resp.headers {
				n := normalizeName(h.name)
				if strings.Contains(n, "ratelimit") || n == "retryafter" {
					return true
				}
			}
		}
	}
	return false
}

// checkOperationResponses runs the rules about documented responses.
func (r *run) checkOperationResponses(m *model, o *operation, limited bool) {
	if o.secured() && !o.documents("401") {
		r.report(idMissing401, o.loc.child("responses"), "", "%s requires authentication but documents no 401 response", o.name())
	}
	if o.secured() && (hasScopes(o) || hasIdentifierParam(o)) && !o.documents("403") {
		r.report(idMissing403, o.loc.child("responses"), "", "%s checks permissions but documents no 403 response", o.name())
	}

	has429 := o.documents("429")
	flagged := false
	if !has429 && o.writes() && credentialPath.MatchString(o.path) {
		r.report(idLoginNo429, o.loc.child("responses"), "", "%s takes credentials and documents no 429 response", o.name())
		flagged = true
	}
	if !has429 && o.method != "DELETE" && o.writes() && businessPath.MatchString(o.path) {
		r.report(idBusinessFlow, o.loc.child("responses"), "", "%s looks like a sensitive business flow and documents no 429 response", o.name())
		flagged = true
	}
	if !has429 && limited && !flagged {
		r.report(idMissing429, o.loc.child("responses"), "", "%s documents no 429 response, although the API documents rate limits", o.name())
	}
	if o.method == "GET" && returnsList(o) && !hasPaginationParam(o) {
		r.report(idNoPagination, o.loc, "", "%s returns a list and takes no limit or page parameter", o.name())
	}
}

func hasScopes(o *operation) bool {
	for _, req := range o.security {
		for _, scopes := range req {
			if len(scopes) > 0 {
				return true
			}
		}
	}
	return false
}

func hasIdentifierParam(o *operation) bool {
	for _, p := range o.params {
		if p.p.In == "path" && isIdentifierName(p.p.Name) {
			return true
		}
	}
	return false
}

func hasPaginationParam(o *operation) bool {
	for _, p := range o.params {
		if p.p.In == "query" && (isPageSizeName(p.p.Name) || isPageParamName(p.p.Name)) {
			return true
		}
	}
	return false
}

// returnsList reports whether a success response is an array, or an object
// that wraps an array under a name such as data, items or results.
func returnsList(o *operation) bool {
	for _, resp := range o.responses {
		if !strings.HasPrefix(resp.code, "2") {
			continue
		}
		for _, md := range resp.media {
			if md.schema == nil || md.schema.Value == nil {
				continue
			}
			s := md.schema.Value
			if hasType(s, "array") {
				return true
			}
			for name, p := range s.Properties {
				if p != nil && p.Value != nil && hasType(p.Value, "array") &&
					oneOf(normalizeName(name), "data", "items", "results", "records", "entries", "list", "values", "content", "hits", "elements") {
					return true
				}
			}
		}
	}
	return false
}

// checkOperationMisc runs the rules about the operation itself and its
// request body media types.
func (r *run) checkOperationMisc(o *operation) {
	if o.op.Deprecated {
		r.report(idDeprecated, o.loc, "", "%s is deprecated but still described", o.name())
	}
	if o.method == "TRACE" {
		r.report(idTraceMethod, o.loc, "", "%s is a TRACE operation", o.name())
	}
	if o.body == nil {
		return
	}
	for _, md := range o.body.media {
		entry := md.entry
		if strings.Contains(strings.ToLower(md.typ), "xml") {
			r.report(idXMLBody, entry, "", "%s accepts %s request bodies", o.name(), md.typ)
		}
		if md.schema == nil {
			r.report(idBodyWithoutSchema, entry, "", "%s: request body %s has no schema", o.name(), md.typ)
		}
	}
}

// checkHook runs the rules about webhooks and callbacks.
func (r *run) checkHook(o *operation) {
	itemLoc := o.loc
	itemLoc.ptr = itemLoc.ptr[:strings.LastIndex(itemLoc.ptr, "/")]
	if o.kind == callbackOp {
		if strings.Contains(o.path, "{$request.") {
			r.report(idCallbackURL, itemLoc, "", "callback of %s is sent to %s, a URL taken from the request", o.parent.name(), o.path)
		}
		if isPlainHTTP(o.path) {
			r.report(idCallbackHTTP, itemLoc, "", "callback of %s is sent over http: %s", o.parent.name(), o.path)
		}
	}
	if !o.secured() {
		hook := "webhook " + o.path
		if o.kind == callbackOp {
			hook = "callback " + o.path + " of " + o.parent.name()
		}
		r.report(idHookNoAuth, o.loc, "", "%s (%s) has no security requirement", hook, o.method)
	}
}
