package risk

import (
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// opKind separates path operations from the requests an API sends itself.
type opKind int

const (
	pathOp opKind = iota
	webhookOp
	callbackOp
)

// operation is one operation with everything the checks need, resolved,
// and the source location of each part.
type operation struct {
	kind   opKind
	method string // upper case
	path   string // path template, webhook name or callback expression
	parent *operation
	op     *openapi3.Operation
	loc    location

	params    []*param
	body      *body
	responses []*response

	// security is the effective requirement list: the operation's own, or
	// the root's when the operation has none.
	security    openapi3.SecurityRequirements
	securityLoc location
	ownSecurity bool
}

func (o *operation) name() string { return o.method + " " + o.path }

func (o *operation) writes() bool {
	switch o.method {
	case "POST", "PUT", "PATCH", "DELETE":
		return true
	}
	return false
}

// secured reports whether every alternative of the security requirements
// names at least one scheme, so anonymous requests are refused.
func (o *operation) secured() bool {
	if len(o.security) == 0 {
		return false
	}
	for _, req := range o.security {
		if len(req) == 0 {
			return false
		}
	}
	return true
}

// documents reports whether the operation declares the status code, either
// exactly or through a range such as "4XX".
func (o *operation) documents(code string) bool {
	for _, r := range o.responses {
		if r.code == code || strings.EqualFold(r.code, code[:1]+"XX") {
			return true
		}
	}
	return false
}

type param struct {
	p         *openapi3.Parameter
	loc       location
	schema    *openapi3.SchemaRef
	schemaLoc location
}

type body struct {
	loc   location
	media []*media
}

type media struct {
	typ    string
	schema *openapi3.SchemaRef
	loc    location // of the schema
	entry  location // of the media type entry, or of the Swagger 2.0 parameter
	// propLocs locates the properties of a Swagger 2.0 form body, whose
	// properties are formData parameters in the source.
	propLocs map[string]location
}

type response struct {
	code    string
	loc     location
	media   []*media
	headers []*header
}

type header struct {
	name string
	h    *openapi3.Header
	loc  location
}

type scheme struct {
	name string
	s    *openapi3.SecurityScheme
	loc  location
}

// flowLoc returns the location of an OAuth2 flow. Swagger 2.0 schemes
// contain their single flow inline.
func (m *model) flowLoc(sc *scheme, flow string) location {
	if m.spec.swagger2 {
		return sc.loc
	}
	return sc.loc.child("flows", flow)
}

type server struct {
	url string // with variables replaced by their defaults
	raw string
	s   *openapi3.Server
	loc location
}

// model is an API description flattened for the checks.
type model struct {
	spec    *Spec
	doc     *openapi3.T
	root    location
	ops     []*operation // path operations, in path order
	hooks   []*operation // webhooks and callbacks
	schemes []*scheme
	servers []*server
}

var methodOrder = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "CONNECT"}

func buildModel(spec *Spec) *model {
	m := &model{spec: spec, doc: spec.doc, root: location{file: spec.File}}
	m.buildSchemes()
	m.buildServers()
	for _, p := range sortedKeys(m.doc.Paths.Map()) {
		item := m.doc.Paths.Value(p)
		m.ops = append(m.ops, m.pathItemOps(pathOp, p, item, m.root.child("paths", p), nil)...)
	}
	for _, name := range sortedKeys(m.doc.Webhooks) {
		m.hooks = append(m.hooks, m.pathItemOps(webhookOp, name, m.doc.Webhooks[name], m.root.child("webhooks", name), nil)...)
	}
	for _, op := range m.ops {
		m.hooks = append(m.hooks, m.callbackOps(op)...)
	}
	return m
}

func sortedKeys[V any](in map[string]V) []string {
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (m *model) pathItemOps(kind opKind, path string, item *openapi3.PathItem, loc location, parent *operation) []*operation {
	if item == nil {
		return nil
	}
	if item.Ref != "" {
		loc = loc.follow(m.srcRef(item.Ref))
	}
	ops := item.Operations()
	var out []*operation
	for _, method := range methodOrder {
		op := ops[method]
		if op == nil {
			continue
		}
		o := &operation{kind: kind, method: method, path: path, op: op, parent: parent}
		o.loc = loc.child(strings.ToLower(method))
		m.buildSecurity(o)
		o.params = m.buildParams(item, loc, o)
		o.body = m.buildBody(o, loc)
		o.responses = m.buildResponses(o)
		out = append(out, o)
	}
	return out
}

func (m *model) buildSecurity(o *operation) {
	if o.op.Security != nil {
		o.security = *o.op.Security
		o.securityLoc = o.loc.child("security")
		o.ownSecurity = true
		return
	}
	if o.kind != pathOp {
		// Root security applies to the API's own operations, not to the
		// requests it sends to webhooks and callbacks.
		return
	}
	o.security = m.doc.Security
	o.securityLoc = m.root.child("security")
}

func (m *model) callbackOps(o *operation) []*operation {
	var out []*operation
	for _, name := range sortedKeys(o.op.Callbacks) {
		cbRef := o.op.Callbacks[name]
		if cbRef == nil || cbRef.Value == nil {
			continue
		}
		loc := o.loc.child("callbacks", name)
		if cbRef.Ref != "" {
			loc = loc.follow(m.srcRef(cbRef.Ref))
		}
		for _, expr := range sortedKeys(cbRef.Value.Map()) {
			out = append(out, m.pathItemOps(callbackOp, expr, cbRef.Value.Value(expr), loc.child(expr), o)...)
		}
	}
	return out
}

// srcRef turns a $ref of the converted document back into the ref written
// in the source. openapi2conv rewrites Swagger 2.0 refs to their OpenAPI 3
// places, and leaves other refs, such as refs to other files, as written.
func (m *model) srcRef(ref string) string {
	if !m.spec.swagger2 {
		return ref
	}
	for _, r := range [][2]string{
		{"#/components/schemas/", "#/definitions/"},
		{"#/components/parameters/", "#/parameters/"},
		{"#/components/requestBodies/", "#/parameters/"},
		{"#/components/responses/", "#/responses/"},
		{"#/components/securitySchemes/", "#/securityDefinitions/"},
	} {
		if rest, ok := strings.CutPrefix(ref, r[0]); ok {
			return r[1] + rest
		}
	}
	return ref
}

// schemaLoc returns the location of a schema, following its $ref.
func (m *model) schemaLoc(ref *openapi3.SchemaRef, loc location) location {
	if ref != nil && ref.Ref != "" {
		return loc.follow(m.srcRef(ref.Ref))
	}
	return loc
}

// srcNode returns the source node at loc, following a $ref found there.
func (m *model) srcNode(loc location) (*yaml.Node, location) {
	n := m.spec.src.exact(loc)
	for range 8 {
		ref := scalarValue(n, "$ref")
		if ref == "" {
			break
		}
		loc = loc.follow(ref)
		n = m.spec.src.exact(loc)
	}
	return n, loc
}
