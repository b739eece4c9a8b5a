package sipmsg

import "strings"

// maxKnownName bounds the length of the names in canonical.
const maxKnownName = 24

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
		if len(n) > maxKnownName {
			panic("sipmsg: maxKnownName too small for " + n)
		}
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
//
// It does not allocate.
func CanonicalName(name string) string {
	if len(name) == 1 {
		if full := compactName(name[0]); full != "" {
			return full
		}
	}
	if len(name) <= maxKnownName {
		var lower [maxKnownName]byte
		for i := 0; i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		if c, ok := canonical[string(lower[:len(name)])]; ok {
			return c
		}
	}
	return name
}

// compactName returns the full name for a compact form, "" if c is none.
func compactName(c byte) string {
	switch c | 0x20 {
	case 'v':
		return "Via"
	case 'f':
		return "From"
	case 't':
		return "To"
	case 'i':
		return "Call-ID"
	case 'm':
		return "Contact"
	case 'l':
		return "Content-Length"
	case 'c':
		return "Content-Type"
	case 'k':
		return "Supported"
	case 's':
		return "Subject"
	case 'e':
		return "Content-Encoding"
	case 'o':
		return "Event"
	case 'u':
		return "Allow-Events"
	case 'r':
		return "Refer-To"
	case 'b':
		return "Referred-By"
	case 'x':
		return "Session-Expires"
	case 'y':
		return "Identity"
	}
	return ""
}

func isList(canon string) bool { return listHeaders[canon] }
