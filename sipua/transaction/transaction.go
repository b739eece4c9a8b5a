package transaction

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Errors a client transaction ends with.
var (
	ErrTimeout   = errors.New("transaction: timeout")         // timer B or F (the TU reports 408)
	ErrTransport = errors.New("transaction: transport error") // the send failed (the TU reports 503)
	ErrFull      = errors.New("transaction: table full")      // Config.Max live transactions (the TU reports 503)
)

// DefaultMax bounds the live transactions of a Layer (client and server
// together) when Config.Max is zero: a desk phone has a few calls and lines,
// so a scan or a flood meets a hard cap instead of growing the table.
const DefaultMax = 1024

// Default timer values for UDP (RFC 3261 section 17.1.1.1, table 4).
const (
	T1 = 500 * time.Millisecond
	T2 = 4 * time.Second
	T4 = 5 * time.Second
)

// Transport sends one message to an address.
type Transport interface {
	Send(m *sipmsg.Message, to *net.UDPAddr) error
}

// Timer is a running timer.
type Timer interface{ Stop() bool }

// Clock starts timers. The default uses package time (which testing/synctest fakes).
type Clock interface {
	AfterFunc(d time.Duration, f func()) Timer
}

// LaxClock is a Clock whose timers can also fire late: AfterFuncLax's f
// is due after d and runs then or up to slack later, whenever its owner
// wakes for something else first (sipua's alarms: its loop's next turn).
// On a Layer whose timers fire on their owner (Config.OnOwner), the timers
// that only end a state kept to absorb retransmissions (D, I, J, K, L and
// M) are such: ending it late changes no message a peer gets, and an idle
// phone is not woken for each.
type LaxClock interface {
	AfterFuncLax(d, slack time.Duration, f func()) Timer
}

// EndSlack is how late a LaxClock may end a transaction's absorbing state:
// 64*T1, longer than a line's keepalive period (sipua: 20-25 s), so on an
// idle phone the end comes with the next keepalive.
const EndSlack = 64 * T1

type realClock struct{}

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Config configures a Layer.
type Config struct {
	Transport Transport
	// Post runs f on the goroutine that owns the Layer; timers call it from
	// their own goroutines. Required.
	Post  func(f func())
	Clock Clock // nil = package time
	// OnOwner says that Clock's timers call f on the owner goroutine
	// themselves (sipua's alarms, fired by its loop: no goroutine per
	// firing), so the layer does not Post them.
	OnOwner    bool
	T1, T2, T4 time.Duration // zero = the defaults
	// Max is the most live transactions, client and server together (zero =
	// DefaultMax). A new request beyond it gets a stateless 503 with
	// Retry-After (RFC 3261 21.5.4) and no transaction, but for a CANCEL of
	// a live INVITE (HandleRequest); NewClient fails with ErrFull.
	Max int
}

// Layer holds the live transactions.
type Layer struct {
	cfg     Config
	clients map[ckey]*Client
	servers map[skey]*Server

	// The last request's source and its text (stampVia's srcText).
	lastSrc          netip.AddrPort
	lastIP, lastPort string
}

// NewLayer returns an empty transaction layer.
func NewLayer(cfg Config) *Layer {
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.T1 == 0 {
		cfg.T1 = T1
	}
	if cfg.T2 == 0 {
		cfg.T2 = T2
	}
	if cfg.T4 == 0 {
		cfg.T4 = T4
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultMax
	}
	return &Layer{cfg: cfg, clients: map[ckey]*Client{}, servers: map[skey]*Server{}}
}

func (l *Layer) full() bool { return len(l.clients)+len(l.servers) >= l.cfg.Max }

// Len returns the number of live client and server transactions.
func (l *Layer) Len() (clients, servers int) { return len(l.clients), len(l.servers) }

