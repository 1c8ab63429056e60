package risk

// Ids of the rules that read the gateway config.
const (
	idRouteNoAuthSecured = "WARDEN-API2-101"
	idRouteNoAuth        = "WARDEN-API2-102"
	idRouteQueryKey      = "WARDEN-API2-103"
	idRouteNoRateLimit   = "WARDEN-API4-101"
	idListenerNoTLS      = "WARDEN-API8-101"
	idUpstreamHTTP       = "WARDEN-API8-102"
	idAdminListener      = "WARDEN-API8-103"
	idUndocumentedRoute  = "WARDEN-API9-101"
	idUnroutedOperation  = "WARDEN-API9-102"
)

// configRules are the checks of the gateway config against the API
// descriptions. Read-only.
var configRules = []Rule{
	{
		ID: idRouteNoAuthSecured, Title: "Route serves a secured operation without authentication", Severity: Critical, Category: API2,
		Description: "The API description requires authentication for an operation, but the gateway route that serves it has no auth block or lets anonymous requests through. The gateway then forwards unauthenticated requests, and the upstream is the only line of defence.",
		Fix:         "Add auth.methods to the route and leave auth.anonymous off.",
	},
	{
		ID: idRouteNoAuth, Title: "Route serves operations without authentication", Severity: Low, Category: API2,
		Description: "A gateway route serves operations without authentication. The API description also marks them public, so this is consistent, but anonymous routes deserve a regular review because they are the easiest to abuse.",
		Fix:         "Confirm that the operations are public, or add auth.methods to the route.",
	},
	{
		ID: idRouteQueryKey, Title: "Route accepts API keys in the query string", Severity: High, Category: API2,
		Description: "A route sets auth.allow_query_key, so API keys are accepted in URLs, which end up in access logs, proxy logs, browser history and Referer headers.",
		Fix:         "Remove allow_query_key and have clients send keys in a header.",
	},
	{
		ID: idRouteNoRateLimit, Title: "Route without a rate limit", Severity: Medium, Category: API4,
		Description: "A gateway route serves operations of the API description but has no limits or quotas of its own, and no consumer plan with limits applies to it. Clients can call it as fast as the upstream allows.",
		Fix:         "Add rate_limit.limits to the route, or require authentication and give every plan limits.",
	},
	{
		ID: idListenerNoTLS, Title: "Listener without TLS on a non-loopback address", Severity: High, Category: API8,
		Description: "A client-facing listener accepts plain HTTP on an address that other machines can reach, so credentials and data cross the network in clear text, unless a TLS-terminating proxy on the same host is the only client.",
		Fix:         "Configure tls on the listener, or bind it to 127.0.0.1 behind a TLS-terminating proxy.",
	},
	{
		ID: idUpstreamHTTP, Title: "Upstream over plain HTTP on another host", Severity: Medium, Category: API8,
		Description: "A route forwards to an upstream target with an http:// URL on another host. Requests, including forwarded identities and any credentials, cross the network between the gateway and the upstream in clear text.",
		Fix:         "Use https:// targets (with tls.ca_file for private CAs), or keep plain HTTP upstreams on loopback.",
	},
	{
		ID: idAdminListener, Title: "Admin listener on a non-loopback address", Severity: High, Category: API8,
		Description: "The admin listener, which serves metrics and the admin API, listens on an address that other machines can reach.",
		Fix:         "Bind admin.address to 127.0.0.1 or a private management interface.",
	},
	{
		ID: idUndocumentedRoute, Title: "Route serves no documented operation", Severity: Low, Category: API9,
		Description: "A gateway route matches no operation of the API descriptions given. It forwards requests to endpoints that no description covers, so they escape review, validation and inventory.",
		Fix:         "Describe the endpoints in an API description, or remove the route.",
	},
	{
		ID: idUnroutedOperation, Title: "Operation not served by any route", Severity: Info, Category: API9,
		Description: "An operation of the API description matches no gateway route. Either the description lists an endpoint that is not exposed, or clients reach it some other way that bypasses the gateway.",
		Fix:         "Add a route for the operation, or remove it from the description.",
	},
}
