// Package sipua is the phone's SIP user agent: registration of each line
// with digest authentication and refresh, and calls as caller and callee
// (INVITE, provisional responses, 2xx with SDP, ACK, BYE, CANCEL, busy and
// other rejections) over UDP, TCP or TLS (per line), with G.711
// offer/answer.
//
// The work is split by RFC concern into sub-packages: sipmsg (messages),
// digest (authentication), sdp (session descriptions), transport (UDP,
// and TCP/TLS streams), transaction (RFC 3261 section 17) and dialog
// (section 12). This package is the facade the firmware uses.
//
// One goroutine owns the UA's state (transactions, dialogs, calls, lines);
// the socket reader, the timers and the API methods post work to it. Events
// come out on a buffered channel.
//
// Inside a call (session.go, update.go, timer.go, lateoffer.go):
// re-INVITE and UPDATE (RFC 3311) either way, with one answer path for
// the peer's offers and glare answered 491 (a re-INVITE that overtakes
// the ACK of our 2xx is served, unless that ACK is to bring the answer to
// our offer); session timers (RFC 4028,
// Config.SessionExpires) refreshed by UPDATE or re-INVITE; and the late
// offer, an INVITE without SDP answered with our offer in the 200.
//
// SRTP (srtp.go, RFC 3711 with SDES keys, RFC 4568): LineConfig.SRTP
// off, optional (best-effort: RTP/AVP offers with a=crypto) or required
// (RTP/SAVP); fresh keys from crypto/rand for every offer and answer, the
// negotiated pair in the remote Media's SRTP (Encrypted), and keys only
// over TLS (ErrSRTPNeedsTLS; an INVITE over another transport to such a
// line gets 488).
//
// Routing: every request a line sends goes to the line's outbound proxy
// (default: its registrar), with the dialog's route set in Route headers;
// a line without either sends to the target URI or the remote Contact
// (peer-to-peer). Via carries rport (RFC 3581); responses go to the source
// address and port of the request.
//
// Transports (stream.go): a line's requests to its registrar or outbound
// proxy go over LineConfig.Transport; others over what the next hop's URI
// says (;transport=tcp/tls, sips), else UDP. Every message is built for
// the transport it goes over: one Via builder (viaFor) and one Contact
// builder (contactFor) take the transport, and the sender reads it back
// off the top Via. The transaction layer reads it too, and over TCP and
// TLS runs no retransmission timers (RFC 3261 17.1.1.2, 17.1.2.2, 17.2.1,
// 17.2.2); a connection that cannot be made fails its requests at once.
// The UA listens on UDP and TCP at the same port, and on TLS with a
// certificate.
//
// TLS (Config.TLSCA): a server must show a certificate that chains to the
// configured CAs (else the system roots) for the name the line was
// configured with (RFC 5922 section 4: the registrar's or proxy's host,
// not an SRV target) or for the IP address; the phone's own certificate
// goes to servers that ask. A server that fails is a *transport.CertError:
// the REGISTER fails with 503 and Event.Detail ("registrar pbx.test:
// certificate not trusted (x509: ...)"), with no failover to another
// server or transport. A SIPS line (LineConfig.SIPS, RFC 3261 26.2.2)
// uses sips: for its address of record, REGISTER, Contact and dialled
// numbers, over TLS only; a sips: Request-URI that arrives over UDP or
// TCP gets 416.
//
// Responses go on the connection the request came on, else
// to the Via's received address and sent-by port (RFC 3261 18.2.2).
// Keepalives are RFC 5626 CRLF pings on the line's connection.
//
// Requests are screened before dispatch (screen.go, RFC 3261 8.2): 416 for
// a Request-URI that is not sip/sips, 420 for a Require we lack, 415 for a
// body of a type or encoding we cannot read; OPTIONS answers with Allow,
// Accept, Accept-Encoding and Supported. MESSAGE (RFC 3428) becomes a
// MessageReceived event. An incoming call nobody answers ends after
// Config.RingTimeout with 480, its 180 refreshed every minute meanwhile
// (RFC 3261 13.3.1.1, ring.go); a full transaction table still lets the
// CANCEL of a ringing call through.
// Reliable provisional responses (RFC 3262, prack.go): INVITEs say
// Supported: 100rel and every reliable 18x received is PRACKed in its
// fork's early dialog; as callee the 180 goes reliably when the INVITE
// requires 100rel, or supports it and Config.Reliable100rel is set, and
// the 200 follows its PRACK. An 18x with SDP the phone can play is early
// media (CallProgress with Remote, RFC 3960); a reliable one's SDP is the
// answer.
package sipua
