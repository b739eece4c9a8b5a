package transaction

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Server is a server transaction (17.2).
type Server struct {
	l      *Layer
	key    skey
	req    *sipmsg.Message
	remote *net.UDPAddr
	invite bool
	// reliable: the request came over TCP or TLS, so a final response is
	// sent once (no timer G) and the states that absorb retransmissions
	// last no time (timers I and J are zero): 17.2.1, 17.2.2.
	reliable bool
	state    State
	last     *sipmsg.Message // the last response sent

	// OnTimeout is called when an INVITE's non-2xx final was never ACKed
	// (timer H) or a response could not be sent. Optional.
	OnTimeout func(s *Server, err error)

	retrans Timer // G
	timeout Timer // H
	wait    Timer // I, J or L
}

// Request is the request that created the transaction.
func (s *Server) Request() *sipmsg.Message { return s.req }

// Remote is the request's source address, where responses go (18.2.2, RFC 3581).
func (s *Server) Remote() *net.UDPAddr { return s.remote }

// State is the current state.
func (s *Server) State() State { return s.state }

// HandleRequest gives a received request to the layer. req and from are
// the caller's and valid only during the call (the UA parses every
// datagram into one reused message): the layer keeps copies of what it
// keeps. A retransmission is absorbed (the last response re-sent) and an
// ACK to a non-2xx final is absorbed: both return (nil, false), having
// allocated nothing. A new request returns its new server transaction and
// true; the transaction's Request is its own copy of req, whose top Via
// has received= and rport= from the source address (18.2.1, RFC 3581
// section 4). An ACK to a 2xx (no transaction) returns (nil, true): the TU
// handles req, and copies it if it keeps it.
//
// A retransmitted ACK, or an ACK that reuses the INVITE's branch (a peer
// that does, or an RFC 2543 peer), matches the INVITE's transaction: in
// the Accepted state it is passed up, never absorbed (RFC 6026 sections
// 7.1, 8.7).
//
// With the table full (Config.Max) a new request gets a stateless 503,
// except a CANCEL of a live INVITE server transaction: it is taken, so
// that a call can still be cancelled under a flood (RFC 3261 9.2). There
// is at most one such CANCEL per INVITE, so the table stays bounded.
func (l *Layer) HandleRequest(req *sipmsg.Message, from *net.UDPAddr) (*Server, bool) {
	key, err := serverKey(req) // views into req: for the lookup only
	if err != nil {
		return nil, false
	}
	if s, ok := l.servers[key]; ok {
		if req.Method == "ACK" && s.invite && s.state == Accepted {
			return nil, true // RFC 6026 section 7.1: the ACK of the 2xx, for the TU
		}
		s.receive(req)
		return nil, false
	}
	if req.Method == "ACK" {
		return nil, true
	}
	if l.full() && !(req.Method == "CANCEL" && l.servers[inviteKey(key)] != nil) {
		r := sipmsg.NewResponse(req, 503, "")
		l.stampVia(r, from)
		r.Add("Retry-After", "5")
		_ = l.cfg.Transport.Send(r, from)
		return nil, false
	}
	req = req.Clone()
	l.stampVia(req, from)
	if key, err = serverKey(req); err != nil { // the map keeps views into the copy
		return nil, false
	}
	remote := &net.UDPAddr{IP: append(net.IP(nil), from.IP...), Port: from.Port, Zone: from.Zone}
	s := &Server{l: l, key: key, req: req, remote: remote, invite: req.Method == "INVITE", reliable: Reliable(req)}
	if s.invite {
		s.state = Proceeding
	} else {
		s.state = Trying
	}
	l.servers[key] = s
	return s, true
}

// stampVia adds received and rport to the top Via (18.2.1, RFC 3581):
// the new Via is its one allocation (sipmsg.AppendVia; the source's text
// is kept for the next request from it, srcText).
func (l *Layer) stampVia(req *sipmsg.Message, from *net.UDPAddr) {
	if from == nil {
		return
	}
	top := req.Get("Via")
	v, err := sipmsg.ScanVia(top)
	if err != nil {
		return
	}
	ip, port := l.srcText(from)
	var set [2]sipmsg.Param
	n := 0
	if v.Host != ip {
		set[n] = sipmsg.Param{Name: "received", Value: ip}
		n++
	}
	if rp, ok := v.Param("rport"); ok && rp == "" {
		set[n] = sipmsg.Param{Name: "rport", Value: port}
		n++
		if set[0].Name != "received" {
			set[n] = sipmsg.Param{Name: "received", Value: ip}
			n++
		}
	}
	if n == 0 {
		return
	}
	var buf [160]byte
	b, err := sipmsg.AppendVia(buf[:0], top, set[:n]...)
	if err != nil {
		return
	}
	replaceTopVia(req, string(b))
}

