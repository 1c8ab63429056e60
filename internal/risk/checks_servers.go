package risk

import (
	"net"
	"net/url"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkServers runs the rules about server URLs.
func (r *run) checkServers(m *model) {
	if len(m.servers) == 0 || m.spec.swagger2 && m.spec.src.exact(m.root.child("host")) == nil {
		r.report(idNoServers, m.root, "", "the description declares no server")
	}
	usesAuth := len(usedSchemes(m)) > 0
	for _, s := range m.servers {
		for _, name := range sortedKeys(s.s.Variables) {
			if v := s.s.Variables[name]; v != nil && len(v.Enum) == 0 {
				r.report(idServerVariable, s.loc.child("variables", name), "", "server %s: variable %q accepts any value", s.raw, name)
			}
		}
		u, err := url.Parse(s.url)
		if err != nil || u.Host == "" {
			continue // a relative URL is served from wherever the description is
		}
		host := u.Hostname()
		switch {
		case isLocalHost(host):
			r.report(idPrivateServer, s.loc, "", "server %s is on a local or private address", s.raw)
		case strings.EqualFold(u.Scheme, "http") && usesAuth:
			r.report(idAuthOverHTTP, s.loc, "", "credentials are sent to server %s over plain HTTP", s.raw)
		case strings.EqualFold(u.Scheme, "http"):
			r.report(idHTTPServer, s.loc, "", "server %s uses plain HTTP", s.raw)
		}
		if stagingHost.MatchString(host) {
			r.report(idStagingServer, s.loc, "", "server %s looks like a non-production environment", s.raw)
		}
	}
}

// isPlainHTTP reports whether raw is an absolute http:// URL on a host
// that is not local.
func isPlainHTTP(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || u.Host == "" {
		return false
	}
	return !isLocalHost(u.Hostname())
}

var localSuffixes = []string{".localhost", ".local", ".internal", ".lan", ".corp", ".home.arpa", ".intranet"}

// isLocalHost reports whether host is a name or address that only resolves
// inside one machine or one private network.
func isLocalHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" {
		return true
	}
	for _, suffix := range localSuffixes {
		if strings.HasSuffix(h, suffix) {
			return true
		}
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
}

// credentialPatterns match values that are real credentials rather than
// placeholders: signed JWTs, PEM private keys and the key formats of
// common providers.
var credentialPatterns = []struct {
	hint string // a substring every match contains, checked first
	re   *regexp.Regexp
	what string
}{
	{"eyJ", regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`), "a signed JWT"},
	{"PRIVATE KEY", regexp.MustCompile(`-----BEGIN ([A-Z]+ )?PRIVATE KEY-----`), "a PEM private key"},
	{"A", regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`), "an AWS access key id"},
	{"_live_", regexp.MustCompile(`\b[sr]k_live_[0-9a-zA-Z]{20,}\b`), "a Stripe live secret key"},
	{"gh", regexp.MustCompile(`\bgh[pousr]_[0-9A-Za-z]{36}\b`), "a GitHub token"},
	{"xox", regexp.MustCompile(`\bxox[baprs]-[0-9A-Za-z-]{10,}`), "a Slack token"},
	{"AIza", regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`), "a Google API key"},
}

// checkCredentialsInValues scans every string value of the root document
// for credentials.
func (r *run) checkCredentialsInValues(m *model) {
	var scan func(n *yaml.Node, loc location)
	scan = func(n *yaml.Node, loc location) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				scan(n.Content[i+1], loc.child(n.Content[i].Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				scan(c, loc.index(i))
			}
		case yaml.ScalarNode:
			if what := credentialIn(n.Value); what != "" {
				r.report(idSecretInExample, loc, "", "the value at %s contains %s", displayPointer(loc.ptr), what)
			}
		}
	}
	if root := m.spec.src.tree(m.root.file); root != nil {
		scan(root, m.root)
	}
}

func credentialIn(s string) string {
	if len(s) < 20 {
		return ""
	}
	for _, p := range credentialPatterns {
		if strings.Contains(s, p.hint) && p.re.MatchString(s) {
			return p.what
		}
	}
	return ""
}

func displayPointer(ptr string) string {
	if ptr == "" {
		return "the document root"
	}
	return ptr
}
