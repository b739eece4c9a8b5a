package resolve

import "errors"

// Errors Lookup wraps, for callers that branch on them. Other errors (a
// server that does not answer in time, a context cancelled) are wrapped
// with the package prefix too.
var (
	// ErrNotFound: every answer was negative (no such name, or no record
	// of any type the steps ask for): the URI names no reachable server.
	ErrNotFound = errors.New("resolve: no SIP server found")
	// ErrTransport: the URI asks for a transport the user agent does not
	// support (or that does not exist, or that a sips URI cannot use).
	ErrTransport = errors.New("resolve: transport not supported")
	// ErrMalformed: a DNS answer that does not parse (the query is tried
	// on the next server, or again).
	ErrMalformed = errors.New("resolve: malformed DNS answer")
	// ErrServer: the DNS server answered with an error code (SERVFAIL,
	// REFUSED, ...).
	ErrServer = errors.New("resolve: DNS server error")
)
