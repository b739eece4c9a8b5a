package transaction

import (
	"fmt"
	"net"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// ClientHandler receives what a client transaction passes up to its TU.
type ClientHandler struct {
	// OnResponse gets every response passed up: provisionals, the final,
	// and for INVITE retransmitted 2xx (the TU re-sends its ACK).
	OnResponse func(c *Client, resp *sipmsg.Message)
	// OnError gets ErrTimeout (timer B/F) or ErrTransport, wrapped.
	OnError func(c *Client, err error)
	// OnUnanswered, if set, is told once when the request has been sent
	// UnansweredSends times over UDP without any response (3.5 s at the
	// default T1): the peer very likely does not answer, which the TU can
	// say long before timer B or F (32 s) ends the transaction, which
	// goes on meanwhile.
	OnUnanswered func(c *Client)
	// Borrow says that OnResponse keeps nothing of the response it is
	// given, which is then the caller's of HandleResponse (its receive
	// buffer), valid only during the call, and not a copy: the TU copies
	// what it keeps. Not for INVITE, whose final response the ACK keeps.
	Borrow bool
}

// UnansweredSends is how many sends without a response make a client
// transaction call OnUnanswered: the first and three retransmissions,
// timer A or E having doubled twice (at 0, T1, 3*T1 and 7*T1).
const UnansweredSends = 4

// Client is a client transaction (17.1).
type Client struct {
	l      *Layer
	key    ckey
	req    *sipmsg.Message
	to     *net.UDPAddr
	invite bool
	// reliable: the request goes over TCP or TLS, so the transaction
	// sends it once (no timer A or E) and its Completed state lasts no
	// time (timers D and K are zero): 17.1.1.2, 17.1.2.2.
	reliable bool
	state    State
	h        ClientHandler
	ack      *sipmsg.Message
	resent   int // retransmissions sent (UnansweredSends)

	retrans Timer         // A or E
	timeout Timer         // B or F
	wait    Timer         // D, K or M
	every   time.Duration // timer A or E's interval now

	// kept: started by StartClient on a Layer whose timers fire on its
	// owner (Config.OnOwner): the timers above are kept when stopped and
	// re-armed, each for its one function, bound once below.
	kept                     bool
	fRetrans, fTimeout, fEnd func()
}

// Request is the request this transaction sends.
func (c *Client) Request() *sipmsg.Message { return c.req }

// State is the current state.
func (c *Client) State() State { return c.state }

// Dest is where the request goes.
func (c *Client) Dest() *net.UDPAddr { return c.to }

// NewClient starts a client transaction: it sends req to to and
// retransmits it. req must carry its top Via with a fresh branch; ACK has
// no transaction (send it directly).
func (l *Layer) NewClient(req *sipmsg.Message, to *net.UDPAddr, h ClientHandler) (*Client, error) {
	c := &Client{}
	if err := l.start(c, req, to, h); err != nil {
		return nil, err
	}
	return c, nil
}

// StartClient is NewClient in c, a Client its TU keeps for one request
// after another (a line's REGISTERs): c must be new or terminated. On a
// Layer whose timers fire on its owner (Config.OnOwner) c keeps its
// timers and re-arms them, so that a transaction started again this way
// allocates nothing.
func (l *Layer) StartClient(c *Client, req *sipmsg.Message, to *net.UDPAddr, h ClientHandler) error {
	if c.state != 0 && c.state != Terminated {
		return fmt.Errorf("transaction: StartClient of a live transaction (%v)", c.state)
	}
	c.kept = l.cfg.OnOwner
	return l.start(c, req, to, h)
}

func (l *Layer) start(c *Client, req *sipmsg.Message, to *net.UDPAddr, h ClientHandler) error {
	if req.Method == "ACK" {
		return fmt.Errorf("transaction: ACK has no client transaction")
	}
	key, err := clientKey(req)
	if err != nil {
		return err
	}
	if l.full() {
		return ErrFull
	}
	if _, dup := l.clients[key]; dup {
		return fmt.Errorf("transaction: branch %q already in use", key.branch)
	}
	c.l, c.key, c.req, c.to, c.h = l, key, req, to, h
	c.invite, c.reliable, c.ack, c.resent = req.Method == "INVITE", Reliable(req), nil, 0
	l.clients[key] = c
	if c.invite {
		c.state = Calling
	} else {
		c.state = Trying
	}
	if err := l.cfg.Transport.Send(req, to); err != nil {
		c.fail(fmt.Errorf("%w: %w", ErrTransport, err))
		return nil
	}
	if !c.reliable {
		c.armRetransmit(l.cfg.T1)
	}
	if c.fTimeout == nil {
		c.fTimeout = c.timerTimeout
	}
	c.arm(&c.timeout, 64*l.cfg.T1, c.fTimeout) // B (17.1.1.2) or F (17.1.2.2)
	return nil
}

// arm starts the timer in t after d with f: a kept one re-armed, else a
// new one. disarm stops it (a kept one stays, stopped).
func (c *Client) arm(t *Timer, d time.Duration, f func()) { c.armTimer(t, d, f, false) }

// armTimer is arm; end makes a new timer one that ends an absorbing
// state (Layer.endTimer). A kept timer re-armed keeps what it was made as.
func (c *Client) armTimer(t *Timer, d time.Duration, f func(), end bool) {
	if r, ok := (*t).(interface{ Reset(time.Duration) bool }); ok && c.kept {
		r.Reset(d)
		return
	}
	if end {
		*t = c.l.endTimer(d, f)
	} else {
		*t = c.l.timer(d, f)
	}
}

func (c *Client) disarm(t *Timer) {
	if c.kept {
		if *t != nil {
			(*t).Stop()
		}
		return
	}
	stop(t)
}

// waitEnd arms timer D, K or M: the end of the transaction after d (or,
// on a LaxClock, up to EndSlack later). Only waitEnd arms c.wait.
func (c *Client) waitEnd(d time.Duration) {
	if c.fEnd == nil {
		c.fEnd = c.terminate
	}
	c.armTimer(&c.wait, d, c.fEnd, true)
}

// armRetransmit starts timer A (INVITE, 17.1.1.2: doubling) or E
// (non-INVITE, 17.1.2.2: doubling up to T2).
func (c *Client) armRetransmit(d time.Duration) {
	if c.fRetrans == nil {
		c.fRetrans = c.retransmit
	}
	c.every = d
	c.arm(&c.retrans, d, c.fRetrans)
}

func (c *Client) retransmit() {
	switch {
	case c.invite && c.state == Calling, !c.invite && (c.state == Trying || c.state == Proceeding):
	default:
		return
	}
	if err := c.l.cfg.Transport.Send(c.req, c.to); err != nil {
		c.fail(fmt.Errorf("%w: %w", ErrTransport, err))
		return
	}
	c.resent++
	if c.resent == UnansweredSends-1 && (c.state == Calling || c.state == Trying) && c.h.OnUnanswered != nil {
		c.h.OnUnanswered(c)
	}
	next := 2 * c.every
	if !c.invite {
		next = min(next, c.l.cfg.T2)
		if c.state == Proceeding {
			next = c.l.cfg.T2
		}
	}
	c.armRetransmit(next)
}

func (c *Client) timerTimeout() {
	if c.state == Calling || c.state == Trying || (!c.invite && c.state == Proceeding) {
		c.fail(fmt.Errorf("%w: no final response to %s", ErrTimeout, c.req.Method))
	}
}

func (c *Client) fail(err error) {
	c.terminate()
	if c.h.OnError != nil {
		c.h.OnError(c, err)
	}
}

func (c *Client) terminate() {
	c.state = Terminated
	c.disarm(&c.retrans)
	c.disarm(&c.timeout)
	c.disarm(&c.wait)
	if c.l.clients[c.key] == c {
		delete(c.l.clients, c.key)
	}
}

// Terminate ends the transaction at once without telling the TU.
func (c *Client) Terminate() { c.terminate() }

// Unreachable tells the layer that a connection to to could not be made
// (a reliable transport's connect failed, cause says why): every client
// transaction over a reliable transport to that address that has no
// final response yet ends with ErrTransport wrapping cause at once, as RFC
// 3261 8.1.3.1 and 17.1.4 ask, instead of waiting for timer B or F. It
// returns how many ended. (Over UDP an ICMP error ends nothing: the
// datagram may have raced the peer's start, and the retransmissions go
// on; the UA reports it, rx.go.)
func (l *Layer) Unreachable(to *net.UDPAddr, cause error) int {
	var failed []*Client
	for _, c := range l.clients {
		if c.reliable && c.to != nil && c.to.Port == to.Port && c.to.IP.Equal(to.IP) &&
			(c.state == Calling || c.state == Trying || c.state == Proceeding) {
			failed = append(failed, c)
		}
	}
	err := fmt.Errorf("%w: cannot connect to %v", ErrTransport, to)
	if cause != nil {
		err = fmt.Errorf("%w: cannot connect to %v: %w", ErrTransport, to, cause)
	}
	for _, c := range failed {
		c.fail(err)
	}
	return len(failed)
}

// HandleResponse gives a received response to its client transaction and
// reports whether one matched. resp is the caller's and valid only during
// the call: a response passed up to the TU, or kept, is a copy. An
// unmatched 2xx to INVITE (the transaction gone) must go to the TU
// directly (a stray retransmission).
func (l *Layer) HandleResponse(resp *sipmsg.Message) bool {
	key, err := clientKey(resp)
	if err != nil {
		return false
	}
	c, ok := l.clients[key]
	if !ok {
		return false
	}
	c.receive(resp)
	return true
}

func (c *Client) up(resp *sipmsg.Message) {
	if c.h.OnResponse != nil {
		c.h.OnResponse(c, resp)
	}
}

func (c *Client) receive(resp *sipmsg.Message) {
	code := resp.StatusCode
	if c.invite {
		switch c.state {
		case Calling, Proceeding: // 17.1.1.2
			resp = resp.Clone() // passed up, and (a final) kept in the ACK
			switch {
			case code < 200:
				c.state = Proceeding
				c.disarm(&c.retrans)
				c.up(resp)
			case code < 300: // RFC 6026 section 7.2: Accepted, timer M
				c.state = Accepted
				c.disarm(&c.retrans)
				c.disarm(&c.timeout)
				c.waitEnd(64 * c.l.cfg.T1)
				c.up(resp)
			default: // 17.1.1.3: ACK the failure, Completed, timer D
				c.state = Completed
				c.disarm(&c.retrans)
				c.disarm(&c.timeout)
				c.ack = AckFor(c.req, resp)
				c.sendAck()
				if c.reliable { // timer D is zero
					c.terminate()
				} else {
					c.waitEnd(max(32*time.Second, 64*c.l.cfg.T1))
				}
				c.up(resp)
			}
		case Accepted: // 2xx retransmissions go up, the TU ACKs again
			if code >= 200 && code < 300 {
				c.up(resp.Clone())
			}
		case Completed: // retransmitted final: ACK again, not passed up
			if code >= 300 {
				c.sendAck()
			}
		}
		return
	}
	switch c.state { // 17.1.2.2
	case Trying, Proceeding:
		if !c.h.Borrow {
			resp = resp.Clone() // passed up
		}
		if code < 200 {
			c.state = Proceeding
			c.up(resp)
			return
		}
		c.state = Completed
		c.disarm(&c.retrans)
		c.disarm(&c.timeout)
		if c.reliable { // timer K is zero
			c.terminate()
		} else {
			c.waitEnd(c.l.cfg.T4) // timer K
		}
		c.up(resp)
	}
}

func (c *Client) sendAck() {
	if err := c.l.cfg.Transport.Send(c.ack, c.to); err != nil {
		c.fail(fmt.Errorf("%w: %w", ErrTransport, err))
	}
}

// AckFor builds the ACK for a non-2xx final response to inv (17.1.1.3): same
// Request-URI, Call-ID, From, top Via and Route; To from the response; CSeq
// number with method ACK.
func AckFor(inv, resp *sipmsg.Message) *sipmsg.Message {
	ack := sipmsg.NewRequest("ACK", inv.RequestURI)
	ack.Add("Via", inv.Get("Via"))
	for _, r := range inv.GetAll("Route") {
		ack.Add("Route", r)
	}
	ack.Add("Max-Forwards", "70")
	ack.Add("From", inv.Get("From"))
	ack.Add("To", resp.Get("To"))
	ack.Add("Call-ID", inv.Get("Call-ID"))
	seq, _, _ := inv.CSeq()
	ack.Add("CSeq", fmt.Sprintf("%d ACK", seq))
	return ack
}

// CancelFor builds the CANCEL for inv (9.1): same Request-URI, Call-ID, To,
// From, top Via (so the same branch) and Route; CSeq number with CANCEL.
func CancelFor(inv *sipmsg.Message) *sipmsg.Message {
	c := sipmsg.NewRequest("CANCEL", inv.RequestURI)
	c.Add("Via", inv.Get("Via"))
	for _, r := range inv.GetAll("Route") {
		c.Add("Route", r)
	}
	c.Add("Max-Forwards", "70")
	c.Add("From", inv.Get("From"))
	c.Add("To", inv.Get("To"))
	c.Add("Call-ID", inv.Get("Call-ID"))
	seq, _, _ := inv.CSeq()
	c.Add("CSeq", fmt.Sprintf("%d CANCEL", seq))
	return c
}
