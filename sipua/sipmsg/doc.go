// Package sipmsg parses and builds SIP messages (RFC 3261 section 7, 20, 25):
// the start line, headers in received order with compact names expanded,
// and the body. It also parses the structured values the user agent and the
// development PBX need: URIs, name-addrs (From, To, Contact, Route) and Via.
//
// Two APIs, as elsewhere in the project:
//
//   - (*Message).ParseFrom(b) parses into a reused Message without
//     allocating: its strings and Body are views into b, valid while the
//     caller keeps b unchanged and does not parse into the Message again; it
//     may rewrite b (folded lines are unfolded in place). Clone copies a
//     message into memory of its own, to keep it.
//   - Parse(b) copies b and parses the copy into a new Message: the
//     allocating convenience, safe to keep.
//
// The views read what a user agent reads from every message without
// parsing into Via, NameAddr or URI and without allocating: (*Message).TopVia
// and ScanVia (the top Via's branch and sent-by), Tag (a From or To tag),
// ScanNameAddr and ScanURI (a Contact's URI host). Their strings are views
// into the value scanned, and so into ParseFrom's buffer (view.go).
//
// AppendTo writes the wire form into the caller's buffer and does not
// allocate when it has room; String allocates.
//
// Parsing is strict about what a transaction layer relies on (start line,
// Via, From, To, Call-ID, CSeq, Content-Length) and about the syntax RFC 4475
// section 3.1.2 expects a parser to reject, and lenient about the rest.
// ResponseFor maps a parse error to the response a UAS sends (400, or 505
// for a SIP version other than 2.0); a response that fails to parse is
// dropped. The benchmarks against emiago/sipgo live in tools/sipbench, a
// module of its own.
package sipmsg
