package risk

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// buildParams merges path-level and operation-level parameters. An
// operation parameter replaces a path parameter with the same name and
// location, as the OpenAPI specification requires.
func (m *model) buildParams(item *openapi3.PathItem, itemLoc location, o *operation) []*param {
	var out []*param
	index := map[string]int{}
	add := func(list openapi3.Parameters, listLoc location) {
		for i, pr := range list {
			if pr == nil || pr.Value == nil {
				continue
			}
			p := m.newParam(listLoc, i, pr)
			key := p.p.In + "\x00" + p.p.Name
			if j, ok := index[key]; ok {
				out[j] = p
				continue
			}
			index[key] = len(out)
			out = append(out, p)
		}
	}
	add(item.Parameters, itemLoc.child("parameters"))
	add(o.op.Parameters, o.loc.child("parameters"))
	return out
}

func (m *model) newParam(listLoc location, i int, pr *openapi3.ParameterRef) *param {
	p := &param{p: pr.Value, loc: m.paramLoc(listLoc, i, pr)}
	switch {
	case m.spec.swagger2:
		// Swagger 2.0 writes the schema keywords of a non-body parameter
		// on the parameter itself.
		p.schema, p.schemaLoc = p.p.Schema, p.loc
	case p.p.Schema != nil:
		p.schema, p.schemaLoc = p.p.Schema, m.schemaLoc(p.p.Schema, p.loc.child("schema"))
	default:
		for _, mt := range sortedKeys(p.p.Content) {
			if c := p.p.Content[mt]; c != nil && c.Schema != nil {
				p.schema = c.Schema
				p.schemaLoc = m.schemaLoc(c.Schema, p.loc.child("content", mt, "schema"))
				break
			}
		}
	}
	return p
}

// paramLoc locates a parameter. In Swagger 2.0 the converted list lacks the
// body and formData parameters, so the index is found by name and location.
func (m *model) paramLoc(listLoc location, i int, pr *openapi3.ParameterRef) location {
	if pr.Ref != "" {
		return listLoc.follow(m.srcRef(pr.Ref))
	}
	if !m.spec.swagger2 {
		return listLoc.index(i)
	}
	seq := m.spec.src.exact(listLoc)
	if seq == nil {
		return listLoc.index(i)
	}
	for j := range seq.Content {
		n, loc := m.srcNode(listLoc.index(j))
		if scalarValue(n, "name") == pr.Value.Name && scalarValue(n, "in") == pr.Value.In {
			return loc
		}
	}
	return listLoc.index(i)
}

func (m *model) buildBody(o *operation, itemLoc location) *body {
	rb := o.op.RequestBody
	if rb == nil || rb.Value == nil {
		return nil
	}
	if m.spec.swagger2 {
		return m.buildBodyV2(o, itemLoc)
	}
	b := &body{loc: o.loc.child("requestBody")}
	if rb.Ref != "" {
		b.loc = b.loc.follow(rb.Ref)
	}
	for _, mt := range sortedKeys(rb.Value.Content) {
		c := rb.Value.Content[mt]
		if c == nil {
			continue
		}
		entry := b.loc.child("content", mt)
		b.media = append(b.media, &media{typ: mt, schema: c.Schema, entry: entry, loc: m.schemaLoc(c.Schema, entry.child("schema"))})
	}
	return b
}

// buildBodyV2 locates a Swagger 2.0 request body: the "in: body" parameter,
// or the formData parameters that openapi2conv turned into properties of
// one object schema.
func (m *model) buildBodyV2(o *operation, itemLoc location) *body {
	b := &body{}
	var bodyLoc *location
	forms := map[string]location{}
	for _, listLoc := range []location{o.loc.child("parameters"), itemLoc.child("parameters")} {
		seq := m.spec.src.exact(listLoc)
		if seq == nil {
			continue
		}
		for j := range seq.Content {
			n, loc := m.srcNode(listLoc.index(j))
			switch scalarValue(n, "in") {
			case "body":
				if bodyLoc == nil {
					bodyLoc = &loc
				}
			case "formData":
				if _, ok := forms[scalarValue(n, "name")]; !ok {
					forms[scalarValue(n, "name")] = loc
				}
				if bodyLoc == nil {
					bodyLoc = &loc
				}
			}
		}
	}
	if bodyLoc == nil {
		bodyLoc = &o.loc
	}
	b.loc = *bodyLoc
	content := o.op.RequestBody.Value.Content
	for _, mt := range sortedKeys(content) {
		c := content[mt]
		if c == nil {
			continue
		}
		md := &media{typ: mt, schema: c.Schema, entry: b.loc}
		if len(forms) > 0 {
			md.loc, md.propLocs = b.loc, forms
		} else {
			md.loc = m.schemaLoc(c.Schema, b.loc.child("schema"))
		}
		b.media = append(b.media, md)
	}
	return b
}

