package risk

// Ids of the rules that read API descriptions.
const (
	idSequentialID       = "WARDEN-API1-001"
	idIDWithoutFormat    = "WARDEN-API1-002"
	idOwnerIDInput       = "WARDEN-API1-003"
	idNoAuthWrite        = "WARDEN-API2-001"
	idNoAuthRead         = "WARDEN-API2-002"
	idSecurityOptOut     = "WARDEN-API2-003"
	idOptionalAuth       = "WARDEN-API2-004"
	idAPIKeyInQuery      = "WARDEN-API2-005"
	idCredentialParam    = "WARDEN-API2-006"
	idBasicAuth          = "WARDEN-API2-007"
	idImplicitFlow       = "WARDEN-API2-008"
	idPasswordFlow       = "WARDEN-API2-009"
	idAuthOverHTTP       = "WARDEN-API2-010"
	idOAuthURLHTTP       = "WARDEN-API2-011"
	idJWTAudience        = "WARDEN-API2-012"
	idUndefinedScheme    = "WARDEN-API2-013"
	idMissing401         = "WARDEN-API2-014"
	idNoSchemes          = "WARDEN-API2-015"
	idLoginNo429         = "WARDEN-API2-016"
	idSecretInExample    = "WARDEN-API2-017"
	idOpenBody           = "WARDEN-API3-001"
	idMassAssignment     = "WARDEN-API3-002"
	idPasswordInResponse = "WARDEN-API3-003"
	idPIIInResponse      = "WARDEN-API3-004"
	idTokenInResponse    = "WARDEN-API3-005"
	idUnboundedString    = "WARDEN-API4-001"
	idUnboundedArray     = "WARDEN-API4-002"
	idUnboundedNumber    = "WARDEN-API4-003"
	idUnboundedUpload    = "WARDEN-API4-004"
	idNoPagination       = "WARDEN-API4-005"
	idPageSizeNoMax      = "WARDEN-API4-006"
	idMissing429         = "WARDEN-API4-007"
	idBodyWithoutSchema  = "WARDEN-API4-008"
	idAdminPath          = "WARDEN-API5-001"
	idAdminNoAuth        = "WARDEN-API5-002"
	idMissing403         = "WARDEN-API5-003"
	idWriteNoScopes      = "WARDEN-API5-004"
	idBusinessFlow       = "WARDEN-API6-001"
	idURLInput           = "WARDEN-API7-001"
	idHTTPServer         = "WARDEN-API8-001"
	idPrivateServer      = "WARDEN-API8-002"
	idNoServers          = "WARDEN-API8-003"
	idCORSWildcard       = "WARDEN-API8-004"
	idNoCORS             = "WARDEN-API8-005"
	idVerboseError       = "WARDEN-API8-006"
	idXMLBody            = "WARDEN-API8-007"
	idServerVariable     = "WARDEN-API8-008"
	idUnanchoredPattern  = "WARDEN-API8-009"
	idTraceMethod        = "WARDEN-API8-010"
	idBadSuppression     = "WARDEN-API8-011"
	idDeprecated         = "WARDEN-API9-001"
	idNoOperationID      = "WARDEN-API9-002"
	idDuplicateOpID      = "WARDEN-API9-003"
	idOldVersion         = "WARDEN-API9-004"
	idStagingServer      = "WARDEN-API9-005"
	idSwagger2           = "WARDEN-API9-006"
	idUnusedScheme       = "WARDEN-API9-007"
	idDanglingRef        = "WARDEN-API9-008"
	idCallbackURL        = "WARDEN-API10-001"
	idHookNoAuth         = "WARDEN-API10-002"
	idCallbackHTTP       = "WARDEN-API10-003"
)

