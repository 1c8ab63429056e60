package risk

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// suppressionKey is the extension that hides findings in an API
// description. It may stand in any object: the root, a path item, an
// operation or a schema, and covers the findings located in that object.
const suppressionKey = "x-warden-ignore"

// suppression hides the findings of some rules (all rules when rules is
// empty) located at or below scope.
type suppression struct {
	scope  location
	rules  []string
	reason string
}

func (s suppression) covers(f Finding) bool {
	loc := location{file: f.File, ptr: f.Pointer}
	if !loc.under(s.scope) {
		return false
	}
	if len(s.rules) == 0 {
		return true
	}
	for _, id := range s.rules {
		if id == f.RuleID {
			return true
		}
	}
	return false
}

// applySuppressions reads every x-warden-ignore in the files of src and
// marks the findings they cover. A suppression that gives no reason or
// names an unknown rule is reported and not applied.
func (r *run) applySuppressions(src *sources) {
	var valid []suppression
	for _, file := range sortedKeys(src.trees) {
		tree := src.trees[file]
		if tree == nil {
			continue
		}
		findSuppressions(tree, location{file: file}, func(scope location, n *yaml.Node) {
			valid = append(valid, r.parseSuppression(scope, n)...)
		})
	}
	for i := range r.findings {
		f := &r.findings[i]
		if f.RuleID == idBadSuppression {
			continue // a broken suppression must not hide its own report
		}
		for _, s := range valid {
			if s.covers(*f) {
				f.Status, f.Reason = Suppressed, s.reason
				break
			}
		}
	}
}

// findSuppressions calls fn for each x-warden-ignore value, with the
// location of the object that holds it.
func findSuppressions(n *yaml.Node, loc location, fn func(location, *yaml.Node)) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i].Value, n.Content[i+1]
			if key == suppressionKey {
				fn(loc, value)
				continue
			}
			findSuppressions(value, loc.child(key), fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			findSuppressions(c, loc.index(i), fn)
		}
	}
}

// parseSuppression reads the three accepted forms of x-warden-ignore:
//
//	x-warden-ignore: "reason"                          # every rule
//	x-warden-ignore: {WARDEN-API2-001: "reason"}       # rule id to reason
//	x-warden-ignore: [{rule: WARDEN-API2-001, reason: "..."}]  # or rules: [...]
func (r *run) parseSuppression(scope location, n *yaml.Node) []suppression {
	at := scope.child(suppressionKey)
	switch n.Kind {
	case yaml.ScalarNode:
		return r.newSuppression(at, scope, nil, n.Value)
	case yaml.MappingNode:
		var out []suppression
		for i := 0; i+1 < len(n.Content); i += 2 {
			id, reason := n.Content[i].Value, ""
			if n.Content[i+1].Kind == yaml.ScalarNode {
				reason = n.Content[i+1].Value
			}
			out = append(out, r.newSuppression(at.child(id), scope, []string{id}, reason)...)
		}
		return out
	case yaml.SequenceNode:
		var out []suppression
		for i, item := range n.Content {
			var ids []string
			if id := scalarValue(item, "rule"); id != "" {
				ids = append(ids, id)
			}
			if list := mappingValue(item, "rules"); list != nil && list.Kind == yaml.SequenceNode {
				for _, c := range list.Content {
					ids = append(ids, c.Value)
				}
			}
			if len(ids) == 0 {
				r.report(idBadSuppression, at.index(i), "", "%s entry names no rule: add rule: WARDEN-...", suppressionKey)
				continue
			}
			out = append(out, r.newSuppression(at.index(i), scope, ids, scalarValue(item, "reason"))...)
		}
		return out
	}
	r.report(idBadSuppression, at, "", "%s must be a reason, a map from rule id to reason, or a list of {rule, reason}", suppressionKey)
	return nil
}

func (r *run) newSuppression(at, scope location, ids []string, reason string) []suppression {
	for _, id := range ids {
		if _, ok := r.rules[id]; !ok {
			r.report(idBadSuppression, at, id, "%s names unknown rule %q", suppressionKey, id)
			return nil
		}
	}
	if strings.TrimSpace(reason) == "" {
		r.report(idBadSuppression, at, "", "%s at %s gives no reason, so it is not applied", suppressionKey, displayPointer(scope.ptr))
		return nil
	}
	return []suppression{{scope: scope, rules: ids, reason: strings.TrimSpace(reason)}}
}
