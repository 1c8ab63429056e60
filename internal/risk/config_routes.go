package risk

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/warden-api/warden/internal/config"
)

// routeGroup collects the operations of one API that one route serves.
type routeGroup struct {
	secured, open []*operation
}

// checkRoutes matches the operations of one API to routes and runs the
// rules about the routes that serve them.
func (c *configRun) checkRoutes(api int, m *model, routed []int) {
	groups := map[int]*routeGroup{}
	var order []int
	for _, o := range m.ops {
		ri := c.routeFor(m, o)
		if ri < 0 {
			r := newRun(m.spec.src, c.rules)
			r.report(idUnroutedOperation, o.loc, "", "%s matches no route of the gateway config", o.name())
			c.perAPI[api] = append(c.perAPI[api], r.findings...)
			continue
		}
		routed[ri]++
		g := groups[ri]
		if g == nil {
			g = &routeGroup{}
			groups[ri] = g
			order = append(order, ri)
		}
		if o.secured() {
			g.secured = append(g.secured, o)
		} else {
			g.open = append(g.open, o)
		}
	}
	slices.Sort(order)
	for _, ri := range order {
		c.checkRouteGroup(api, m, ri, groups[ri])
	}
}

func (c *configRun) checkRouteGroup(api int, m *model, ri int, g *routeGroup) {
	rt := c.cfg.Routes[ri]
	field := fmt.Sprintf("routes[%d]", ri)
	anonymous := rt.Auth == nil || rt.Auth.Anonymous || len(rt.Auth.Methods) == 0
	if rt.Auth != nil {
		field += ".auth"
	}
	if anonymous && len(g.secured) > 0 {
		c.add(api, idRouteNoAuthSecured, field, m.spec.File,
			"route %q lets anonymous requests reach operations that %s secures, such as %s (count: %d)", rt.Name, m.spec.File, g.secured[0].name(), len(g.secured))
	}
	if anonymous && len(g.secured) == 0 && len(g.open) > 0 {
		c.add(api, idRouteNoAuth, field, m.spec.File,
			"route %q serves public operations of %s without authentication, such as %s (count: %d)", rt.Name, m.spec.File, g.open[0].name(), len(g.open))
	}
	if !c.rateLimited(rt) {
		all := append(append([]*operation{}, g.secured...), g.open...)
		c.add(api, idRouteNoRateLimit, fmt.Sprintf("routes[%d]", ri), m.spec.File,
			"route %q has no rate limit but serves operations of %s, such as %s (count: %d)", rt.Name, m.spec.File, all[0].name(), len(all))
	}
}

// rateLimited reports whether a route has limits of its own, or applies
// consumer plans that have limits.
func (c *configRun) rateLimited(rt config.Route) bool {
	rl := rt.RateLimit
	if rl != nil && (len(rl.Limits) > 0 || len(rl.Quotas) > 0) {
		return true
	}
	plan := rt.Auth != nil && !rt.Auth.Anonymous && len(rt.Auth.Methods) > 0
	if rl != nil && rl.Plan != nil {
		plan = *rl.Plan
	}
	if !plan {
		return false
	}
	for _, p := range c.cfg.RateLimit.Plans {
		if len(p.Limits) > 0 || len(p.Quotas) > 0 {
			return true
		}
	}
	return false
}

// routeFor returns the index of the route that serves an operation, or
// -1. The operation's path is tried below each server's base path, then
// alone. Among matching routes the most specific wins.
//
// NOTE: specificity here counts literal segments and prefers routes that
// list methods. It approximates the gateway's router; an operation that
// two routes match equally is assigned to the first one.
func (c *configRun) routeFor(m *model, o *operation) int {
	for _, base := range basePaths(m) {
		full := strings.TrimSuffix(base, "/") + o.path
		best, bestScore := -1, -1
		for ri, rt := range c.cfg.Routes {
			score := routeScore(rt, o.method, full)
			if score > bestScore {
				best, bestScore = ri, score
			}
		}
		if best >= 0 {
			return best
		}
	}
	return -1
}

// basePaths returns the distinct path prefixes of the API's servers, and
// "" last.
func basePaths(m *model) []string {
	var out []string
	for _, s := range m.servers {
		u, err := url.Parse(s.url)
		if err != nil {
			continue
		}
		p := strings.TrimSuffix(u.Path, "/")
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return append(out, "")
}

// routeScore returns how specifically a route matches method and path, or
// -1 when it does not match.
func routeScore(rt config.Route, method, path string) int {
	if len(rt.Methods) > 0 && !slices.ContainsFunc(rt.Methods, func(m string) bool { return strings.EqualFold(m, method) }) {
		return -1
	}
	best := -1
	for _, pattern := range rt.Paths {
		if s := patternScore(pattern, path, rt.CaseInsensitive); s > best {
			best = s
		}
	}
	if best >= 0 && len(rt.Methods) > 0 {
		best++
	}
	return best
}

// patternScore matches a route pattern ("/users/{id}", "/static/**")
// against an OpenAPI path template. A route parameter matches any segment.
// A literal matches only the same literal and not a template parameter,
// because the route would then serve only some of the operation's requests.
func patternScore(pattern, path string, caseInsensitive bool) int {
	ps, ts := segments(pattern), segments(path)
	wildcard := len(ps) > 0 && ps[len(ps)-1] == "**"
	if wildcard {
		ps = ps[:len(ps)-1]
		if len(ts) < len(ps) {
			return -1
		}
	} else if len(ps) != len(ts) {
		return -1
	}
	score := 0
	for i, p := range ps {
		t := ts[i]
		switch {
		case strings.HasPrefix(p, "{"):
			score++
		case strings.Contains(t, "{"):
			return -1
		case p == t || caseInsensitive && strings.EqualFold(p, t):
			score += 2
		default:
			return -1
		}
	}
	if !wildcard {
		score += 2
	}
	return score
}

func segments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
