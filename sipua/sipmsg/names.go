package sipmsg

import "strings"

// compact maps the compact header forms of RFC 3261 section 7.3.3 (and the
// extensions that define one) to their full names.
var compact = map[byte]string{
	'v': "Via", 'f': "From", 't': "To", 'i': "Call-ID", 'm': "Contact",
	'l': "Content-Length", 'c': "Content-Type", 'k': "Supported", 's': "Subject",
	'e': "Content-Encoding", 'o': "Event", 'u': "Allow-Events", 'r': "Refer-To",
	'b': "Referred-By", 'x': "Session-Expires", 'y': "Identity",
}

// canonical spells the header names the project meets in their usual form.
var canonical = map[string]string{}

// listHeaders are the headers whose values are comma-separated lists
// (RFC 3261 section 7.3.1); GetAll splits them and Get returns the first element.
var listHeaders = map[string]bool{}

func init() {
	for _, n := range []string{
		"Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type",
		"Max-Forwards", "Route", "Record-Route", "WWW-Authenticate", "Authorization",
		"Proxy-Authenticate", "Proxy-Authorization", "User-Agent", "Server", "Allow",
		"Supported", "Require", "Proxy-Require", "Unsupported", "Expires", "Min-Expires",
		"Subject", "Event", "Allow-Events", "Refer-To", "Referred-By", "Session-Expires",
		"Identity", "Content-Encoding", "Accept", "Accept-Encoding", "Accept-Language",
		"Alert-Info", "Call-Info", "Error-Info", "Date", "Timestamp", "Warning",
		"Retry-After", "Reply-To", "Organization", "Priority", "In-Reply-To",
		"Authentication-Info", "MIME-Version", "Content-Disposition", "Content-Language",
		"Path", "Service-Route", "Subscription-State", "Reason", "P-Asserted-Identity",
		"Diversion", "Replaces", "Min-SE", "RSeq", "RAck",
	} {
		canonical[strings.ToLower(n)] = n
	}
	for _, n := range []string{
		"Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Require",
		"Proxy-Require", "Unsupported", "Accept", "Accept-Encoding", "Accept-Language",
		"Alert-Info", "Call-Info", "Error-Info", "Content-Encoding", "Content-Language",
		"Allow-Events", "In-Reply-To", "Path", "Service-Route", "Warning", "Reason",
		"P-Asserted-Identity", "Diversion",
	} {
		listHeaders[n] = true
	}
}

// CanonicalName returns the full, canonically spelled form of a header name:
// compact forms are expanded, known names get their usual spelling, unknown
// names are returned unchanged.
func CanonicalName(name string) string {
	if len(name) == 1 {
		c := name[0] | 0x20
		if full, ok := compact[c]; ok {
			return full
		}
	}
	if c, ok := canonical[strings.ToLower(name)]; ok {
		return c
	}
	return name
}

func isList(canon string) bool { return listHeaders[canon] }
