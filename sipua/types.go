package sipua

import (
	"errors"
	"net"
	"strconv"
	"time"
)

// Errors the API returns.
var (
	ErrClosed      = errors.New("sipua: closed")
	ErrNoCall      = errors.New("sipua: no such call")
	ErrCallState   = errors.New("sipua: call is not in a state for that")
	ErrNoCodec     = errors.New("sipua: no common codec")
	ErrNotStarted  = errors.New("sipua: not started")
	ErrUnknownLine = errors.New("sipua: no such line")
)

// LineConfig is one line (account).
type LineConfig struct {
	User, Domain, DisplayName, AuthUser, Password string // Domain default: registrar host; AuthUser default: User
	Registrar                                     string // host[:port]; "" = no registration
	OutboundProxy                                 string // host[:port]; "" = the registrar
	Expires                                       int    // requested registration lifetime, seconds (default 3600)
	// Transport for the line's requests: "udp" (also ""), "tcp" or "tls".
	// Via says it (SIP/2.0/TCP, SIP/2.0/TLS) and the Contact carries
	// ;transport=tcp or ;transport=tls. TLS's default port is 5061.
	Transport string
	// SIPS makes the line's addresses sips: URIs (RFC 3261 section
	// 26.2.2, RFC 5630): its address of record (From, To), the
	// REGISTER's Request-URI, its Contact (sips:user@host:port, no
	// transport parameter) and the Request-URI of numbers it dials, and
	// its servers are found as sips: URIs (RFC 3263: TLS only). It needs
	// Transport "tls" or "". A Registrar or OutboundProxy written as
	// "sips:host[:port]" sets it too.
	SIPS bool
	// SRTP is how the line's calls protect their media (srtp.go); any
	// mode but SRTPOff needs Transport "tls": SDES keys travel in the SDP.
	SRTP SRTPMode
}

