// Package pbx is the development PBX: the small SIP server the phone firmware
// is run and tested against, embedded in the project's tools.
//
// It is a registrar (RFC 3261 section 10) with digest authentication
// (RFC 2617/7616 MD5, qop=auth, nonces it issued that expire; stale=true for an
// expired one) and a transaction-light stateful proxy (RFC 3261 section 16)
// that routes calls between the registered extensions over UDP.
//
// Phones behind NAT (QEMU's user network) are handled as real PBXs do: every
// binding keeps the source address its REGISTER came from (the flow, RFC 5626
// style, Kamailio's "received"), and everything the PBX sends to a registered
// phone goes to that flow, never to the Contact's host. The PBX also keeps, per
// binding, the address the phone used to reach it (the REGISTER's Request-URI,
// e.g. 10.0.2.2:5060 from inside QEMU) and advertises that address in the Via
// and Record-Route it puts on requests to that phone; when caller and callee
// reach the PBX by different addresses it record-routes twice (Kamailio's
// double Record-Route). Its own Route entries are recognised by a per-PBX token
// in the URI's user part as well as by host:port (the listening address, the
// addresses phones registered through, and 10.0.2.2 at the listening port:
// QEMU's user-network name for the host). A preloaded Route naming the PBX
// (an outbound proxy setting) is removed and the request treated as any
// other: REGISTER always goes to the registrar, initial requests are
// authenticated. Via headers of requests get
// received= and rport= (RFC 3581, forced as Kamailio's force_rport does).
//
// One goroutine owns all state (bindings, nonces, forwarded INVITEs, the cache
// of responses the PBX sent itself); a second reads the socket. Every message
// in and out is recorded in a bounded ladder (Ladder, Config.Trace,
// FormatLadder) so tests can assert on a call's flow.
//
// Forwarded INVITEs are retransmitted by the PBX itself until the callee
// answers anything (Timer A), and answered 408 upstream after Timer B, since
// the PBX's own 100 Trying stops the caller's retransmissions. Other
// forwarded requests are not retransmitted by the PBX: the caller's
// retransmissions pass through on the same branch.
//
// Known limits: one binding is used per call (the most recently registered;
// no forking); UDP only; no DNS beyond what net.ResolveUDPAddr does.
package pbx
