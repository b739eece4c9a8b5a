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
// Media of phones behind a NAT is anchored (relay.go): when a call's
// caller or callee is behind a NAT (its SDP names another address than its
// signalling comes from, or it registered through one, as a QEMU phone
// does), the PBX relays RTP and RTCP between the two legs through a socket
// pair per leg and rewrites each SDP to name the socket facing the leg
// that receives it, at the address that leg reaches the PBX by (10.0.2.2
// or the listening IP), with symmetric RTP latching; phones on the
// loopback keep direct media.
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
// Voicemail (voicemail.go, media.go, mwi.go, redirect.go). Config.VoicemailNumber
// ("8000") reaches the caller's own mailbox, "8000*1002" leaves a message
// for 1002, and a call forwarded to 8000 reaches the box its newest Diversion
// header names (RFC 5806). The PBX answers such calls itself as a small
// media endpoint: its own RTP socket on the listening address, an SDP answer
// with PCMU or PCMA, a prompt (1 s of 440 Hz, then an 880 Hz beep), and
// symmetric RTP (it answers where the caller's packets come from, for NAT).
// A caller's audio is recorded from the answer until BYE or
// Config.VoicemailMax (then the PBX sends BYE) into
// VoicemailDir/EXT/new/TIME.wav (8 kHz, 16-bit, mono). The owner calling
// the box hears every message and then the PBX hangs up; messages heard to
// the end move to EXT/old. The counts are the files in new and old.
//
// Message waiting (RFC 3842): when a message is left or heard, and when a
// phone registers while its box holds messages, the PBX sends NOTIFY
// (Event: message-summary, application/simple-message-summary,
// "Voice-Message: NEW/OLD (0/0)") in the phone's message-summary
// subscription when it made one (SUBSCRIBE to 8000 or to itself, answered
// 200, NOTIFYs in that dialog, RFC 6665), unsolicited to each binding's
// flow otherwise. These NOTIFYs and the PBX's own BYEs are non-INVITE
// client transactions, retransmitted until answered (Timer E/F).
//
// Forwarding: a 301/302 from a callee whose Contact names an extension or
// the voicemail number is followed by the PBX (RFC 3261 section 16.7 item
// 4): it ACKs the 3xx, keeps the 3xx's Diversion headers on the new INVITE
// (one naming the callee when it had none) and sends it on a new branch,
// at most 5 times a call. Unless Config.NoVoicemailFallback, a callee
// answering 486, 480 or 408, not registered, never answering (Timer B), or
// ringing longer than Config.NoAnswer (when set) gets the call in its
// mailbox, with Diversion reason user-busy, unavailable or no-answer.
//
// Known limits: one binding is used per call (the most recently registered;
// no forking); UDP only; no DNS beyond what net.ResolveUDPAddr does. The
// mailbox has no menu (no DTMF: it plays everything, then hangs up), no
// greeting per box, no deletion, and records from the answer (the prompt
// time included); a 3xx naming another domain goes upstream unfollowed.
package pbx