// Config configures a UA.
type Config struct {
	Listen      string                           // local UDP address to bind, e.g. "0.0.0.0:5060"
	DNSServers  []string                         // host[:port] of the DNS servers for RFC 3263 next hops; empty: /etc/resolv.conf
	ContactHost string                           // address for Contact and Via; "" = the local address of the route to the first outbound proxy/registrar
	UserAgent   string                           // User-Agent header; "" = none
	Lines       []LineConfig                     // Lines[0] is line 1
	TrustedOnly bool                             // accept requests only from a line's registrar/outbound proxy IP; others dropped (logged)
	Logf        func(format string, args ...any) // nil = silent
	// Trace, when set, sees every message the UA sends or receives, on
	// every transport, as it goes on or comes off the wire (keepalives
	// too): transport is "UDP", "TCP" or "TLS", msg the bytes, valid only
	// during the call. It runs on the UA's goroutine and must not block
	// (the firmware copies into its SIP trace ring, firmware/diag). nil:
	// nothing is traced, at no cost.
	Trace func(dir TraceDir, transport string, remote *net.UDPAddr, msg []byte)
	// OnCheckSync is called, from the UA's goroutine, when a trusted peer
	// sends NOTIFY with Event: check-sync (the PBX asks the phone to re-read
	// its configuration; parameters such as reboot=true are ignored). It must
	// not block. nil: such NOTIFYs are answered 200 and otherwise ignored.
	OnCheckSync func(line int)
	// OnMessageSummary is called, from the UA's goroutine, when a trusted
	// peer sends NOTIFY with Event: message-summary (RFC 3842), solicited or
	// not: whether messages wait and the voice message counts. It must not
	// block. nil: such NOTIFYs are answered 200 and otherwise ignored.
	OnMessageSummary func(line int, waiting bool, newMsgs, oldMsgs int)

	// SessionExpires is the session interval in seconds (RFC 4028 session
	// timers) the phone asks for in its INVITEs (Session-Expires) and
	// grants to callers that ask for none: the side that refreshes sends
	// an UPDATE (or, when the peer does not allow UPDATE, a re-INVITE)
	// at half of it; the other ends the call with a BYE when no refresh
	// comes. 0: off ("timer" is not in Supported and Session-Expires is
	// ignored); else at least 90 (Min-SE, section 5). The RFC's
	// recommendation, and the firmware's default, is 1800.
	SessionExpires int
	// RingTimeout ends an incoming call nobody answers, rejects or
	// redirects after that long with 480 Temporarily Unavailable
	// (CallEnded 480): a caller that vanished without a CANCEL would
	// otherwise ring the phone for ever. 0 = DefaultRingTimeout; negative
	// = never. While it rings the 180 is sent again every minute (RFC 3261
	// 13.3.1.1), so that proxies keep the INVITE transaction.
	RingTimeout time.Duration
	// MaxTransactions bounds the live SIP transactions (0 =
	// transaction.DefaultMax); beyond it new requests get 503, but a
	// CANCEL of a ringing call still gets through (transaction.Config.Max).
	MaxTransactions int
	// Reliable100rel, as callee, sends 180s reliably (RFC 3262: Require:
	// 100rel and RSeq, retransmitted until PRACKed, the 200 after the
	// PRACK) when the caller's INVITE says Supported: 100rel. Whatever it
	// says, an INVITE with Require: 100rel gets reliable provisionals, the
	// phone's INVITEs say Supported: 100rel, and every reliable 18x it
	// receives is PRACKed (prack.go). false: a caller that merely supports
	// 100rel gets plain 180s, as most desk phones do by default.
	Reliable100rel bool

	// TLS. The UA always listens on TCP at Listen's port too; it listens
	// for TLS only with a certificate. A TLS server the UA connects to
	// must prove, with a certificate chain to one of the CAs (TLSCA and
	// TLSCAFile; neither: the system roots, which a phone's initramfs
	// does not have), the name of the line's registrar or outbound proxy
	// as configured (RFC 5922 section 4: the URI's host, never an SRV
	// target DNS gave; an IP address is checked against the IP
	// addresses the certificate names). A failure fails the request at
	// once (a REGISTER with 503 and Event.Detail saying why); nothing is
	// ever sent over a connection that did not verify, and no other
	// transport is tried.
	//
	// The certificate (TLSCert and TLSKey, or the files) is the phone's:
	// the TLS listener's, and the client certificate a server that asks
	// for one gets.
	TLSCA, TLSCert, TLSKey  []byte // PEM: CA certificates; the phone's certificate chain; its private key
	TLSCAFile               string // PEM file of CAs, added to TLSCA
	TLSCertFile, TLSKeyFile string // PEM files of the certificate chain and key, when TLSCert is empty
	TLSListen               string // TLS address; "" = Listen's host, port+1 (port 0 stays 0)
}

// TraceDir says whether Config.Trace sees a message sent or received.
type TraceDir uint8

// Trace directions.
const (
	TraceSend TraceDir = iota + 1
	TraceRecv
)

func (d TraceDir) String() string {
	if d == TraceSend {
		return "send"
	}
	return "recv"
}

// CallID names a call for the life of the UA.
type CallID int

// Media describes one side's audio stream.
type Media struct {
	Host   string   // c= address
	Port   int      // RTP port
	Codecs []string // "G722", "PCMU", "PCMA" in preference order
	Ptime  int      // ms, default 20
	// TelephoneEvent is the RFC 4733 telephone-event payload type: in local
	// Media, the one to offer (0 = 101, the default); in remote Media, the
	// negotiated one (0 = none).
	TelephoneEvent uint8
	// Direction is the SDP direction of a remote Media ("sendrecv",
	// "sendonly", "recvonly", "inactive"); ignored in local Media.
	Direction string
	// SRTP, in a negotiated remote Media, is the call's SRTP keys: nil
	// when its media goes in the clear (Encrypted). Ignored in local
	// Media: the line's SRTPMode decides.
	SRTP *SRTPKeys
}

// RegState is where a line's registration is (RFC 3261 section 10).
type RegState uint8

// Registration states.
const (
	RegNone      RegState = iota // not started
	Unregistered                 // no binding: removed, or never made
	Registered                   // the registrar holds our binding
	RegFailed                    // the last attempt failed; Event.Code says how, and the line tries again later
)

