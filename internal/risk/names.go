package risk

import (
	"regexp"
	"strings"
)

// normalizeName lowercases a property or parameter name and drops
// separators, so that "user_id", "userId" and "user-id" compare equal.
func normalizeName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func oneOf(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// isIdentifierName reports whether a parameter name names an object id,
// such as "id", "petId", "user_id" or "uuid".
func isIdentifierName(name string) bool {
	n := normalizeName(name)
	if oneOf(n, "id", "uuid", "guid") {
		return true
	}
	return strings.HasSuffix(name, "Id") || strings.HasSuffix(name, "ID") ||
		strings.HasSuffix(strings.ToLower(name), "_id") || strings.HasSuffix(strings.ToLower(name), "-id")
}

func isOwnerIDName(name string) bool {
	return oneOf(normalizeName(name), "userid", "accountid", "ownerid", "customerid", "tenantid", "orgid", "organizationid", "memberid")
}

// isCredentialParamName reports whether a parameter in the given location
// carries a credential. Path parameters named "key", "session" or
// "authorization" usually name objects, so only unambiguous names count
// there.
func isCredentialParamName(in, name string) bool {
	n := normalizeName(name)
	if oneOf(n, "password", "passwd", "pwd", "pass", "token", "accesstoken", "refreshtoken", "idtoken", "authtoken",
		"apikey", "apitoken", "secret", "clientsecret", "jwt") {
		return true
	}
	return in == "query" && oneOf(n, "key", "sessionid", "session", "sid", "bearer", "authorization")
}

func isPasswordName(name string) bool {
	n := normalizeName(name)
	return strings.Contains(n, "password") || strings.Contains(n, "passwd") || strings.Contains(n, "secret") ||
		strings.Contains(n, "privatekey") || oneOf(n, "pwd", "passphrase", "pin", "pincode")
}

func isCardOrNationalIDName(name string) bool {
	n := normalizeName(name)
	return oneOf(n, "pan", "cvv", "cvc", "cvv2", "cvc2", "cardcvv", "cardcvc", "ccnumber", "ccnum", "cardno",
		"ssn", "socialsecuritynumber", "socialsecurityno", "primaryaccountnumber") ||
		strings.HasSuffix(n, "cardnumber")
}

func isTokenName(name string) bool {
	n := normalizeName(name)
	return oneOf(n, "token", "accesstoken", "refreshtoken", "idtoken", "authtoken", "bearertoken", "sessiontoken",
		"sessionid", "sessionkey", "apikey", "apitoken", "jwt") ||
		strings.HasSuffix(n, "accesstoken") || strings.HasSuffix(n, "refreshtoken") || strings.HasSuffix(n, "apikey")
}

func isPrivilegeName(name string) bool {
	return oneOf(normalizeName(name), "role", "roles", "admin", "isadmin", "superuser", "issuperuser", "staff", "isstaff",
		"permission", "permissions", "privilege", "privileges", "accesslevel", "usertype", "verified", "isverified",
		"emailverified", "approved", "isapproved", "balance", "credit", "credits")
}

func isURLName(name string) bool {
	n := normalizeName(name)
	return strings.HasSuffix(n, "url") || strings.HasSuffix(n, "uri") || strings.HasSuffix(n, "urls") ||
		strings.Contains(n, "callback") || strings.Contains(n, "webhook") || strings.Contains(n, "redirect") ||
		oneOf(n, "endpoint", "returnto", "next", "target", "link")
}

func isVerboseErrorName(name string) bool {
	return oneOf(normalizeName(name), "stack", "stacktrace", "trace", "traceback", "backtrace", "exception",
		"exceptiontype", "exceptionclass", "exceptionmessage", "debug", "debuginfo", "debugmessage", "sql", "sqlquery", "sqlerror")
}

// isPageSizeName reports whether a parameter sets the number of results.
func isPageSizeName(name string) bool {
	return oneOf(normalizeName(name), "limit", "perpage", "pagesize", "size", "count", "max", "maxresults",
		"maxitems", "top", "first", "last", "take", "pagelimit", "rows", "numresults", "per")
}

// isPageParamName reports whether a parameter selects a page without
// setting its size, which means the server picks a bounded size.
func isPageParamName(name string) bool {
	n := normalizeName(name)
	return oneOf(n, "page", "offset", "cursor", "after", "before", "startingafter", "endingbefore", "skip", "start",
		"pagetoken", "nextpagetoken", "continuationtoken", "marker", "since", "from", "pagenumber", "pageno")
}

var (
	adminSegment   = regexp.MustCompile(`(?i)^_*(admin\w*|administrator|internal|debug|actuator|manage|management|sysinfo|console|private|phpmyadmin|heapdump|superuser|backdoor|\w*admin)$`)
	authPath       = regexp.MustCompile(`(?i)(login|logon|signin|sign-in|sign_in|token|oauth|auth|session|register|signup|sign-up|api-?keys?|api_keys?|credentials?)`)
	credentialPath = regexp.MustCompile(`(?i)(login|logon|signin|sign-in|sign_in|/token|oauth|authenticat|/auth(\b|/|$)|password|passwd|otp|mfa|2fa|one-time)`)
	authEntryPath  = regexp.MustCompile(`(?i)(login|logon|signin|sign-in|sign_in|/token|oauth|register|signup|sign-up|forgot|authenticate|/auth(\b|/|$))`)
	businessPath   = regexp.MustCompile(`(?i)(signup|sign-up|register|checkout|purchase|order|payment|/pay(\b|/|$)|transfer|withdraw|redeem|coupon|voucher|promo|gift|booking|reserv|vote|review|comment|invite|referral)`)
	versionSegment = regexp.MustCompile(`^v(\d+)(\.\d+)?$`)
	stagingHost    = regexp.MustCompile(`(?i)(^|[.-])(dev|develop|development|test|testing|staging|stage|stg|qa|uat|sandbox|preprod|preview)(\d*)([.-]|$)`)
)

func isAdminPath(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if seg != "" && !strings.HasPrefix(seg, "{") && adminSegment.MatchString(seg) {
			return true
		}
	}
	return false
}

// isAuthEndpoint reports whether an operation hands out or manages
// credentials, where tokens in responses are expected.
func isAuthEndpoint(o *operation) bool {
	return authPath.MatchString(o.path) || authPath.MatchString(o.op.OperationID)
}
