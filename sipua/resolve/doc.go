// Package resolve is the SIP user agent's next-hop resolver: it turns the
// URI a request goes to (the Request-URI, or the top Route) into an
// ordered list of targets, each a transport, an IP address and port, and
// the name the server was found under, as RFC 3263 section 4 says a
// client does.
//
// # The steps
//
// TARGET is the URI's maddr parameter, else its host (section 4).
//
//   - A numeric TARGET is the target: the URI's port or the transport's
//     default (5060, 5061 for TLS); the transport is the transport
//     parameter, else UDP for sip (TCP when the user agent has no UDP),
//     TLS for sips (4.1, 4.2).
//   - A port in the URI: A (and AAAA) records of TARGET only, no SRV (4.2).
//   - A transport parameter: the SRV records of that transport only
//     (_sip._udp, _sip._tcp, or _sips._tcp for TLS); without any, A
//     records at the default port (4.2). In a sips URI transport=tcp means
//     TLS; transport=udp is refused.
//   - Neither: NAPTR records of TARGET (4.1, RFC 3403). Those with flag
//     "s", an empty regexp and a service the user agent supports are used,
//     by order then preference: SIP+D2U (UDP), SIP+D2T (TCP), SIPS+D2T
//     (TLS; the only one for a sips URI). Each gives an SRV name, and every
//     usable record is expanded (not only the first order's) so that a
//     failing server has somewhere to fail over to. Without usable NAPTR
//     records, the SRV records of each supported transport, in the order
//     Config.Transports prefers; without any, A records with the default
//     transport and port.
//   - SRV records are ordered by priority, and within a priority by RFC
//     2782's weighted random selection (the random source is
//     Config.Rand). A lone "." target says the service is not offered:
//     nothing falls back to A records then. Each SRV target's A (and AAAA)
//     records give one target each, in the order the server gave them.
//
// A step falls back to the next only when every answer it got was
// negative (no such name, or no record of the type): a query that failed
// (timeout, SERVFAIL) is not "no records", so it ends the walk with what
// the other answers gave, or with the error. A failed address query costs
// only that name's targets. Duplicate targets (same transport and
// address) are dropped, the first kept.
//
// Target.ServerName is the SRV target when SRV records were used, else
// TARGET: the host name a TLS server is asked for (SNI) and checked
// against. RFC 5922 section 4 checks the URI's domain instead (DNS is not
// trusted); the caller, which has the URI, chooses.
//
// # Caching and failures
//
// Each record set (a query's answer) is cached for its own TTL (the
// smallest of its records and of the CNAMEs leading to it), at most
// Config.MaxTTL; a TTL of 0 is used by the lookup that asked and not
// cached. Negative answers are cached for the SOA's negative TTL (RFC
// 2308 section 5: the smaller of the SOA's TTL and MINIMUM), at most
// Config.NegativeTTL (30 s), which is also the time when there is no SOA.
// Failed queries are not cached. So, after a lookup, an SRV set with a
// long TTL stays while its A records expire and are asked again alone.
// The cache is bounded (Config.MaxEntries record sets, 64): when full, an
// expired entry, else the one expiring first, goes. The clock is
// Config.Now, so tests move time by hand; network timeouts use the real
// clock.
//
// Failed marks a target (a transaction timeout, a 503, a transport error):
// for Config.FailFor (30 s) lookups order it after the others, which keep
// their order, so the user agent's next try goes to the next server.
//
// # The API and its goroutines
//
// A user agent's state belongs to one goroutine, which must not wait on
// DNS. It asks Cached (or AppendCached, which appends into its buffer and
// does not allocate) inline: an answer when every record set the steps
// need is cached and fresh, with no I/O. When that says no, it runs Lookup
// on another goroutine, bounded by a context, and posts the result back.
// Lookup answers what is cached (a negative too) without I/O and asks DNS
// for the rest. A Resolver is safe for concurrent use.
//
// # The DNS client
//
// Queries are built and answers parsed with golang.org/x/net/dns/dnsmessage.
// NAPTR (type 35), which dnsmessage does not know, is parsed from its raw
// RDATA (RFC 3403 section 4.1); so is SRV, whose target dnsmessage would
// read past the record's length; a compression pointer in either (which
// their RFCs forbid, but servers send) is followed, bounded. A and AAAA
// lengths are checked. An answer that does not parse is an error
// (ErrMalformed), never a panic (FuzzParseAnswer and FuzzNAPTR).
//
// A query goes over UDP from a connected socket, with recursion desired
// and EDNS0 (1232 bytes); the answer must carry the query's ID and
// question (anything else is ignored, and the read goes on). A truncated
// answer is asked again over TCP (RFC 7766). Each try is bounded by
// Config.Timeout (2 s) and the context; the servers are tried in turn,
// Config.Attempts (2) rounds. The servers are Config.Servers (the
// DHCP-given ones), else the nameserver lines of resolv.conf, read for
// each query.
//
// # Not done
//
//   - DNSSEC: answers are not validated (and RFC 5922 is why TLS names
//     should not rest on them); no 0x20 case randomization either.
//   - RFC 3263 section 5 (how a server finds where to send responses) and
//     section 4.3's rule that a transaction's retransmissions stay on one
//     target: the caller keeps the target for the transaction.
//   - SCTP (SIP+D2S), WebSocket (RFC 7118) and DTLS services: skipped.
//   - NAPTR regexps, and flags other than "s": such records are skipped
//     (SIP uses none).
//   - Addresses in an answer's additional section are not used: each SRV
//     target's records are asked for (and cached) on their own.
//   - resolv.conf's search domains, ndots and options: SIP URIs name fully
//     qualified hosts, and Config sets the timeouts.
//   - Concurrent lookups of one name are not merged; AAAA is asked for
//     only with Config.IPv6, and IPv6 targets follow IPv4 ones (no Happy
//     Eyeballs).
package resolve
