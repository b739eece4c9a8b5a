// Package sipua is the phone's SIP user agent: registration of each line
// with digest authentication and refresh, and calls as caller and callee
// (INVITE, provisional responses, 2xx with SDP, ACK, BYE, CANCEL, busy and
// other rejections) over UDP, with G.711 offer/answer.
//
// The work is split by RFC concern into sub-packages: sipmsg (messages),
// digest (authentication), sdp (session descriptions), transport (UDP),
// transaction (RFC 3261 section 17) and dialog (section 12). This package
// is the facade the firmware uses.
//
// One goroutine owns the UA's state (transactions, dialogs, calls, lines);
// the socket reader, the timers and the API methods post work to it. Events
// come out on a buffered channel.
//
// Routing: every request a line sends goes to the line's outbound proxy
// (default: its registrar), with the dialog's route set in Route headers;
// a line without either sends to the target URI or the remote Contact
// (peer-to-peer). Via carries rport (RFC 3581); responses go to the source
// address and port of the request.
package sipua