func (s RegState) String() string {
	switch s {
	case Unregistered:
		return "unregistered"
	case Registered:
		return "registered"
	case RegFailed:
		return "failed"
	}
	return "none"
}

// RegText is a RegChanged event's state as the panel and the display show
// it: "registered", "unregistered", or "failed:CODE".
func (e Event) RegText() string {
	if e.RegState == RegFailed {
		return "failed:" + strconv.Itoa(e.Code)
	}
	return e.RegState.String()
}

// EventKind says what happened.
type EventKind int

// Event kinds.
const (
	RegChanged EventKind = iota + 1
	CallIncoming
	CallProgress
	CallAnswered
	CallEnded
	CallHeld     // the far end put the call on hold (its offer is sendonly or inactive)
	CallResumed  // the far end took the call off hold
	CallTransfer // the far end asks us to call Target (REFER, RFC 3515); the firmware dials it
	// MessageReceived: an instant message (MESSAGE, RFC 3428) from Peer
	// (Number to answer) for Line, its Text cleaned for a display and at
	// most MaxMessageText bytes; Call is set when it came in a call's dialog.
	MessageReceived
	// RegTrouble: line Line's registration is in trouble while its
	// attempt goes on: Detail says how in plain words ("registrar
	// 127.0.0.1:5060 does not answer (retrying)": its REGISTER went
	// unanswered four times over UDP, transaction.UnansweredSends). A
	// RegChanged follows when the attempt ends, whatever its outcome.
	RegTrouble
)

func (k EventKind) String() string {
	switch k {
	case RegChanged:
		return "reg-changed"
	case CallIncoming:
		return "call-incoming"
	case CallProgress:
		return "call-progress"
	case CallAnswered:
		return "call-answered"
	case CallEnded:
		return "call-ended"
	case CallHeld:
		return "call-held"
	case CallResumed:
		return "call-resumed"
	case CallTransfer:
		return "call-transfer"
	case MessageReceived:
		return "message-received"
	case RegTrouble:
		return "reg-trouble"
	}
	return "unknown"
}

// Event is one thing the UA reports.
type Event struct {
	Kind     EventKind
	Line     int // 1-based
	Call     CallID
	RegState RegState // RegChanged: the line's new state
	Code     int      // CallProgress: 180/183; CallEnded: final SIP status (200 when ended by BYE); RegChanged with RegFailed: the status the attempt failed with (408: no answer, 503: unreachable)
	Peer     string   // remote party for display (display name, user part or URI)
	Number   string   // remote party to call back: the user part of its URI, or the URI
	Remote   *Media   // CallIncoming: the offer; CallProgress with SDP: early media; CallAnswered: negotiated (Codecs[0] chosen); CallHeld/CallResumed/CallAnswered after a re-INVITE: the new remote media
	Target   string   // CallTransfer: the Refer-To URI to dial
	// CallTransfer: the Replaces header value (RFC 3891) the Refer-To
	// carried, unescaped ("callid;to-tag=a;from-tag=b"), for
	// DialReplacing; "" for a blind transfer.
	Replaces string
	// CallIncoming: the confirmed call this INVITE with Replaces (RFC
	// 3891) takes over; 0 = none. Answering it ends that call with a BYE.
	ReplacesCall CallID
	Reason       string // CallEnded: the peer's Reason header (RFC 3326), e.g. `SIP;cause=200;text="Call completed elsewhere"`, if any
	Text         string // MessageReceived: the message, one line, valid UTF-8, at most MaxMessageText bytes
	// Divert is, for CallProgress and CallAnswered of a call the phone
	// placed, where the PBX says the call went instead (a mailbox, another
	// extension): Diversion or History-Info in the response (divert.go);
	// zero when it went where it was placed.
	Divert Divert
	// Detail is, for RegChanged with RegFailed and for RegTrouble, what
	// went wrong in plain words, for the display and the log: "wrong
	// password for 1001 (403)", "registrar refused 1001: 404 Not Found",
	// "registrar 127.0.0.1:5060 does not answer", "no route to
	// pbx.example.com (DNS)"; "" otherwise.
	Detail string
}
