package risk

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// boundedFormats are string formats whose values have a small maximum
// length by definition.
var boundedFormats = map[string]bool{
	"date": true, "date-time": true, "time": true, "uuid": true, "ipv4": true, "ipv6": true,
	"int32": true, "int64": true, "duration": true,
}

// checkSchema runs the rules about one schema reached from an operation.
func (r *run) checkSchema(v *schemaVisit) {
	if v.dir == dirRequest {
		r.checkRequestSchema(v)
	} else {
		r.checkResponseSchema(v)
	}
}

func (r *run) checkRequestSchema(v *schemaVisit) {
	s := v.s
	if s.ReadOnly {
		// Servers ignore readOnly properties in requests.
		return
	}
	where := describeInput(v)
	switch {
	case isBinary(s, v.media):
		if s.MaxLength == nil {
			r.report(idUnboundedUpload, v.loc, "", "%s: binary upload %s has no maxLength", v.op.name(), where)
		}
	case hasType(s, "string"):
		r.checkRequestString(v, where)
	}
	if hasType(s, "array") && s.MaxItems == nil {
		r.report(idUnboundedArray, v.loc, "", "%s: array %s has no maxItems", v.op.name(), where)
	}
	if (hasType(s, "integer") || hasType(s, "number")) && !numberBounded(s) && !coveredNumberParam(v) {
		r.report(idUnboundedNumber, v.loc, "", "%s: number %s has no maximum", v.op.name(), where)
	}
	if hasType(s, "object") && len(s.Properties) > 0 && !v.composed && v.media != nil && v.media.propLocs == nil && opensProperties(s) {
		r.report(idOpenBody, v.loc, "", "%s: object %s accepts properties it does not declare", v.op.name(), where)
	}
	if v.prop && isPrivilegeName(v.name) {
		r.report(idMassAssignment, v.loc, "", "%s: request property %q is writable", v.op.name(), v.name)
	}
	if v.prop && isOwnerIDName(v.name) && v.op.secured() {
		r.report(idOwnerIDInput, v.loc, "", "%s takes the owner id %q from the client although the caller is authenticated", v.op.name(), v.name)
	}
}

// coveredNumberParam reports whether a number parameter is reported by a
// more specific rule: page sizes by idPageSizeNoMax, path identifiers by
// idSequentialID.
func coveredNumberParam(v *schemaVisit) bool {
	if v.param == nil || v.depth > 0 {
		return false
	}
	in := v.param.p.In
	return in == "query" && isPageSizeName(v.name) || in == "path" && isIdentifierName(v.name)
}

func (r *run) checkRequestString(v *schemaVisit, where string) {
	s := v.s
	if s.Pattern != "" && !(strings.HasPrefix(s.Pattern, "^") && strings.HasSuffix(s.Pattern, "$")) {
		r.report(idUnanchoredPattern, v.loc.child("pattern"), "", "%s: pattern %q of %s is not anchored", v.op.name(), s.Pattern, where)
	}
	if (s.Format == "uri" || s.Format == "url" || s.Format == "iri" || isURLName(v.name)) && len(s.Enum) == 0 && s.Const == nil && s.Pattern == "" {
		r.report(idURLInput, v.loc, "", "%s: %s takes a URL without an allow-list", v.op.name(), where)
	}
	if !stringBounded(s) {
		r.report(idUnboundedString, v.loc, "", "%s: string %s has no maxLength", v.op.name(), where)
	}
}

// stringBounded reports whether a string schema limits the length of its
// values.
func stringBounded(s *openapi3.Schema) bool {
	if s.MaxLength != nil || len(s.Enum) > 0 || s.Const != nil || boundedFormats[s.Format] {
		return true
	}
	p := s.Pattern
	return strings.HasPrefix(p, "^") && strings.HasSuffix(p, "$") &&
		!strings.ContainsAny(p, "*+") && !strings.Contains(p, ",}")
}

// opensProperties reports whether an object schema allows properties that
// it does not list.
func opensProperties(s *openapi3.Schema) bool {
	ap := s.AdditionalProperties
	if ap.Has != nil && !*ap.Has || ap.Schema != nil {
		return false
	}
	up := s.UnevaluatedProperties
	if up.Has != nil && !*up.Has || up.Schema != nil {
		return false
	}
	return true
}

// isBinary reports whether a schema is file content: a binary string, or
// the string body of a binary media type.
func isBinary(s *openapi3.Schema, md *media) bool {
	if !hasType(s, "string") && len(schemaTypes(s)) > 0 {
		return false
	}
	if s.Format == "binary" || s.ContentMediaType != "" || hasType(s, "file") {
		return true
	}
	return md != nil && md.schema != nil && md.schema.Value == s && isBinaryMediaType(md.typ)
}

func isBinaryMediaType(typ string) bool {
	t := strings.ToLower(typ)
	return t == "application/octet-stream" || t == "*/*" ||
		strings.HasPrefix(t, "image/") || strings.HasPrefix(t, "video/") || strings.HasPrefix(t, "audio/")
}

func describeInput(v *schemaVisit) string {
	switch {
	case v.param != nil:
		return v.param.p.In + " parameter " + quote(v.param.p.Name)
	case v.name != "":
		return "property " + quote(v.name)
	case v.media != nil:
		return "request body " + v.media.typ
	}
	return "request value"
}

func quote(s string) string { return `"` + s + `"` }

func (r *run) checkResponseSchema(v *schemaVisit) {
	s := v.s
	if !v.prop || s.WriteOnly {
		return
	}
	op := v.op.name()
	if isErrorStatus(v.resp.code) && isVerboseErrorName(v.name) {
		r.report(idVerboseError, v.loc, "", "%s: error response %s has property %q", op, v.resp.code, v.name)
	}
	text := hasType(s, "string") || hasType(s, "integer") || len(schemaTypes(s)) == 0
	if !text || len(s.Enum) > 0 {
		return
	}
	switch {
	case isPasswordName(v.name) || s.Format == "password":
		r.report(idPasswordInResponse, v.loc, "", "%s returns property %q in a %s response", op, v.name, v.resp.code)
	case isCardOrNationalIDName(v.name):
		r.report(idPIIInResponse, v.loc, "", "%s returns property %q in a %s response", op, v.name, v.resp.code)
	case isTokenName(v.name) && !isAuthEndpoint(v.op):
		r.report(idTokenInResponse, v.loc, "", "%s returns property %q in a %s response", op, v.name, v.resp.code)
	}
}