// replaceTopVia puts via in place of the first Via value: in its header
// when that holds it alone (no allocation), else (a comma list) as a
// header of its own before the rest.
func replaceTopVia(req *sipmsg.Message, via string) {
	for i, h := range req.Headers {
		if !strings.EqualFold(h.Name, "Via") {
			continue
		}
		if strings.IndexByte(h.Value, ',') < 0 || len(sipmsg.SplitList(h.Value)) == 1 {
			req.Headers[i].Value = via
			return
		}
		break
	}
	req.RemoveFirst("Via")
	req.Prepend("Via", via)
}

// srcText is from's address and port as text, kept for the last source
// (a phone hears mostly from its registrar or proxy).
func (l *Layer) srcText(from *net.UDPAddr) (ip, port string) {
	if ap := from.AddrPort(); ap != l.lastSrc || l.lastIP == "" {
		l.lastSrc, l.lastIP, l.lastPort = ap, from.IP.String(), strconv.Itoa(from.Port)
	}
	return l.lastIP, l.lastPort
}

// MatchCancel returns the INVITE server transaction a CANCEL cancels (9.2),
// nil if none.
func (l *Layer) MatchCancel(cancel *sipmsg.Message) *Server {
	key, err := serverKey(cancel)
	if err != nil {
		return nil
	}
	s := l.servers[inviteKey(key)]
	if s == nil || !s.invite {
		return nil
	}
	return s
}

// inviteKey is the key of the INVITE a CANCEL with key k cancels: the same
// branch and sent-by (9.2; for RFC 2543 peers the same Call-ID, CSeq number
// and From), method INVITE.
func inviteKey(k skey) skey {
	k.method = "INVITE"
	return k
}

func (s *Server) receive(req *sipmsg.Message) {
	if req.Method == "ACK" {
		if s.invite && s.state == Completed { // 17.2.1: Confirmed, timer I
			s.state = Confirmed
			stop(&s.retrans)
			stop(&s.timeout)
			if s.reliable { // timer I is zero
				s.terminate()
				return
			}
			s.wait = s.l.endTimer(s.l.cfg.T4, s.terminate)
		}
		return
	}
	// A retransmitted request: re-send the last response (17.2.1, 17.2.2).
	if s.last != nil && (s.state == Proceeding || s.state == Completed) {
		s.send(s.last)
	}
}

func (s *Server) send(m *sipmsg.Message) error {
	if err := s.l.cfg.Transport.Send(m, s.remote); err != nil {
		err = fmt.Errorf("%w: %w", ErrTransport, err)
		s.terminate()
		if s.OnTimeout != nil {
			s.OnTimeout(s, err)
		}
		return err
	}
	return nil
}

// Respond sends a response in this transaction and moves its state.
func (s *Server) Respond(resp *sipmsg.Message) error {
	if s.state == Terminated || s.state == Completed || s.state == Confirmed || s.state == Accepted {
		if s.invite && s.state == Accepted && resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return s.send(resp) // the TU's 2xx retransmission (13.3.1.4)
		}
		return fmt.Errorf("transaction: %s response %d in state %v", s.req.Method, resp.StatusCode, s.state)
	}
	code := resp.StatusCode
	s.last = resp
	if err := s.send(resp); err != nil {
		return err
	}
	switch {
	case code < 200:
		if !s.invite {
			s.state = Proceeding
		}
	case s.invite && code < 300: // RFC 6026 section 8.5: Accepted, timer L
		s.state = Accepted
		s.wait = s.l.endTimer(64*s.l.cfg.T1, s.terminate)
	case s.invite: // 17.2.1: Completed, timers G and H
		s.state = Completed
		if !s.reliable {
			s.armG(s.l.cfg.T1)
		}
		s.timeout = s.l.timer(64*s.l.cfg.T1, func() {
			if s.state != Completed {
				return
			}
			s.terminate()
			if s.OnTimeout != nil {
				s.OnTimeout(s, fmt.Errorf("%w: no ACK for %d", ErrTimeout, code))
			}
		})
	default: // 17.2.2: Completed, timer J (zero over a reliable transport)
		s.state = Completed
		if s.reliable {
			s.terminate()
			return nil
		}
		s.wait = s.l.endTimer(64*s.l.cfg.T1, s.terminate)
	}
	return nil
}

func (s *Server) armG(d time.Duration) {
	s.retrans = s.l.timer(d, func() {
		if s.state != Completed {
			return
		}
		if s.send(s.last) != nil {
			return
		}
		s.armG(min(2*d, s.l.cfg.T2))
	})
}

func (s *Server) terminate() {
	s.state = Terminated
	stop(&s.retrans)
	stop(&s.timeout)
	stop(&s.wait)
	if s.l.servers[s.key] == s {
		delete(s.l.servers, s.key)
	}
}

// Terminate ends the transaction at once.
func (s *Server) Terminate() { s.terminate() }
