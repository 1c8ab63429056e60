package authz

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// policyCostLimit bounds the work of one policy evaluation, in CEL cost
// units (about one per operation and per byte compared or matched). It stops
// an expression from spending unbounded time on a large header or query
// value; an evaluation that exceeds it denies.
const policyCostLimit = 100_000

// credentialHeaders are left out of request.headers, so that a policy can
// neither read nor leak a credential. The authentication stage removes the
// headers of its configured API key names itself unless forward_credential
// is set.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key"}

var policyName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// policy is one compiled CEL policy.
type policy struct {
	name    string
	expr    string
	methods []string // upper case; empty means every method
	program cel.Program
}

// newEnv declares the variables a policy can use. Maps are typed
// map(string, dyn), so a field that is absent is an evaluation error unless
// the expression guards it with has() or "in".
func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("consumer", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("claims", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("now", cel.TimestampType),
		ext.Strings(),
	)
}

// compilePolicies type-checks every policy and returns them in order.
// Errors name the policy's path and its expression.
func compilePolicies(ps []config.Policy, path string) ([]*policy, error) {
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("creating CEL environment: %w", err)
	}
	var es config.Errors
	seen := map[string]bool{}
	out := make([]*policy, 0, len(ps))
	for i, p := range ps {
		pp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case p.Name == "":
			es.Add(pp+".name", "missing policy name")
		case !policyName.MatchString(p.Name):
			es.Add(pp+".name", "invalid policy name %q: use up to 64 letters, digits, '_', '.' and '-'", p.Name)
		case seen[p.Name]:
			es.Add(pp+".name", "duplicate policy name %q", p.Name)
		}
		seen[p.Name] = true
		for k, m := range p.Methods {
			if m == "" || strings.ContainsAny(m, " \t") {
				es.Add(fmt.Sprintf("%s.methods[%d]", pp, k), "invalid HTTP method %q", m)
			}
		}
		prg, err := compileExpr(env, p.Expr)
		if err != nil {
			es.Add(pp+".expr", "%v", err)
			continue
		}
		methods := make([]string, len(p.Methods))
		for k, m := range p.Methods {
			methods[k] = strings.ToUpper(m)
		}
		out = append(out, &policy{name: p.Name, expr: p.Expr, methods: methods, program: prg})
	}
	return out, es.Err()
}

func compileExpr(env *cel.Env, expr string) (cel.Program, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, fmt.Errorf("missing CEL expression")
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("invalid CEL expression %q: %w", expr, iss.Err())
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("CEL expression %q evaluates to %s, expected bool", expr, t)
	}
	prg, err := env.Program(ast,
		cel.EvalOptions(cel.OptOptimize),
		cel.CostLimit(policyCostLimit),
		cel.InterruptCheckFrequency(100),
	)
	if err != nil {
		return nil, fmt.Errorf("building CEL program for %q: %w", expr, err)
	}
	return prg, nil
}

func (p *policy) appliesTo(method string) bool {
	return len(p.methods) == 0 || slices.Contains(p.methods, method)
}

// eval runs the policy over the request and identity.
func (p *policy) eval(ctx context.Context, x *pipeline.Exchange, id *pipeline.Identity) (bool, error) {
	out, _, err := p.program.ContextEval(ctx, &activation{x: x, id: id})
	if err != nil {
		return false, fmt.Errorf("evaluating %q: %w", p.expr, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("evaluating %q: result is %s, not bool", p.expr, out.Type())
	}
	return b, nil
}

// activation builds the policy variables on first use, so a policy that
// reads only consumer does not pay for copying the request headers.
type activation struct {
	x        *pipeline.Exchange
	id       *pipeline.Identity
	request  map[string]any
	consumer map[string]any
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "request":
		if a.request == nil {
			a.request = requestVars(a.x)
		}
		return a.request, true
	case "consumer":
		if a.consumer == nil {
			a.consumer = consumerVars(a.id)
		}
		return a.consumer, true
	case "claims":
		if a.id.Claims == nil {
			return map[string]any{}, true
		}
		return a.id.Claims, true
	case "now":
		if a.x.Start.IsZero() {
			return time.Now(), true
		}
		return a.x.Start, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

// requestVars returns the request variable: method, path, host, params,
// query (the first value of each parameter) and headers (lowercase names,
// repeated values joined with ", ", credential headers left out).
func requestVars(x *pipeline.Exchange) map[string]any {
	r := x.Request
	params := make(map[string]string, len(x.Params))
	for _, p := range x.Params {
		params[p.Name] = p.Value
	}
	query := map[string]string{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			query[k] = vs[0]
		}
	}
	headers := make(map[string]string, len(r.Header))
	for k, vs := range r.Header {
		if slices.Contains(credentialHeaders, http.CanonicalHeaderKey(k)) {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return map[string]any{
		"method":  r.Method,
		"path":    r.URL.Path,
		"host":    r.Host,
		"params":  params,
		"query":   query,
		"headers": headers,
	}
}

// consumerVars returns the consumer variable. Lists and maps are never nil,
// so "x in consumer.roles" works for anonymous callers too.
func consumerVars(id *pipeline.Identity) map[string]any {
	metadata := id.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	return map[string]any{
		"id":        id.ConsumerID,
		"name":      id.ConsumerName,
		"method":    id.Method,
		"issuer":    id.Issuer,
		"plan":      id.Plan,
		"roles":     nonNil(id.Roles),
		"scopes":    nonNil(id.Scopes),
		"metadata":  metadata,
		"anonymous": id.Anonymous(),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