func (m *model) buildResponses(o *operation) []*response {
	if o.op.Responses == nil {
		return nil
	}
	var out []*response
	for _, code := range sortedKeys(o.op.Responses.Map()) {
		rr := o.op.Responses.Value(code)
		if rr == nil || rr.Value == nil {
			continue
		}
		r := &response{code: code, loc: o.loc.child("responses", code)}
		if rr.Ref != "" {
			r.loc = r.loc.follow(m.srcRef(rr.Ref))
		}
		for _, mt := range sortedKeys(rr.Value.Content) {
			c := rr.Value.Content[mt]
			if c == nil {
				continue
			}
			entry := r.loc.child("content", mt)
			loc := entry.child("schema")
			if m.spec.swagger2 {
				entry, loc = r.loc, r.loc.child("schema")
			}
			r.media = append(r.media, &media{typ: mt, schema: c.Schema, entry: entry, loc: m.schemaLoc(c.Schema, loc)})
		}
		for _, name := range sortedKeys(rr.Value.Headers) {
			hr := rr.Value.Headers[name]
			if hr == nil || hr.Value == nil {
				continue
			}
			loc := r.loc.child("headers", name)
			if hr.Ref != "" {
				loc = loc.follow(m.srcRef(hr.Ref))
			}
			r.headers = append(r.headers, &header{name: name, h: hr.Value, loc: loc})
		}
		out = append(out, r)
	}
	return out
}

func (m *model) buildSchemes() {
	if m.doc.Components == nil {
		return
	}
	for _, name := range sortedKeys(m.doc.Components.SecuritySchemes) {
		ref := m.doc.Components.SecuritySchemes[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		loc := m.root.child("components", "securitySchemes", name)
		if m.spec.swagger2 {
			loc = m.root.child("securityDefinitions", name)
		}
		if ref.Ref != "" {
			loc = loc.follow(m.srcRef(ref.Ref))
		}
		m.schemes = append(m.schemes, &scheme{name: name, s: ref.Value, loc: loc})
	}
}

func (m *model) scheme(name string) *scheme {
	for _, s := range m.schemes {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (m *model) buildServers() {
	if m.spec.swagger2 {
		m.buildServersV2()
		return
	}
	add := func(list openapi3.Servers, listLoc location) {
		for i, s := range list {
			if s != nil {
				m.servers = append(m.servers, newServer(s, listLoc.index(i)))
			}
		}
	}
	add(m.doc.Servers, m.root.child("servers"))
	for _, p := range sortedKeys(m.doc.Paths.Map()) {
		item := m.doc.Paths.Value(p)
		if item == nil {
			continue
		}
		itemLoc := m.root.child("paths", p)
		add(item.Servers, itemLoc.child("servers"))
		for _, method := range methodOrder {
			if op := item.GetOperation(method); op != nil && op.Servers != nil {
				add(*op.Servers, itemLoc.child(strings.ToLower(method), "servers"))
			}
		}
	}
}

// buildServersV2 locates the servers that openapi2conv built from host,
// basePath and schemes: at the scheme's entry in schemes when there is
// one, otherwise at host.
func (m *model) buildServersV2() {
	schemes := m.spec.src.exact(m.root.child("schemes"))
	for _, s := range m.doc.Servers {
		if s == nil {
			continue
		}
		loc := m.root.child("host")
		if m.spec.src.exact(loc) == nil {
			loc = m.root.child("basePath")
		}
		if schemes != nil {
			scheme, _, _ := strings.Cut(s.URL, "://")
			for i, n := range schemes.Content {
				if strings.EqualFold(n.Value, scheme) {
					loc = m.root.child("schemes").index(i)
				}
			}
		}
		m.servers = append(m.servers, newServer(s, loc))
	}
}

func newServer(s *openapi3.Server, loc location) *server {
	u := s.URL
	for name, v := range s.Variables {
		if v != nil {
			u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
		}
	}
	return &server{url: u, raw: s.URL, s: s, loc: loc}
}
