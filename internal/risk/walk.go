package risk

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxSchemaDepth bounds recursion into nested schemas, which protects
// against pathological documents. Cycles are cut by the visited set.
const maxSchemaDepth = 64

type direction int

const (
	dirRequest direction = iota
	dirResponse
)

// schemaVisit is one schema reached from an operation, with the context
// that schema checks need.
type schemaVisit struct {
	s     *openapi3.Schema
	loc   location
	name  string // property or parameter name, "" at a body root or in items
	prop  bool   // s is the schema of an object property
	param *param // set at the root of a parameter's schema
	op    *operation
	dir   direction
	resp  *response
	media *media
	// composed is set on the members of allOf, whose properties may be
	// completed by their siblings.
	composed bool
	depth    int
}

// walker visits every schema of an API once per context. A schema shared
// by many operations is checked once, at its definition, so a finding
// there is reported once.
type walker struct {
	m       *model
	visit   func(*schemaVisit)
	visited map[string]bool
}

// walkAll walks the schemas of the API's own operations. Webhooks and
// callbacks are left out: their request bodies are sent by the API, not
// received, so the input rules do not apply to them.
func (w *walker) walkAll() {
	for _, o := range w.m.ops {
		w.walkOperation(o)
	}
}

func (w *walker) walkOperation(o *operation) {
	for _, p := range o.params {
		w.walk(p.schema, p.schemaLoc, schemaVisit{op: o, dir: dirRequest, param: p, name: p.p.Name}, "req")
	}
	if o.body != nil {
		for _, md := range o.body.media {
			w.walk(md.schema, md.loc, schemaVisit{op: o, dir: dirRequest, media: md}, "req")
		}
	}
	variant := "resp"
	if isAuthEndpoint(o) {
		variant += ":auth"
	}
	for _, r := range o.responses {
		v := variant
		if isErrorStatus(r.code) {
			v += ":error"
		}
		for _, md := range r.media {
			w.walk(md.schema, md.loc, schemaVisit{op: o, dir: dirResponse, resp: r, media: md}, v)
		}
	}
}

func (w *walker) walk(ref *openapi3.SchemaRef, loc location, v schemaVisit, variant string) {
	if ref == nil || ref.Value == nil || v.depth > maxSchemaDepth {
		return
	}
	// A nested $ref is located at its target, so a schema reached through
	// references is always reported where it is defined. Root locations
	// arrive resolved already.
	if v.depth > 0 {
		loc = w.m.schemaLoc(ref, loc)
	}
	key := variant + "\x00" + loc.file + "\x00" + loc.ptr
	if w.visited[key] {
		return
	}
	w.visited[key] = true

	v.s, v.loc = ref.Value, loc
	w.visit(&v)
	w.children(&v, variant)
}

func (w *walker) children(v *schemaVisit, variant string) {
	s, loc := v.s, v.loc
	next := func(name string, prop, composed bool) schemaVisit {
		return schemaVisit{name: name, prop: prop, composed: composed, op: v.op, dir: v.dir, resp: v.resp, media: v.media, depth: v.depth + 1}
	}
	for _, name := range sortedKeys(s.Properties) {
		child := loc.child("properties", name)
		if v.depth == 0 && v.media != nil && v.media.propLocs != nil {
			if l, ok := v.media.propLocs[name]; ok {
				child = l
			}
		}
		w.walk(s.Properties[name], child, next(name, true, false), variant)
	}
	if s.Items != nil {
		w.walk(s.Items, loc.child("items"), next(v.name, false, false), variant)
	}
	if s.AdditionalProperties.Schema != nil {
		w.walk(s.AdditionalProperties.Schema, loc.child("additionalProperties"), next("", false, false), variant)
	}
	composites := []struct {
		keyword string
		list    openapi3.SchemaRefs
	}{{"allOf", s.AllOf}, {"anyOf", s.AnyOf}, {"oneOf", s.OneOf}, {"prefixItems", s.PrefixItems}}
	for _, c := range composites {
		for i, member := range c.list {
			w.walk(member, loc.child(c.keyword).index(i), next(v.name, v.prop, c.keyword == "allOf"), variant)
		}
	}
}

// isErrorStatus reports whether a response code is a client or server
// error, or the default response, which usually describes errors.
func isErrorStatus(code string) bool {
	return code == "default" || strings.HasPrefix(code, "4") || strings.HasPrefix(code, "5")
}

// schemaTypes returns the declared types of s, or the type implied by its
// keywords when none is declared.
func schemaTypes(s *openapi3.Schema) []string {
	if s.Type != nil && len(*s.Type) > 0 {
		return *s.Type
	}
	switch {
	case len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil:
		return []string{"object"}
	case s.Items != nil:
		return []string{"array"}
	}
	return nil
}

func hasType(s *openapi3.Schema, typ string) bool {
	for _, t := range schemaTypes(s) {
		if t == typ {
			return true
		}
	}
	return false
}