// specRules are the checks of API descriptions. Read-only.
var specRules = []Rule{
	{
		ID: idSequentialID, Title: "Sequential integer identifier in path", Severity: Medium, Category: API1,
		Description: "A path parameter that names an object is an integer. Integer ids are usually assigned in sequence, so a client that holds one id can guess its neighbours and try them. Every guessed id that the API serves without checking that the caller owns the object is a broken object level authorization.",
		Fix:         "Check ownership on every object access, and use random identifiers such as UUIDs (type: string, format: uuid) so that ids cannot be enumerated.",
	},
	{
		ID: idIDWithoutFormat, Title: "Identifier without format or pattern", Severity: Low, Category: API1,
		Description: "A string parameter that names an object has no format, pattern or maximum length. The gateway cannot reject malformed ids, so guessed or crafted values reach the object lookup, and the description does not tell whether ids are random.",
		Fix:         "Declare the identifier's shape, such as format: uuid or a pattern anchored with ^ and $.",
	},
	{
		ID: idOwnerIDInput, Title: "Owner identifier taken from the client", Severity: Low, Category: API1,
		Description: "An authenticated operation takes the id of a user, account or owner in the query string or request body. When the API already knows the caller from the credential, an owner id from the client invites requests for other users' objects.",
		Fix:         "Derive the owner from the authenticated identity, or check that the given owner matches the caller.",
	},
	{
		ID: idNoAuthWrite, Title: "Write operation without authentication", Severity: High, Category: API2,
		Description: "An operation that creates, changes or deletes data has no security requirement, neither its own nor a global one. Anyone who can reach the API can call it.",
		Fix:         "Add a security requirement to the operation or to the document root. If the operation is public on purpose, suppress the finding with x-warden-ignore and give the reason.",
	},
	{
		ID: idNoAuthRead, Title: "Read operation without authentication", Severity: Medium, Category: API2,
		Description: "An operation that reads data has no security requirement, neither its own nor a global one. Anyone who can reach the API can read what it returns.",
		Fix:         "Add a security requirement, or suppress the finding with x-warden-ignore and a reason when the data is public.",
	},
	{
		ID: idSecurityOptOut, Title: "Operation opts out of global security", Severity: Medium, Category: API2,
		Description: "The document requires authentication globally, but this operation sets security to an empty list and so accepts anonymous requests. Such exceptions are easy to add by mistake and hard to spot in review.",
		Fix:         "Remove the empty security list, or confirm with x-warden-ignore and a reason that the operation is public.",
	},
	{
		ID: idOptionalAuth, Title: "Authentication is optional", Severity: Medium, Category: API2,
		Description: "The security requirements contain an empty alternative ({}), so a request without any credential is accepted as well as one with a credential. Code behind the operation must then handle the anonymous case correctly.",
		Fix:         "Remove the empty requirement, or document why anonymous access is safe and suppress the finding.",
	},
	{
		ID: idAPIKeyInQuery, Title: "API key in the query string", Severity: High, Category: API2,
		Description: "A security scheme sends an API key as a query parameter. URLs are written to access logs, proxy logs, browser history and Referer headers, so the key leaks to everyone who can read them.",
		Fix:         "Send the key in a header (in: header), such as Authorization or X-API-Key.",
	},
	{
		ID: idCredentialParam, Title: "Credential in a URL parameter", Severity: High, Category: API2,
		Description: "A query or path parameter is named like a password, token, secret or API key. Values in URLs are logged and cached along the way, so the credential leaks.",
		Fix:         "Move the credential to a header or to the request body, and declare it as a security scheme when it authenticates the caller.",
	},
	{
		ID: idBasicAuth, Title: "HTTP Basic authentication", Severity: Medium, Category: API2,
		Description: "A security scheme uses HTTP Basic authentication. The password travels with every request, cannot be scoped or expired, and is often a user's reused password.",
		Fix:         "Use short-lived tokens (OAuth2, OpenID Connect) or API keys that can be scoped and revoked.",
	},
	{
		ID: idImplicitFlow, Title: "OAuth2 implicit flow", Severity: High, Category: API2,
		Description: "A security scheme offers the OAuth2 implicit flow, which returns the access token in the redirect URL. The OAuth 2.0 Security Best Current Practice (RFC 9700) says clients should not use it, because tokens leak through browser history and Referer headers and cannot be bound to the client.",
		Fix:         "Use the authorization code flow with PKCE.",
	},
	{
		ID: idPasswordFlow, Title: "OAuth2 password flow", Severity: High, Category: API2,
		Description: "A security scheme offers the OAuth2 resource owner password credentials flow, in which the client collects the user's password. RFC 9700 says it must not be used: it exposes the password to the client and cannot support multi-factor authentication.",
		Fix:         "Use the authorization code flow with PKCE, or the client credentials flow for machine clients.",
	},
	{
		ID: idAuthOverHTTP, Title: "Credentials sent to a plain-HTTP server", Severity: High, Category: API2,
		Description: "The document uses security schemes and lists a server with an http:// URL on a public host. Keys, tokens and passwords sent to that server cross the network in clear text.",
		Fix:         "Serve the API over HTTPS only, and remove the http:// server.",
	},
	{
		ID: idOAuthURLHTTP, Title: "OAuth2 or OpenID Connect endpoint over plain HTTP", Severity: High, Category: API2,
		Description: "An authorization, token, refresh or OpenID Connect discovery URL uses http://. Authorization codes, tokens and client secrets sent to it can be read and changed in transit.",
		Fix:         "Use https:// for every OAuth2 and OpenID Connect URL.",
	},
	{
		ID: idJWTAudience, Title: "Bearer token without audience or issuer", Severity: Low, Category: API2,
		Description: "A bearer token scheme does not say which issuer signs the tokens or which audience they must name. Without that, implementers tend to accept any validly signed token, including ones issued for another API.",
		Fix:         "Describe the expected issuer and audience in the scheme's description, and verify iss and aud in the gateway.",
	},
	{
		ID: idUndefinedScheme, Title: "Security requirement names an undefined scheme", Severity: High, Category: API2,
		Description: "A security requirement refers to a scheme that is not defined in the document. Tools that generate gateways or clients from the document may drop the requirement and leave the operation open.",
		Fix:         "Define the scheme under components.securitySchemes (securityDefinitions in Swagger 2.0), or fix the name.",
	},
	{
		ID: idMissing401, Title: "Secured operation without a 401 response", Severity: Low, Category: API2,
		Description: "An operation requires authentication but does not document the 401 response for a missing or invalid credential. Clients and tests then rarely exercise the failure path, and undocumented failures tend to leak details.",
		Fix:         "Document a 401 response (or a 4XX range) with an error schema.",
	},
	{
		ID: idNoSchemes, Title: "No security schemes", Severity: High, Category: API2,
		Description: "The document describes operations but defines no security scheme at all, so nothing in it can require authentication.",
		Fix:         "Define the schemes the API accepts and require them globally or per operation.",
	},
	{
		ID: idLoginNo429, Title: "Authentication endpoint without rate limiting", Severity: Medium, Category: API2,
		Description: "An operation that takes credentials (login, token, password reset, one-time code) documents no 429 response. Without a limit, attackers can guess passwords and codes, or stuff leaked credentials, at full speed.",
		Fix:         "Rate limit the endpoint per client and per account, lock out repeated failures, and document the 429 response.",
	},
	{
		ID: idSecretInExample, Title: "Credential in an example or default", Severity: High, Category: API2,
		Description: "An example, default or description contains what looks like a real credential: a signed JWT, a private key, or a provider key such as an AWS access key id. Published API descriptions are read by everyone, and such values often still work.",
		Fix:         "Replace the value with an obviously fake one and revoke the credential if it was real.",
	},
	{
		ID: idOpenBody, Title: "Request body accepts undeclared properties", Severity: Low, Category: API3,
		Description: "An object schema in a request does not set additionalProperties: false, so clients may send properties that the schema does not list. If the server binds the body to a model, extra properties can set fields the client must not change (mass assignment).",
		Fix:         "Set additionalProperties: false (or unevaluatedProperties: false in OpenAPI 3.1) on request schemas, and validate bodies at the gateway.",
	},
	{
		ID: idMassAssignment, Title: "Privilege property writable in a request", Severity: Medium, Category: API3,
		Description: "A request schema has a property such as role, isAdmin, permissions, verified or balance that is not readOnly. A client that sets it may grant itself rights or change state that only the server should control.",
		Fix:         "Remove the property from request schemas, mark it readOnly, or accept it only on an administrative operation.",
	},
	{
		ID: idPasswordInResponse, Title: "Password or secret in a response", Severity: High, Category: API3,
		Description: "A response schema contains a property named like a password, password hash, private key or secret. Returning such values exposes them to every client and to every log that records responses.",
		Fix:         "Remove the property from responses, or mark it writeOnly when the schema is shared with requests.",
	},
	{
		ID: idPIIInResponse, Title: "Payment card or national id in a response", Severity: High, Category: API3,
		Description: "A response schema contains a property named like a payment card number, card security code or social security number. Exposing these in full breaks PCI DSS and privacy rules and makes the API a target.",
		Fix:         "Return masked values (such as the last four digits) or a token that stands for the value.",
	},
	{
		ID: idTokenInResponse, Title: "Token or API key in a response", Severity: Medium, Category: API3,
		Description: "A response of an operation that is not an authentication endpoint contains a property named like an access token, session id or API key. Credentials returned outside of authentication flows leak to clients that should not hold them.",
		Fix:         "Return credentials only from authentication endpoints, and name them by id elsewhere.",
	},
	{
		ID: idUnboundedString, Title: "String input without maximum length", Severity: Medium, Category: API4,
		Description: "A string in a parameter or request body has no maxLength, enum, const, bounded format or anchored bounded pattern. Clients can send values of any size, which costs memory, CPU and storage on every layer that handles them.",
		Fix:         "Set maxLength to the largest value the API needs.",
	},
	{
		ID: idUnboundedArray, Title: "Array input without maximum items", Severity: Medium, Category: API4,
		Description: "An array in a parameter or request body has no maxItems. A request can carry any number of items, and work per item multiplies with it.",
		Fix:         "Set maxItems to the largest batch the API supports.",
	},
	{
		ID: idUnboundedNumber, Title: "Number input without maximum", Severity: Low, Category: API4,
		Description: "An integer or number in a parameter or request body has no maximum or enum. Large values used as counts, sizes or loop bounds can exhaust the server.",
		Fix:         "Set maximum (and minimum) to the range the API accepts.",
	},
	{
		ID: idUnboundedUpload, Title: "File upload without size limit", Severity: Medium, Category: API4,
		Description: "A request accepts binary content (a file upload or an octet stream) without maxLength. Uploads of any size fill disks and memory.",
		Fix:         "Set maxLength on the binary schema and enforce a body size limit at the gateway.",
	},
	{
		ID: idNoPagination, Title: "List operation without pagination", Severity: Medium, Category: API4,
		Description: "A GET operation returns an array but takes no parameter that limits the number of items, so every call may return the whole collection, which grows without bound.",
		Fix:         "Add a limit (or page size) parameter with a maximum, and cursor or page parameters.",
	},
	{
		ID: idPageSizeNoMax, Title: "Page size without maximum", Severity: Medium, Category: API4,
		Description: "A parameter that sets the page size or number of results has no maximum, so a client can ask for the whole collection in one request.",
		Fix:         "Set maximum on the parameter, such as 100.",
	},
	{
		ID: idMissing429, Title: "Operation without a 429 response", Severity: Low, Category: API4,
		Description: "The document shows that the API enforces rate limits (it documents a 429 response or rate limit headers elsewhere), but this operation does not document 429. Clients of the operation are not told how to back off.",
		Fix:         "Document the 429 response, with Retry-After or RateLimit headers, on every rate-limited operation.",
	},
	{
		ID: idBodyWithoutSchema, Title: "Request body without a schema", Severity: Medium, Category: API4,
		Description: "A request body media type has no schema, so neither size nor shape of the body can be validated before it reaches the application.",
		Fix:         "Add a schema to every request media type, with bounds on sizes.",
	},
	{
		ID: idAdminPath, Title: "Administrative or internal path", Severity: Medium, Category: API5,
		Description: "A path looks administrative, internal or meant for debugging (admin, internal, debug, actuator, sysinfo and similar). Such functions are the usual target of broken function level authorization, and often should not be reachable from outside at all.",
		Fix:         "Move administrative functions to a separate API on an internal listener, or require an administrator role and check it on every operation.",
	},
	{
		ID: idAdminNoAuth, Title: "Administrative path without authentication", Severity: Critical, Category: API5,
		Description: "A path that looks administrative, internal or meant for debugging has no security requirement. Anyone who finds it can use it.",
		Fix:         "Require authentication and an administrator role, or remove the path from the public API.",
	},
	{
		ID: idMissing403, Title: "Secured operation without a 403 response", Severity: Low, Category: API5,
		Description: "An operation requires scopes or works on a single object, but does not document the 403 response for a caller who is authenticated but not allowed. This usually means the authorization check and its failure path were not designed.",
		Fix:         "Document a 403 response and check permissions on every call.",
	},
	{
		ID: idWriteNoScopes, Title: "Write operation requires no OAuth2 scopes", Severity: Medium, Category: API5,
		Description: "An operation that changes data requires an OAuth2 or OpenID Connect scheme but names no scopes, so any valid token can call it, including tokens granted for read-only use.",
		Fix:         "Require a write scope on operations that change data.",
	},
	{
		ID: idBusinessFlow, Title: "Sensitive business flow without rate limiting", Severity: Medium, Category: API6,
		Description: "An operation looks like a sensitive business flow (sign-up, checkout, payment, transfer, coupon redemption, reservation, voting, posting reviews) and documents no 429 response. Automated clients can abuse such flows at scale even when every single request is legitimate.",
		Fix:         "Limit the flow per account and per device or IP, add bot protection where it fits, and document the 429 response.",
	},
	{
		ID: idURLInput, Title: "URL input without an allow-list", Severity: Medium, Category: API7,
		Description: "A parameter or request property takes a URL (by format or by a name such as url, callback, webhook or redirect) without an enum or pattern that restricts it. If the server fetches or redirects to the URL, clients can make it reach internal services or cloud metadata endpoints.",
		Fix:         "Restrict the URL with an enum or an anchored pattern of allowed hosts, and validate it on the server against an allow-list before fetching, without following redirects.",
	},
	{
		ID: idHTTPServer, Title: "Plain-HTTP server URL", Severity: Medium, Category: API8,
		Description: "A server URL uses http:// on a public host, so requests and responses cross the network unencrypted and can be read and changed.",
		Fix:         "Use https:// server URLs only.",
	},
	{
		ID: idPrivateServer, Title: "Server URL on a local or private address", Severity: Low, Category: API8,
		Description: "A server URL names localhost, a loopback, private, link-local or .local/.internal address. Published descriptions that list internal servers reveal network layout, and clients generated from them may call the wrong server.",
		Fix:         "Publish only the public server URLs; keep development servers in a separate description or server variables.",
	},
	{
		ID: idNoServers, Title: "No servers declared", Severity: Info, Category: API8,
		Description: "The document declares no server (no servers in OpenAPI 3, no host in Swagger 2.0). Clients and scanners then guess where the API lives, and the audit cannot check the transport.",
		Fix:         "Declare the production server URLs.",
	},
	{
		ID: idCORSWildcard, Title: "Wildcard CORS origin", Severity: Medium, Category: API8,
		Description: "A response documents Access-Control-Allow-Origin with the value *, which lets scripts on any web site read the responses. For APIs that use cookies or other ambient credentials this exposes user data across sites.",
		Fix:         "Allow only the origins of your own web applications.",
	},
	{
		ID: idNoCORS, Title: "No CORS policy documented", Severity: Info, Category: API8,
		Description: "No response documents Access-Control-Allow-Origin. If browsers call the API, its cross-origin policy is then decided in code or proxies without review.",
		Fix:         "Document the CORS headers the API returns, or state that it is not meant for browsers.",
	},
	{
		ID: idVerboseError, Title: "Error response exposes debugging details", Severity: Medium, Category: API8,
		Description: "An error response schema has properties such as stack, stackTrace, exception, trace or sql. Stack traces and queries in responses tell attackers about the code, libraries and data stores behind the API.",
		Fix:         "Return a generic problem object (RFC 9457) with a request id, and log the details on the server.",
	},
	{
		ID: idXMLBody, Title: "XML request body", Severity: Low, Category: API8,
		Description: "An operation accepts XML request bodies. XML parsers that resolve external entities or expand nested entities are open to XXE and entity expansion attacks.",
		Fix:         "Prefer JSON, or make sure the XML parser disables DTDs and external entities.",
	},
	{
		ID: idServerVariable, Title: "Server variable without enum", Severity: Low, Category: API8,
		Description: "A server URL variable accepts any value. Generated clients may then be pointed at arbitrary hosts, and the description does not say which servers are legitimate.",
		Fix:         "List the allowed values with enum.",
	},
	{
		ID: idUnanchoredPattern, Title: "Pattern without anchors", Severity: Low, Category: API8,
		Description: "A pattern in a request schema is not anchored with ^ and $. JSON Schema patterns match anywhere in the value, so any input that merely contains a matching substring passes validation.",
		Fix:         "Anchor the pattern: ^...$.",
	},
	{
		ID: idTraceMethod, Title: "TRACE operation", Severity: Medium, Category: API8,
		Description: "The document describes a TRACE operation. TRACE echoes the request, including cookies and authorization headers, back to the client and enables cross-site tracing.",
		Fix:         "Remove the TRACE operation and disable the method on the server.",
	},
	{
		ID: idBadSuppression, Title: "Suppression without a reason", Severity: Low, Category: API8,
		Description: "An x-warden-ignore extension gives no reason, or names no valid rule. Suppressions without reasons cannot be reviewed, so Warden ignores them and reports the findings they meant to hide.",
		Fix:         "Write x-warden-ignore as a list of {rule: WARDEN-..., reason: ...} entries, or as a map from rule id to reason.",
	},
	{
		ID: idDeprecated, Title: "Deprecated operation still served", Severity: Low, Category: API9,
		Description: "An operation is marked deprecated but is still part of the API. Old endpoints tend to miss newer security fixes and are forgotten in reviews, yet stay reachable.",
		Fix:         "Set a removal date, tell consumers, and remove the operation.",
	},
	{
		ID: idNoOperationID, Title: "Operation without operationId", Severity: Info, Category: API9,
		Description: "An operation has no operationId. Inventories, gateways and generated clients then cannot name the operation stably, which makes it harder to track what is exposed.",
		Fix:         "Give every operation a unique operationId.",
	},
	{
		ID: idDuplicateOpID, Title: "Duplicate operationId", Severity: Low, Category: API9,
		Description: "Two operations share an operationId. Tools that key policies, routes or inventory on it apply the settings of one operation to the other.",
		Fix:         "Make every operationId unique.",
	},
	{
		ID: idOldVersion, Title: "Older API version still served", Severity: Low, Category: API9,
		Description: "Paths of an older API version (such as /v1/) are served next to a newer one (/v2/). Old versions often lack fixes that the new one has, and attackers go for them first.",
		Fix:         "Retire the old version, or keep it patched and monitored like the current one.",
	},
	{
		ID: idStagingServer, Title: "Test or staging server", Severity: Low, Category: API9,
		Description: "A server URL looks like a development, test, staging or sandbox environment. Such environments often run with weaker security and real data copies, and publishing them invites attacks.",
		Fix:         "Remove non-production servers from published descriptions.",
	},
	{
		ID: idSwagger2, Title: "Swagger 2.0 description", Severity: Info, Category: API9,
		Description: "The description uses Swagger 2.0, which cannot express several security features (OpenID Connect, bearer formats, more than one OAuth2 flow per scheme) and is no longer maintained.",
		Fix:         "Convert the description to OpenAPI 3.1.",
	},
	{
		ID: idUnusedScheme, Title: "Unused security scheme", Severity: Info, Category: API9,
		Description: "A security scheme is defined but no operation requires it. Either the scheme is left over, or operations that should require it do not.",
		Fix:         "Require the scheme where it applies, or remove it.",
	},
	{
		ID: idDanglingRef, Title: "Reference to an undefined component", Severity: Low, Category: API9,
		Description: "A $ref points at a component that the document does not define. Tools that generate validators, gateways or clients from the document fail or silently skip the part, so requests there go unvalidated.",
		Fix:         "Define the missing component or correct the reference.",
	},
	{
		ID: idCallbackURL, Title: "Callback to a client-supplied URL", Severity: Medium, Category: API10,
		Description: "A callback sends requests to a URL taken from the client's request. The server then calls whatever address a client names, including internal ones, and trusts what comes back.",
		Fix:         "Validate callback URLs against an allow-list, resolve and block private addresses, and do not follow redirects.",
	},
	{
		ID: idHookNoAuth, Title: "Webhook or callback without authentication", Severity: Low, Category: API10,
		Description: "A webhook or callback has no security requirement, so its receiver cannot tell real deliveries from forged ones.",
		Fix:         "Sign deliveries (for example an HMAC signature header) and describe the scheme on the webhook or callback.",
	},
	{
		ID: idCallbackHTTP, Title: "Callback over plain HTTP", Severity: Medium, Category: API10,
		Description: "A callback or webhook URL uses http://, so deliveries, and any credentials or signatures they carry, cross the network in clear text.",
		Fix:         "Deliver callbacks over https:// only.",
	},
}
