package sipua

import (
	"errors"
	"net"
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
}

// Config configures a UA.
type Config struct {
	Listen      string                                            // local UDP address to bind, e.g. "0.0.0.0:5060"
	ContactHost string                                            // address for Contact and Via; "" = the local address of the route to the first outbound proxy/registrar
	UserAgent   string                                            // User-Agent header; "" = none
	Lines       []LineConfig                                      // Lines[0] is line 1
	TrustedOnly bool                                              // accept requests only from a line's registrar/outbound proxy IP; others dropped (logged)
	Logf        func(format string, args ...any)                  // nil = silent
	Trace       func(dir string, remote *net.UDPAddr, msg []byte) // nil = none; dir "send"/"recv"; every datagram
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
}

// CallID names a call for the life of the UA.
type CallID int

// Media describes one side's audio stream.
type Media struct {
	Host   string   // c= address
	Port   int      // RTP port
	Codecs []string // "PCMU", "PCMA" in preference order
	Ptime  int      // ms, default 20
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
	}
	return "unknown"
}

// Event is one thing the UA reports.
type Event struct {
	Kind     EventKind
	Line     int // 1-based
	Call     CallID
	RegState string // RegChanged: "registered", "unregistered", "failed:CODE"
	Code     int    // CallProgress: 180/183; CallEnded: final SIP status (200 when ended by BYE)
	Peer     string // remote party for display (display name, user part or URI)
	Remote   *Media // CallIncoming: the offer; CallProgress with SDP: early media; CallAnswered: negotiated (Codecs[0] chosen)
}
