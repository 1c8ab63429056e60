package risk

import "sort"

// Rule describes one check: what it looks for, why it matters and how to
// fix what it finds. Rule ids are stable across releases, so baselines,
// suppressions and code scanning alerts keep matching.
type Rule struct {
	// ID is "WARDEN-API<n>-<nnn>", where API<n> is the OWASP category.
	// Numbers from 101 up are checks of the gateway config.
	ID string `json:"id"`
	// Title is a short name, such as "Operation without authentication".
	Title string `json:"title"`
	// Severity is the severity of every finding of the rule.
	Severity Severity `json:"severity"`
	// Category is the OWASP API Security Top 10 (2023) category.
	Category Category `json:"category"`
	// Description explains the risk in one paragraph.
	Description string `json:"description"`
	// Fix is the change that removes the finding.
	Fix string `json:"fix"`
	// NeedsConfig marks rules that run only when a gateway config is given.
	NeedsConfig bool `json:"needs_config,omitempty"`
}

// Rules returns every rule, ordered by id.
func Rules() []Rule {
	all := make([]Rule, 0, len(specRules)+len(configRules))
	all = append(all, specRules...)
	for _, r := range configRules {
		r.NeedsConfig = true
		all = append(all, r)
	}
	sort.Slice(all, func(i, j int) bool { return ruleLess(all[i].ID, all[j].ID) })
	return all
}

// ruleLess orders ids by category number, then by check number, so that
// API10 comes after API9.
func ruleLess(a, b string) bool {
	ca, na := ruleSortKey(a)
	cb, nb := ruleSortKey(b)
	if ca != cb {
		return ca < cb
	}
	if na != nb {
		return na < nb
	}
	return a < b
}

func ruleSortKey(id string) (category, number int) {
	// "WARDEN-API10-003": the digits after "API" and after the last "-".
	i := len("WARDEN-API")
	for i < len(id) && id[i] >= '0' && id[i] <= '9' {
		category = category*10 + int(id[i]-'0')
		i++
	}
	for i++; i < len(id) && id[i] >= '0' && id[i] <= '9'; i++ {
		number = number*10 + int(id[i]-'0')
	}
	return category, number
}

// ruleIndex maps rule ids to rules.
func ruleIndex() map[string]Rule {
	m := make(map[string]Rule)
	for _, r := range Rules() {
		m[r.ID] = r
	}
	return m
}