// timer starts f after d on the owner goroutine.
func (l *Layer) timer(d time.Duration, f func()) Timer {
	if l.cfg.OnOwner {
		return l.cfg.Clock.AfterFunc(d, f)
	}
	return l.cfg.Clock.AfterFunc(d, func() { l.cfg.Post(f) })
}

// endTimer is timer for the end of an absorbing state (D, I, J, K, L, M):
// on a LaxClock it may fire up to EndSlack late.
func (l *Layer) endTimer(d time.Duration, f func()) Timer {
	if lc, ok := l.cfg.Clock.(LaxClock); ok && l.cfg.OnOwner {
		return lc.AfterFuncLax(d, EndSlack, f)
	}
	return l.timer(d, f)
}

func stop(t *Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// Reliable reports whether the top Via of m names a reliable transport
// (TCP, TLS, SCTP, WS, WSS: anything but UDP), without allocating. A
// client transaction reads it off the request it sends (the UA builds
// the Via for the transport the request goes over); a server transaction
// off the request it received (the transport the peer sent it on, 18.2.1).
func Reliable(m *sipmsg.Message) bool {
	t := m.TopTransport()
	return t != "" && !strings.EqualFold(t, "UDP")
}

func topVia(m *sipmsg.Message) (sipmsg.Via, error) {
	v, err := sipmsg.ParseVia(m.Get("Via"))
	if err != nil {
		return v, fmt.Errorf("transaction: %w", err)
	}
	return v, nil
}

// ckey matches a response to its client transaction (17.1.3): the top
// Via branch and the CSeq method. Its strings are views into the message;
// a lookup allocates nothing.
type ckey struct{ branch, method string }

func clientKey(m *sipmsg.Message) (ckey, error) {
	_, method, err := m.CSeq()
	if err != nil {
		return ckey{}, fmt.Errorf("transaction: %w", err)
	}
	b, _, _, err := viaKey(m)
	if err != nil {
		return ckey{}, err
	}
	return ckey{b, method}, nil
}

// viaKey is the top Via's branch and sent-by, as views into m
// (sipmsg.TopVia) without allocating; a Via only ParseVia reads (whitespace
// inside sent-by) is parsed.
func viaKey(m *sipmsg.Message) (branch, host string, port int, err error) {
	if v, err := m.TopVia(); err == nil {
		return v.Branch(), v.Host, v.Port, nil
	}
	v, err := topVia(m)
	if err != nil {
		return "", "", 0, err
	}
	return v.Branch(), v.Host, v.Port, nil
}

// skey matches a request to its server transaction (17.2.3): branch,
// sent-by (host, lower-cased, and port) and method, ACK matching the
// INVITE. For RFC 2543 peers (no magic cookie) the branch is replaced by
// Call-ID, CSeq number and From.
type skey struct {
	branch, host string
	port         int
	method       string
}

func serverKey(m *sipmsg.Message) (skey, error) {
	method := m.Method
	if method == "ACK" {
		method = "INVITE"
	}
	b, host, port, err := viaKey(m)
	if err != nil {
		return skey{}, err
	}
	if !strings.HasPrefix(b, sipmsg.MagicCookie) {
		// RFC 2543 peers: fall back to Call-ID, CSeq number and From tag.
		seq, _, _ := m.CSeq()
		b = fmt.Sprintf("2543:%s:%d:%s", m.Get("Call-ID"), seq, m.Get("From"))
	}
	return skey{b, strings.ToLower(host), port, method}, nil
}

// State is a transaction state (RFC 3261 figures 5-8, RFC 6026 figures 3-4).
type State int

// Transaction states.
const (
	Calling State = iota + 1
	Trying
	Proceeding
	Accepted
	Completed
	Confirmed
	Terminated
)

func (s State) String() string {
	switch s {
	case Calling:
		return "calling"
	case Trying:
		return "trying"
	case Proceeding:
		return "proceeding"
	case Accepted:
		return "accepted"
	case Completed:
		return "completed"
	case Confirmed:
		return "confirmed"
	case Terminated:
		return "terminated"
	}
	return "unknown"
}
