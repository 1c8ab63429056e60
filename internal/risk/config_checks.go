package risk

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/warden-api/warden/internal/config"
)

// configRun collects findings about a gateway config.
type configRun struct {
	cfg    *config.Config
	rules  map[string]Rule
	seen   map[string]bool
	perAPI [][]Finding
	global []Finding
}

// checkConfig runs the config rules. It returns the findings that concern
// each API (in the order of models) and those that concern the config as
// a whole.
func checkConfig(cfg *config.Config, models []*model, rules map[string]Rule) ([][]Finding, []Finding) {
	c := &configRun{cfg: cfg, rules: rules, seen: map[string]bool{}, perAPI: make([][]Finding, len(models))}
	c.checkListeners()
	routed := make([]int, len(cfg.Routes)) // operations served per route
	for i, m := range models {
		c.checkRoutes(i, m, routed)
	}
	for ri, rt := range cfg.Routes {
		if rt.Auth != nil && rt.Auth.AllowQueryKey {
			c.add(-1, idRouteQueryKey, fmt.Sprintf("routes[%d].auth.allow_query_key", ri), "", "route %q accepts API keys in the query string", rt.Name)
		}
		c.checkUpstream(ri, rt)
		if len(models) > 0 && routed[ri] == 0 {
			c.add(-1, idUndocumentedRoute, fmt.Sprintf("routes[%d].paths", ri), "", "route %q matches no operation of the API descriptions", rt.Name)
		}
	}
	return c.perAPI, c.global
}

// add records a finding located at a config field path such as
// "routes[2].auth". api is the index of the API it concerns, or -1.
func (c *configRun) add(api int, id, field, subject, format string, args ...any) {
	ptr := fieldPointer(field)
	key := id + "\x00" + ptr + "\x00" + subject
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	file := c.cfg.Path()
	f := newFinding(c.rules[id], file, fingerprintPath(file), ptr, c.fieldLine(field), subject, fmt.Sprintf(format, args...))
	if api < 0 {
		c.global = append(c.global, f)
	} else {
		c.perAPI[api] = append(c.perAPI[api], f)
	}
}

// fieldLine returns the line of a field path in the config file, or 0.
func (c *configRun) fieldLine(field string) int {
	var fe *config.FieldError
	if errors.As(c.cfg.Locate(&config.FieldError{Path: field}), &fe) {
		return fe.Line
	}
	var es config.Errors
	if errors.As(c.cfg.Locate(config.Errors{{Path: field}}), &es) && len(es) > 0 {
		return es[0].Line
	}
	return 0
}

// fieldPointer turns "routes[2].auth" into the JSON pointer "/routes/2/auth".
func fieldPointer(field string) string {
	r := strings.NewReplacer("[", "/", "]", "", ".", "/")
	return "/" + r.Replace(field)
}

// newFinding builds an open finding. fpFile is file as fingerprintPath
// returns it, passed in because that costs a system call.
func newFinding(rule Rule, file, fpFile, ptr string, line int, subject, msg string) Finding {
	return Finding{
		RuleID: rule.ID, Title: rule.Title, Severity: rule.Severity, Category: rule.Category,
		Message: msg, File: file, Pointer: ptr, Line: line, Subject: subject,
		Fingerprint: fingerprint(rule.ID, fpFile, ptr, subject), Status: Open,
	}
}

func (c *configRun) checkListeners() {
	for i, l := range c.cfg.Listeners {
		if l.TLS == nil && !isLoopbackAddress(l.Address) {
			c.add(-1, idListenerNoTLS, fmt.Sprintf("listeners[%d].address", i), "", "listener %s serves plain HTTP on a non-loopback address", l.Address)
		}
	}
	addr := c.cfg.Admin.Address
	if addr != "" && addr != "off" && !isLoopbackAddress(addr) {
		c.add(-1, idAdminListener, "admin.address", "", "the admin listener is on %s, which other machines can reach", addr)
	}
}

// isLoopbackAddress reports whether a listen address host:port binds to
// loopback only. An empty host binds to every interface.
func isLoopbackAddress(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *configRun) checkUpstream(ri int, rt config.Route) {
	for ui, up := range c.cfg.Upstreams {
		if up.Name != rt.Upstream {
			continue
		}
		for ti, target := range up.Targets {
			u, err := url.Parse(target)
			if err != nil || !strings.EqualFold(u.Scheme, "http") || isLoopbackAddress(u.Host) || strings.EqualFold(u.Hostname(), "localhost") {
				continue
			}
			if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
				continue
			}
			c.add(-1, idUpstreamHTTP, fmt.Sprintf("routes[%d].upstream", ri), target,
				"route %q forwards to %s over plain HTTP (upstreams[%d].targets[%d])", rt.Name, target, ui, ti)
		}
	}
}
