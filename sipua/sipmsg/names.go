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
		"Diversion", "History-Info", "Replaces", "Min-SE", "RSeq", "RAck",
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
		"P-Asserted-Identity", "Diversion", "History-Info",
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
	if c := exactName(name); c != "" {
		return c // spelled canonically already: no hashing
	}
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

func isList(canon string) bool {
	switch canon {
	case "Via", "Contact", "From", "To", "Call-ID", "CSeq", "Content-Length", "Content-Type":
		return canon == "Via" || canon == "Contact" // the common ones without hashing
	}
	return listHeaders[canon]
}

// exactName returns the constant for a name already spelled canonically,
// "" otherwise: a switch the compiler turns into a search without hashing.
func exactName(name string) string {
	switch name {
	case "Via":
		return "Via"
	case "From":
		return "From"
	case "To":
		return "To"
	case "Call-ID":
		return "Call-ID"
	case "CSeq":
		return "CSeq"
	case "Contact":
		return "Contact"
	case "Content-Length":
		return "Content-Length"
	case "Content-Type":
		return "Content-Type"
	case "Max-Forwards":
		return "Max-Forwards"
	case "Route":
		return "Route"
	case "Record-Route":
		return "Record-Route"
	case "WWW-Authenticate":
		return "WWW-Authenticate"
	case "Authorization":
		return "Authorization"
	case "Proxy-Authenticate":
		return "Proxy-Authenticate"
	case "Proxy-Authorization":
		return "Proxy-Authorization"
	case "User-Agent":
		return "User-Agent"
	case "Server":
		return "Server"
	case "Allow":
		return "Allow"
	case "Supported":
		return "Supported"
	case "Require":
		return "Require"
	case "Proxy-Require":
		return "Proxy-Require"
	case "Unsupported":
		return "Unsupported"
	case "Expires":
		return "Expires"
	case "Min-Expires":
		return "Min-Expires"
	case "Subject":
		return "Subject"
	case "Event":
		return "Event"
	case "Allow-Events":
		return "Allow-Events"
	case "Refer-To":
		return "Refer-To"
	case "Referred-By":
		return "Referred-By"
	case "Session-Expires":
		return "Session-Expires"
	case "Identity":
		return "Identity"
	case "Content-Encoding":
		return "Content-Encoding"
	case "Accept":
		return "Accept"
	case "Accept-Encoding":
		return "Accept-Encoding"
	case "Accept-Language":
		return "Accept-Language"
	case "Alert-Info":
		return "Alert-Info"
	case "Call-Info":
		return "Call-Info"
	case "Error-Info":
		return "Error-Info"
	case "Date":
		return "Date"
	case "Timestamp":
		return "Timestamp"
	case "Warning":
		return "Warning"
	case "Retry-After":
		return "Retry-After"
	case "Reply-To":
		return "Reply-To"
	case "Organization":
		return "Organization"
	case "Priority":
		return "Priority"
	case "In-Reply-To":
		return "In-Reply-To"
	case "Authentication-Info":
		return "Authentication-Info"
	case "MIME-Version":
		return "MIME-Version"
	case "Content-Disposition":
		return "Content-Disposition"
	case "Content-Language":
		return "Content-Language"
	case "Path":
		return "Path"
	case "Service-Route":
		return "Service-Route"
	case "Subscription-State":
		return "Subscription-State"
	case "Reason":
		return "Reason"
	case "P-Asserted-Identity":
		return "P-Asserted-Identity"
	case "Diversion":
		return "Diversion"
	case "Replaces":
		return "Replaces"
	case "Min-SE":
		return "Min-SE"
	case "RSeq":
		return "RSeq"
	case "RAck":
		return "RAck"
	}
	return ""
}
