// Package sipmsg parses and builds SIP messages (RFC 3261 section 7, 20, 25):
// the start line, headers in received order with compact names expanded,
// and the body. It also parses the structured values the user agent and the
// development PBX need: URIs, name-addrs (From, To, Contact, Route) and Via.
//
// The parser allocates; a message is owned by its caller and is safe to keep.
// Parse is strict about what a transaction layer relies on (start line,
// Via, From, To, Call-ID, CSeq, Content-Length) and lenient about the rest.
package sipmsg
