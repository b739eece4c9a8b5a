package sipua

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/dialog"
	"github.com/deskphone/deskphone/sipua/resolve"
	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

// callState is where a call is.
type callState int

const (
	csCalling     callState = iota + 1 // outgoing: INVITE sent, no provisional yet
	csEarly                            // outgoing: a provisional came
	csIncoming                         // incoming: 100 sent
	csRinging                          // incoming: 180 sent
	csConnecting                       // incoming: 200 sent, waiting for ACK
	csConfirmed                        // both sides agree
	csTerminating                      // our BYE or CANCEL is out
	csEnded
)

func (s callState) String() string {
	return [...]string{"?", "calling", "early", "incoming", "ringing", "connecting", "confirmed", "terminating", "ended"}[s]
}

// cancelGrace is how long a CANCELled INVITE may wait for its final
// response before it is treated as cancelled (RFC 3261 section 9.1: 64*T1).
const cancelGrace = 64 * transaction.T1

type call struct {
	ua       *UA
	id       CallID
	line     *line
	outgoing bool
	state    callState
	tk       tkind // the transport of the call's requests and responses (its Via and Contact)
	peer     string
	number   string // Event.Number
	dlg      *dialog.Dialog

	// outgoing
	inv          *sipmsg.Message // the INVITE as last sent (after a re-send with credentials)
	invReq       *outReq
	dest         *net.UDPAddr
	offer        sdp.Session
	ack          *sipmsg.Message
	provisional  bool
	cancelWanted bool // hung up before a provisional came (9.1)
	stopCancel   func()

	// incoming
	srv         *transaction.Server
	localTag    string
	remoteOffer sdp.Session
	ok          *sipmsg.Message
	stopOK      func()
	localSDP    []byte
	byeWanted   bool        // hung up while the 200 waits for its ACK (15: BYE after the ACK)
	referWanted *sipmsg.URI // transferred while the 200 waits for its ACK: REFER after it

	// session (both directions; session.go)
	caps        sdp.Session // all we can do (Answer's local side for a re-INVITE's offer)
	local       sdp.Session // our current description
	remote      *Media      // the peer's current media
	held        bool        // we hold the call (our last accepted offer was sendonly)
	wantHeld    bool        // what Hold last asked for
	remoteHeld  bool        // the peer holds the call
	reinvTx     *outReq
	stopGlare   func()
	reSrv       *transaction.Server // a peer's re-INVITE whose 2xx waits for its ACK
	reOK        *sipmsg.Message
	reOKA       *alarm                     // retransmitReOK's, made at the first
	reOKEvery   time.Duration              // its interval now
	reOKElapsed time.Duration              // since its 2xx was first sent
	reOfferless bool                       // that re-INVITE had no offer: the answer comes in the ACK
	redirects   int                        // 3xx followed so far
	hopTries    int                        // servers the INVITE failed over from (hop.go)
	forks       map[string]*sipmsg.Message // 13.2.2.4: ACKs of further 2xx (other To tags), which were BYEd
	reason      string                     // the peer's Reason header (RFC 3326) for CallEnded
	hopAddr     *net.UDPAddr               // the dialog's next hop, resolved once (peer-to-peer)
	early       map[string]*dialog.Dialog  // 12.1.2: early dialogs by To tag (forks)
	replaces    CallID                     // incoming INVITE with Replaces (RFC 3891): the call to end once answered
	st          sessTimer                  // RFC 4028 session timer (timer.go)
	upd         updState                   // RFC 3311 UPDATE (update.go)
	lateOffer   bool                       // incoming INVITE without an offer: ours in the 200, the answer in the ACK (lateoffer.go)
	stopRing    func()                     // incoming: the ring timeout (ring.go)
	stopRefresh func()                     // incoming, ringing: the next 180 (ring.go)
	rel         prack                      // reliable provisional responses, both directions (RFC 3262, prack.go)
}

// maxRedirects bounds the 3xx a call follows (RFC 3261 8.1.3.4).
const maxRedirects = 3

func (ua *UA) newCall(l *line, outgoing bool) *call {
	ua.nextCall++
	c := &call{ua: ua, id: ua.nextCall, line: l, outgoing: outgoing}
	ua.calls[c.id] = c
	return c
}

func (c *call) end(code int) {
	if c.state == csEnded {
		return
	}
	c.ua.logf("sipua: call %d ended %d (was %v)", c.id, code, c.state)
	c.state = csEnded
	c.stopRinging()
	if c.stopOK != nil {
		c.stopOK()
	}
	if c.stopCancel != nil {
		c.stopCancel()
	}
	if c.stopGlare != nil {
		c.stopGlare()
	}
	c.stopReOK()
	c.st.stop()
	delete(c.ua.calls, c.id)
	c.ua.emit(Event{Kind: CallEnded, Line: c.line.n, Call: c.id, Code: code, Peer: c.peer, Reason: c.reason})
	c.ua.closeDone() // Close waits for the calls through a proxy to end
}

// inDialog is a request of method in dialog d (the call's, or an early
// or forked one), built for the call's transport: the one home of what
// every request in a dialog carries. The dialog gives the Request-URI,
// Route, From, To, Call-ID and CSeq (12.2.1.1); we add our Via, a Contact
// where the method needs one (a target refresh, INVITE and UPDATE, 12.2
// and RFC 3311; REFER and NOTIFY, which make or serve a subscription, RFC
// 3515 and 6665), Allow with the target refresh, and User-Agent. An ACK
// carries the Via only.
func (c *call) inDialog(d *dialog.Dialog, method string) *sipmsg.Message {
	m := d.NewRequest(method)
	m.Prepend("Via", c.ua.viaFor(c.tk))
	switch method {
	case "ACK":
		return m
	case "INVITE", "UPDATE":
		m.Add("Contact", c.ua.contactFor(c.tk, c.line))
		m.Add("Allow", allowHeader)
	case "REFER", "NOTIFY":
		m.Add("Contact", c.ua.contactFor(c.tk, c.line))
	}
	if c.ua.cfg.UserAgent != "" {
		m.Add("User-Agent", c.ua.cfg.UserAgent)
	}
	return m
}

// hop is where a request of this call goes: the line's outbound proxy,
// else (peer-to-peer) the dialog's next hop.
func (c *call) hop() *net.UDPAddr {
	if c.line.proxy != nil {
		return c.line.proxy
	}
	if c.dlg != nil {
		if c.hopAddr != nil {
			return c.hopAddr
		}
		if t, err := c.ua.resolveHop(c.dlg.NextHop()); err == nil {
			c.hopAddr = t.UDPAddr()
			return c.hopAddr
		}
	}
	return c.dest
}

func (ua *UA) lookup(id CallID) (*call, error) {
	c, ok := ua.calls[id]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrNoCall, id)
	}
	return c, nil
}

// targetURI turns what was dialled into a URI: a SIP URI as is, "user@host"
// as sip:user@host, anything else as sip:target@domain (sips: on a SIPS
// line).
func (l *line) targetURI(target string) (sipmsg.URI, error) {
	t := strings.TrimSpace(target)
	low := strings.ToLower(t)
	switch {
	case strings.HasPrefix(low, "sip:") || strings.HasPrefix(low, "sips:"):
	case strings.Contains(t, "@"):
		t = l.scheme() + ":" + t
	default:
		d := l.domain
		if d == "" {
			return sipmsg.URI{}, fmt.Errorf("sipua: line %d has no domain to dial %q in", l.n, target)
		}
		t = l.scheme() + ":" + t + "@" + d
	}
	u, err := sipmsg.ParseURI(t)
	if err != nil {
		return sipmsg.URI{}, fmt.Errorf("sipua: dial %q: %w", target, err)
	}
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return sipmsg.URI{}, fmt.Errorf("sipua: dial %q: scheme %s", target, u.Scheme)
	}
	return u, nil
}

// Dial starts an outgoing call on line (1-based) to target ("1002" means
// sip:1002@domain, or a SIP URI) offering local media.
func (ua *UA) Dial(line int, target string, local Media) (CallID, error) {
	return ua.dial(line, target, "", local)
}

// DialReplacing is Dial with a Replaces header (RFC 3891): the INVITE
// takes the place of the dialog replaces names ("callid;to-tag=a;from-tag=b",
// as in Event.Replaces of a CallTransfer) at the target, as the
// transferee of an attended transfer does (RFC 5589 section 7).
func (ua *UA) DialReplacing(line int, target, replaces string, local Media) (CallID, error) {
	if _, _, _, err := parseReplaces(replaces); err != nil {
		return 0, err
	}
	return ua.dial(line, target, replaces, local)
}

func (ua *UA) dial(line int, target, replaces string, local Media) (CallID, error) {
	l, err := ua.line(line) // lines and their configuration do not change after New
	if err != nil {
		return 0, err
	}
	u, err := l.targetURI(target)
	if err != nil {
		return 0, err
	}
	var peer resolve.Target
	if l.cfg.Registrar == "" && l.cfg.OutboundProxy == "" {
		// Peer-to-peer: the target's next hop, looked up here on the
		// caller's goroutine (RFC 3263), never on the UA's.
		if !ua.started.Load() {
			return 0, ErrNotStarted
		}
		if peer, err = ua.resolveDial(u); err != nil {
			return 0, err
		}
	}
	var id CallID
	err = ua.do(func() error {
		if ua.closing {
			return ErrClosed
		}
		dest, tk := l.proxy, l.tk
		if dest == nil && (l.cfg.Registrar != "" || l.cfg.OutboundProxy != "") {
			return fmt.Errorf("sipua: dial: line %d's server %s does not resolve yet", l.n, l.next().uri.HostPort())
		}
		if dest == nil {
			dest, tk = peer.UDPAddr(), tkindOf(peer.Transport)
		}
		if err := srtpCheck(l.cfg.SRTP, tk, l.n); err != nil {
			ua.logf("sipua: dial: %v", err)
			return err
		}
		offer, err := local.session(1, l.cfg.SRTP)
		if err != nil {
			return err
		}
		c := ua.newCall(l, true)
		c.dest, c.tk, c.offer, c.state = dest, tk, offer, csCalling
		c.caps, c.local = offer, offer
		c.peer = u.User
		if c.peer == "" {
			c.peer = u.String()
		}
		c.number = c.peer
		inv := sipmsg.NewRequest("INVITE", u.String())
		inv.Add("Via", ua.viaFor(c.tk))
		inv.Add("Max-Forwards", "70")
		inv.Add("From", l.fromValue())
		inv.Add("To", (&sipmsg.NameAddr{URI: u}).String())
		inv.Add("Call-ID", sipmsg.NewCallID(ua.contactHost))
		inv.Add("CSeq", "1 INVITE")
		inv.Add("Contact", ua.contactFor(c.tk, l))
		inv.Add("Allow", allowHeader)
		c.sessionHeaders(inv)
		if replaces != "" {
			inv.Add("Replaces", replaces)
		}
		if ua.cfg.UserAgent != "" {
			inv.Add("User-Agent", ua.cfg.UserAgent)
		}
		inv.Add("Content-Type", "application/sdp")
		inv.Body = offer.Marshal()
		c.sendInvite(inv)
		id = c.id
		return nil
	})
	return id, err
}

// sendInvite sends an initial INVITE (the first, or after a redirect);
// a digest challenge is answered by the request sender (request.go).
func (c *call) sendInvite(inv *sipmsg.Message) {
	c.inv = inv
	o := &outReq{
		onResponse: c.onInviteResponse,
		onError: func(o *outReq, err error) {
			if o != c.invReq {
				return
			}
			c.ua.logf("sipua: call %d INVITE: %v", c.id, err)
			switch {
			case c.cancelWanted || c.state == csTerminating:
				c.end(487)
			case tlsFailure(err) != nil:
				// the server did not prove who it is (logged above): no
				// other server or transport is tried (as for REGISTER)
				c.end(503)
			case c.failover(err.Error()):
			case errors.Is(err, transaction.ErrTimeout):
				c.end(408)
			default:
				c.end(503)
			}
		},
		mayResend: func() bool { return c.state != csTerminating && !c.cancelWanted && c.state != csEnded },
		onResend:  func(m *sipmsg.Message) { c.inv = m },
	}
	c.invReq = o
	if _, err := c.ua.request(c.line, nil, inv, c.dest, o); err != nil {
		c.ua.logf("sipua: call %d: %v", c.id, err)
		c.end(503)
	}
}

func (c *call) onInviteResponse(o *outReq, r *sipmsg.Message) {
	code := r.StatusCode
	if code >= 200 && code < 300 {
		c.on2xx(r)
		return
	}
	if o != c.invReq || c.state == csEnded {
		return
	}
	switch {
	case code < 200:
		c.provisional = true
		if c.cancelWanted {
			c.cancelWanted = false
			c.sendCancel()
			return
		}
		if c.state == csTerminating || code == 100 {
			return
		}
		c.state = csEarly
		c.earlyDialog(r)
		if !c.reliable18x(r) { // prack.go: a retransmitted or out-of-order reliable 18x is not reported
			return
		}
		e := Event{Kind: CallProgress, Line: c.line.n, Call: c.id, Code: code, Peer: c.peer, Divert: c.divert(r)}
		if len(r.Body) > 0 {
			if s, err := sdp.Parse(r.Body); err == nil {
				if m, err := answered(c.offer, s); err == nil {
					e.Remote = m
				}
			}
		}
		c.ua.emit(e)
	case code < 400 && c.redirects < maxRedirects && c.state != csTerminating && !c.cancelWanted:
		if !c.redirect(r) {
			c.end(code)
		}
	case code == 503 && c.failover("503 from"):
	case code == 422 && c.retry422(o, r): // RFC 4028 section 7.4: again with the larger Min-SE
	default:
		c.reason = r.Get("Reason") // RFC 3326 in responses, e.g. Q.850 causes from gateways
		c.end(code)
	}
}

// failover sends a new call's INVITE to the line's next server when the
// current one timed out, answered 503 or could not be reached, before
// anything else came back (RFC 3263 section 4.3): a new transaction, with
// a new branch, to the next target. It reports whether it did.
func (c *call) failover(why string) bool {
	if c.provisional || c.dlg != nil || c.line.proxy == nil || c.state != csCalling || c.ua.closing {
		return false
	}
	if !c.line.failover(why, c.dest, c.tk, &c.hopTries) {
		return false
	}
	inv := c.inv.Clone()
	c.dest, c.tk = c.line.proxy, c.line.tk
	inv.RemoveFirst("Via")
	inv.Prepend("Via", c.ua.viaFor(c.tk))
	inv.Set("Contact", c.ua.contactFor(c.tk, c.line))
	c.sendInvite(inv)
	return true
}

// maxEarly bounds the early dialogs a call keeps (one per fork).
const maxEarly = 8

// earlyDialog records the early dialog a provisional response with a To
// tag creates (RFC 3261 12.1.2), one per To tag: each fork that rings has
// its own. The first 2xx confirms its dialog (on2xx); the others end with
// the INVITE transaction, or are BYEd if they answer too (fork2xx).
func (c *call) earlyDialog(r *sipmsg.Message) {
	tag := r.ToTag()
	if tag == "" || c.early[tag] != nil || len(c.early) >= maxEarly {
		return
	}
	d, err := dialog.NewUAC(c.inv, r)
	if err != nil { // no Contact: not a dialog yet
		return
	}
	if c.early == nil {
		c.early = map[string]*dialog.Dialog{}
	}
	c.early[tag] = d
}

// redirect follows a 3xx (8.1.3.4): a new INVITE, same Call-ID, From and
// To, the next CSeq, to the first SIP Contact, with the response's
// Diversion headers (RFC 5806) kept. It reports false when there is no
// Contact to go to.
func (c *call) redirect(r *sipmsg.Message) bool {
	var to sipmsg.URI
	found := false
	for _, v := range r.GetAll("Contact") {
		for _, one := range sipmsg.SplitList(v) {
			na, err := sipmsg.ParseNameAddr(one)
			if err == nil && (na.URI.Scheme == "sip" || na.URI.Scheme == "sips") {
				to, found = na.URI, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return false
	}
	dest := c.line.proxy
	if dest == nil {
		t, err := c.ua.resolveHop(to)
		if err != nil {
			c.ua.logf("sipua: call %d redirect: %v", c.id, err)
			return false
		}
		dest, c.tk = t.UDPAddr(), tkindOf(t.Transport)
	}
	c.redirects++
	to.Headers = ""
	inv := c.inv.Clone()
	inv.RequestURI = to.String()
	seq, _, _ := inv.CSeq()
	inv.Set("CSeq", fmt.Sprintf("%d INVITE", seq+1))
	inv.RemoveFirst("Via")
	inv.Prepend("Via", c.ua.viaFor(c.tk))
	inv.Del("Authorization")
	inv.Del("Proxy-Authorization")
	have := map[string]bool{}
	for _, d := range inv.GetAll("Diversion") {
		have[d] = true
	}
	for _, d := range r.GetAll("Diversion") {
		if !have[d] {
			inv.Add("Diversion", d)
		}
	}
	c.ua.logf("sipua: call %d redirected (%d) to %s", c.id, r.StatusCode, inv.RequestURI)
	c.dest, c.provisional = dest, false
	c.early = nil
	c.state = csCalling
	c.sendInvite(inv)
	return true
}

// on2xx handles a 2xx to our INVITE: ACK it (13.2.2.4), and on the first
// one confirm the call (or, if we hung up meanwhile, BYE it).
func (c *call) on2xx(r *sipmsg.Message) {
	if c.ack != nil {
		c.fork2xx(r)
		return
	}
	if c.state == csEnded {
		return
	}
	d, err := dialog.NewUAC(c.inv, r)
	if err != nil && r.Get("Contact") == "" {
		// A broken peer's 2xx without the Contact 12.1.2 requires: the
		// dialog's target is the Request-URI the INVITE went to, so the
		// call still gets its ACK and works (and can be ended with a BYE)
		// rather than leaving the peer retransmitting an unACKed 2xx.
		c.ua.logf("sipua: call %d: 2xx without Contact; the dialog's target is %s", c.id, c.inv.RequestURI)
		fixed := r.Clone()
		fixed.Set("Contact", "<"+c.inv.RequestURI+">")
		d, err = dialog.NewUAC(c.inv, fixed)
	}
	if err != nil {
		c.ua.logf("sipua: call %d: %v", c.id, err)
		c.end(502)
		return
	}
	// A 2xx without a To tag (an RFC 2543 peer, or a broken one) makes a
	// dialog whose remote tag is empty (12.1.2): the peer's requests in it
	// carry no From tag, and match it.
	c.dlg = d
	ack := c.inDialog(d, "ACK")
	c.ack = ack
	c.confirmEarly(d) // after the ACK, which has the INVITE's CSeq (prack.go)
	c.ua.sendMsg(ack, c.hop())
	if c.stopCancel != nil {
		c.stopCancel()
		c.stopCancel = nil
	}
	if c.state == csTerminating || c.cancelWanted || c.ua.closing {
		c.sendBye("")
		return
	}
	ans, err := sdp.Parse(c.answerBody(r)) // the 2xx's, or a reliable 18x's (prack.go)
	var m *Media
	if err == nil {
		m, err = answered(c.offer, ans)
	}
	if err != nil {
		c.ua.logf("sipua: call %d: bad answer: %v", c.id, err)
		c.state = csConfirmed
		c.sendBye(reasonFor(488))
		return
	}
	// Re-offers carry the chosen codec (and telephone-event) only.
	c.local = chosen(c.offer, m)
	c.ua.logf("sipua: call %d answered: %s", c.id, srtpText(m))
	c.remote = m
	c.state = csConfirmed
	c.sessionAnswered(r)
	c.ua.emit(Event{Kind: CallAnswered, Line: c.line.n, Call: c.id, Peer: c.peer, Remote: m, Divert: c.divert(r)})
}

// divert is what a response to the call's INVITE says of where the call
// went (divert.go); headers that do not parse are logged and ignored.
func (c *call) divert(r *sipmsg.Message) Divert {
	d, err := divertOf(r)
	if err != nil {
		c.ua.logf("sipua: call %d: %v; ignored", c.id, err)
	}
	if d.From != "" {
		c.ua.logf("sipua: call %d for %s went to %s (%s) %q", c.id, d.From, d.To, d.Reason, d.Name)
	}
	return d
}

// fork2xx handles a 2xx after the first: a retransmission of the
// confirmed dialog's is ACKed again; one from another fork (another To tag)
// is ACKed and then BYEd, RFC 3261 13.2.2.4 (once; retransmissions of it
// are ACKed again).
func (c *call) fork2xx(r *sipmsg.Message) {
	tag := ""
	if to, err := sipmsg.ParseNameAddr(r.Get("To")); err == nil {
		tag, _ = to.Param("tag")
	}
	if c.dlg == nil || tag == c.dlg.RemoteTag {
		c.ua.sendMsg(c.ack, c.hop())
		return
	}
	if ack, ok := c.forks[tag]; ok {
		c.ua.sendMsg(ack, c.hop())
		return
	}
	d, err := dialog.NewUAC(c.inv, r)
	if err != nil {
		return
	}
	hop := c.dest
	if c.line.proxy != nil {
		hop = c.line.proxy
	} else if t, err := c.ua.resolveHop(d.NextHop()); err == nil {
		hop = t.UDPAddr()
	}
	ack := c.inDialog(d, "ACK")
	if c.forks == nil {
		c.forks = map[string]*sipmsg.Message{}
	}
	c.forks[tag] = ack
	c.ua.sendMsg(ack, hop)
	bye := c.inDialog(d, "BYE")
	bye.Add("Reason", `SIP;cause=200;text="Call completed elsewhere"`)
	c.ua.logf("sipua: call %d: a second fork answered (tag %s): ACK and BYE", c.id, tag)
	if _, err := c.ua.request(c.line, d, bye, hop, &outReq{}); err != nil {
		c.ua.logf("sipua: call %d fork BYE: %v", c.id, err)
	}
}

func (c *call) sendCancel() {
	c.state = csTerminating
	cancel := transaction.CancelFor(c.inv)
	if _, err := c.ua.tl.NewClient(cancel, c.dest, transaction.ClientHandler{}); err != nil {
		c.ua.logf("sipua: call %d CANCEL: %v", c.id, err)
	}
	// 9.1: without a final response within 64*T1 the INVITE counts as cancelled.
	c.stopCancel = c.ua.after(cancelGrace, func() {
		if c.state == csTerminating && c.dlg == nil {
			c.invReq.Terminate()
			c.end(487)
		}
	})
}

// sendBye ends a confirmed call with a BYE, with a Reason header (RFC
// 3326) when reason is not empty. CallEnded carries the Reason's SIP cause
// when there is one (the phone's reason to end it: 408 no ACK, 488 an
// answer it cannot play), else 200.
func (c *call) sendBye(reason string) {
	code := 200
	if v, ok := strings.CutPrefix(reason, "SIP;cause="); ok {
		if n, err := strconv.Atoi(v[:min(3, len(v))]); err == nil {
			code = n
		}
	}
	c.state = csTerminating
	if c.stopOK != nil {
		c.stopOK()
		c.stopOK = nil
	}
	bye := c.inDialog(c.dlg, "BYE")
	if reason != "" {
		bye.Add("Reason", reason)
	}
	_, err := c.ua.request(c.line, c.dlg, bye, c.hop(), &outReq{
		onResponse: func(_ *outReq, r *sipmsg.Message) {
			if r.StatusCode >= 200 {
				c.end(code)
			}
		},
		onError: func(_ *outReq, err error) {
			c.ua.logf("sipua: call %d BYE: %v", c.id, err)
			c.end(code)
		},
	})
	if err != nil {
		c.end(code)
	}
}

// hangup ends the call whatever its state (on the loop goroutine).
func (c *call) hangup() {
	switch c.state {
	case csCalling:
		if c.provisional {
			c.sendCancel()
		} else {
			c.cancelWanted = true // CANCEL once a provisional arrives (9.1)
			c.state = csTerminating
			c.stopCancel = c.ua.after(cancelGrace, func() {
				if c.state == csTerminating && c.dlg == nil {
					c.invReq.Terminate()
					c.end(487)
				}
			})
		}
	case csEarly:
		c.sendCancel()
	case csIncoming, csRinging:
		c.respondInvite(480, nil)
		c.end(480)
	case csConnecting:
		if c.dropHeldOK() { // prack.go: the 200 still waits for a PRACK
			return
		}
		c.byeWanted = true // section 15: the callee waits for the ACK (or its timeout)
	case csConfirmed:
		c.sendBye("")
	}
}

// Hangup ends a call: BYE when confirmed, CANCEL when outgoing and early,
// 480 when incoming and unanswered. A CallEnded event follows.
func (ua *UA) Hangup(id CallID) error {
	return ua.do(func() error {
		c, err := ua.lookup(id)
		if err != nil {
			return err
		}
		c.hangup()
		return nil
	})
}

// handleInvite takes a new INVITE (or a re-INVITE inside a dialog).
func (ua *UA) handleInvite(srv *transaction.Server, m *sipmsg.Message) {
	if to, err := sipmsg.ParseNameAddr(m.Get("To")); err == nil {
		if _, tagged := to.Param("tag"); tagged {
			ua.handleReInvite(srv, m)
			return
		}
	}
	ua.respond(srv, 100, "", nil) // at once (8.2.6.1)
	if ua.closing || len(ua.lines) == 0 {
		ua.respond(srv, 480, "", nil)
		return
	}
	l := ua.lines[0]
	if u, err := sipmsg.ParseURI(m.RequestURI); err == nil {
		for _, cand := range ua.lines {
			if cand.cfg.User == u.User {
				l = cand
				break
			}
		}
	}
	late := len(m.Body) == 0 // a late offer (lateoffer.go), not an error
	offer, err := sdp.Parse(m.Body)
	if !late && (err != nil || !strings.HasPrefix(strings.ToLower(m.Get("Content-Type")), "application/sdp")) {
		ua.logf("sipua: INVITE without a usable SDP offer: %v", err)
		ua.respond(srv, 488, "", func(r *sipmsg.Message) { addToTag(r, sipmsg.NewTag()) })
		return
	}
	if err := srtpCheck(l.cfg.SRTP, viaTransport(m), l.n); err != nil {
		// Our answer would carry its key in the clear (srtp.go).
		ua.logf("sipua: INVITE: %v: 488", err)
		ua.respond(srv, 488, "", func(r *sipmsg.Message) {
			addToTag(r, sipmsg.NewTag())
			r.Add("Warning", `399 `+ua.contactHost+` "SRTP keys only over TLS"`)
		})
		return
	}
	if err := servable(offer, l.cfg.SRTP); !late && err != nil {
		// RFC 3264 section 6 / RFC 3261 13.3.1.3: nothing in the offer the
		// phone can play (no G.711, the stream rejected, or no usable
		// SRTP key where SRTP is required): 488 at once, without ringing,
		// with Warning 305 (20.43).
		ua.logf("sipua: INVITE offers no audio the phone takes (%v): 488", err)
		ua.respond(srv, 488, "", func(r *sipmsg.Message) {
			addToTag(r, sipmsg.NewTag())
			r.Add("Warning", `305 `+ua.contactHost+` "Incompatible media format"`)
		})
		return
	}
	if ua.sessionTooSmall(srv, m) { // RFC 4028 section 9
		return
	}
	var replaced *call
	if rv := m.Get("Replaces"); rv != "" {
		var code int
		if replaced, code = ua.replacedCall(rv); replaced == nil {
			ua.logf("sipua: INVITE with Replaces %q: %d", rv, code)
			ua.respond(srv, code, "", func(r *sipmsg.Message) { addToTag(r, sipmsg.NewTag()) })
			return
		}
		l = replaced.line
	}
	c := ua.newCall(l, false)
	if replaced != nil {
		c.replaces = replaced.id
	}
	c.srv, c.remoteOffer, c.state, c.lateOffer = srv, offer, csIncoming, late
	c.tk = viaTransport(m) // answered over the transport it came on
	c.localTag = sipmsg.NewTag()
	c.peer = userOf(m.Get("From"))
	c.number = numberOf(m.Get("From"))
	srv.OnTimeout = func(*transaction.Server, error) { c.end(408) }
	c.armRingTimeout()
	ua.emit(Event{Kind: CallIncoming, Line: l.n, Call: c.id, Peer: c.peer, Number: c.number, Remote: c.offerMedia(), ReplacesCall: c.replaces})
}

// replacedCall finds the call an INVITE's Replaces header (RFC 3891
// section 3) names: the dialog with its Call-ID whose local tag is the
// to-tag and remote tag the from-tag. It returns the call, or the status to
// refuse the INVITE with: 400 for a malformed header, 481 when no dialog
// matches (or only an early one: early dialogs are not replaced here), 486
// for early-only with a confirmed dialog, 603 for a dialog already ending.
func (ua *UA) replacedCall(v string) (*call, int) {
	callID, toTag, fromTag, err := parseReplaces(v)
	if err != nil {
		return nil, 400
	}
	earlyOnly := false
	for _, p := range strings.Split(v, ";")[1:] {
		if strings.EqualFold(strings.TrimSpace(p), "early-only") {
			earlyOnly = true
		}
	}
	for _, c := range ua.calls {
		d := c.dlg
		if d == nil || d.CallID != callID || d.LocalTag != toTag || d.RemoteTag != fromTag {
			continue
		}
		switch c.state {
		case csConfirmed, csConnecting:
			if earlyOnly {
				return nil, 486
			}
			return c, 0
		case csTerminating, csEnded:
			return nil, 603
		}
	}
	return nil, 481
}

// parseReplaces splits a Replaces value (RFC 3891 section 6.1).
func parseReplaces(v string) (callID, toTag, fromTag string, err error) {
	parts := strings.Split(v, ";")
	callID = strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "to-tag":
			toTag = strings.TrimSpace(val)
		case "from-tag":
			fromTag = strings.TrimSpace(val)
		}
	}
	if callID == "" || toTag == "" || fromTag == "" {
		return "", "", "", fmt.Errorf("sipua: bad Replaces %q", v)
	}
	return callID, toTag, fromTag, nil
}

func (c *call) respondInvite(code int, mod func(r *sipmsg.Message)) *sipmsg.Message {
	build := func(r *sipmsg.Message) {
		addToTag(r, c.localTag)
		if code < 300 {
			r.Add("Contact", c.ua.contactFor(c.tk, c.line))
		}
		if mod != nil {
			mod(r)
		}
	}
	if r := c.respondReliably(code, build); r != nil { // prack.go: a reliable 18x, or a 200 held for a PRACK
		return r
	}
	return c.ua.respond(c.srv, code, "", build)
}

// Redirect answers an incoming call that has not been answered with 302
// Moved Temporarily to target (a number on the line's domain, or a SIP URI),
// with a Diversion header (RFC 5806) naming this line and reason
// ("no-answer", "user-busy", "unconditional", "do-not-disturb"): call
// forwarding done by the phone. The call ends with CallEnded 302.
func (ua *UA) Redirect(id CallID, target, reason string) error {
	return ua.do(func() error {
		c, err := ua.lookup(id)
		if err != nil {
			return err
		}
		if c.state != csIncoming && c.state != csRinging {
			return fmt.Errorf("%w: redirect in %v", ErrCallState, c.state)
		}
		to, err := c.line.targetURI(target)
		if err != nil {
			return err
		}
		div := "<" + c.line.aor().String() + ">"
		if reason != "" {
			div += ";reason=" + reason
		}
		c.respondInvite(302, func(r *sipmsg.Message) {
			r.Add("Contact", "<"+to.String()+">")
			r.Add("Diversion", div)
		})
		c.end(302)
		return nil
	})
}

// Ring sends 180 Ringing for an incoming call.
func (ua *UA) Ring(id CallID) error {
	return ua.do(func() error {
		c, err := ua.lookup(id)
		if err != nil {
			return err
		}
		if c.state != csIncoming && c.state != csRinging {
			return fmt.Errorf("%w: ring in %v", ErrCallState, c.state)
		}
		c.respondInvite(180, nil)
		c.state = csRinging
		c.rang()
		return nil
	})
}

// Answer accepts an incoming call with local media: 200 OK with the SDP
// answer, retransmitted until the ACK comes (13.3.1.4). It returns the
// negotiated remote media (Codecs[0] is the chosen codec); with no common
// codec it answers 488 and the call ends. A CallAnswered event follows.
// For an INVITE without an offer (a late offer, lateoffer.go) the 200
// carries our offer, Answer returns nil media, and the CallAnswered that
// follows the ACK carries the peer's answer.
func (ua *UA) Answer(id CallID, local Media) (*Media, error) {
	var remote *Media
	err := ua.do(func() error {
		c, err := ua.lookup(id)
		if err != nil {
			return err
		}
		if c.state != csIncoming && c.state != csRinging {
			return fmt.Errorf("%w: answer in %v", ErrCallState, c.state)
		}
		ls, err := local.session(1, c.line.cfg.SRTP)
		if err != nil {
			return err
		}
		ans, err := c.answerFor(ls)
		var keys *SRTPKeys
		if err == nil && !c.lateOffer {
			keys, err = keyAnswer(c.remoteOffer, &ans, c.line.cfg.SRTP)
		}
		if err != nil {
			c.respondInvite(488, nil)
			c.end(488)
			return fmt.Errorf("%w: %w", ErrNoCodec, err)
		}
		d, err := dialog.NewUAS(c.srv.Request(), c.localTag)
		if err != nil {
			c.respondInvite(400, nil)
			c.end(400)
			return fmt.Errorf("sipua: answer: %w", err)
		}
		c.dlg = d
		c.caps, c.local = ls, ans
		c.localSDP = ans.Marshal()
		c.ok = c.respondInvite(200, func(r *sipmsg.Message) {
			r.Add("Allow", allowHeader)
			c.sessionAnswer(c.srv.Request(), r)
			r.Add("Content-Type", "application/sdp")
			r.Body = c.localSDP
		})
		c.state = csConnecting
		c.stopRinging()
		c.retransmitOK(transaction.T1, 0)
		if !c.lateOffer { // a late offer's media come with the answer in the ACK (lateAnswer)
			remote = negotiated(c.remoteOffer, ans)
			remote.SRTP = keys
			c.remote = remote
			ua.logf("sipua: call %d answered: %s", c.id, srtpText(remote))
			ua.emit(Event{Kind: CallAnswered, Line: c.line.n, Call: c.id, Peer: c.peer, Remote: remote})
		}
		if old, ok := ua.calls[c.replaces]; ok && c.replaces != 0 {
			// RFC 3891 section 3: the replaced dialog ends with a BYE.
			switch old.state {
			case csConfirmed:
				old.sendBye(replacedReason)
			case csConnecting:
				old.byeWanted = true
			}
		}
		return nil
	})
	return remote, err
}

// retransmitOK re-sends the 2xx at T1, 2*T1, ... up to T2 until the ACK
// comes; after 64*T1 without one the call is ended with a BYE (13.3.1.4).
func (c *call) retransmitOK(interval, elapsed time.Duration) {
	if c.rel.heldOK != nil {
		return // not sent yet: prack.go sends it and starts this once the provisional is PRACKed
	}
	c.stopOK = c.ua.after(interval, func() {
		if c.state != csConnecting {
			return
		}
		elapsed += interval
		if elapsed >= 64*transaction.T1 {
			c.ua.logf("sipua: call %d: no ACK for 200", c.id)
			c.state = csConfirmed
			c.sendBye(`SIP;cause=408;text="No ACK"`)
			return
		}
		_ = c.srv.Respond(c.ok)
		c.retransmitOK(min(2*interval, transaction.T2), elapsed)
	})
}

// Reject ends an incoming call with a final non-2xx status (486, 480, 603, ...).
func (ua *UA) Reject(id CallID, code int) error {
	if code < 300 || code > 699 {
		return fmt.Errorf("sipua: reject with %d: not a failure status", code)
	}
	return ua.do(func() error {
		c, err := ua.lookup(id)
		if err != nil {
			return err
		}
		if c.state != csIncoming && c.state != csRinging {
			return fmt.Errorf("%w: reject in %v", ErrCallState, c.state)
		}
		c.respondInvite(code, nil)
		c.end(code)
		return nil
	})
}

// byDialog finds the call whose dialog a request belongs to (12.2.2:
// Call-ID, To tag = ours, From tag = theirs), without allocating.
func (ua *UA) byDialog(m *sipmsg.Message) *call {
	callID := m.Get("Call-ID")
	ft, tt := m.FromTag(), m.ToTag()
	for _, c := range ua.calls {
		if d := c.dlg; d != nil && d.CallID == callID && d.LocalTag == tt && d.RemoteTag == ft {
			return c
		}
	}
	return nil
}

func (ua *UA) handleAck(m *sipmsg.Message) {
	c := ua.byDialog(m)
	if c == nil {
		return
	}
	if c.reSrv != nil {
		// The re-INVITE's ACK has its CSeq number (13.2.2.4), whatever
		// came in the dialog since (a MESSAGE, a REFER).
		want, _, err := c.reSrv.Request().CSeq()
		if seq, _, _ := m.CSeq(); err == nil && seq == want {
			c.reAcked(m)
			return
		}
	}
	// The INVITE's ACK has its CSeq number (13.2.2.4): a re-INVITE taken
	// before it (handleReInvite) has a higher one, and its ACK, or that
	// ACK's retransmission, does not confirm the call.
	if seq, _, _ := m.CSeq(); c.state != csConnecting || seq != c.inviteSeq() {
		return
	}
	if c.stopOK != nil {
		c.stopOK()
		c.stopOK = nil
	}
	c.state = csConfirmed
	if c.lateOffer && !c.lateAnswer(m) {
		return
	}
	if c.byeWanted {
		c.sendBye("")
		return
	}
	if u := c.referWanted; u != nil {
		c.referWanted = nil
		if err := c.sendRefer(*u); err != nil {
			c.ua.logf("sipua: call %d: transfer after the ACK: %v", c.id, err)
		}
	}
	c.reinviteDone() // put on hold before the ACK
}

// inviteSeq is the CSeq number of the INVITE the call answered.
func (c *call) inviteSeq() uint32 {
	seq, _, _ := c.srv.Request().CSeq()
	return seq
}

func (ua *UA) handleBye(srv *transaction.Server, m *sipmsg.Message) {
	c := ua.byDialog(m)
	if c == nil {
		ua.respond(srv, 481, "", nil)
		return
	}
	ua.respond(srv, 200, "", nil)
	c.reason = m.Get("Reason")
	c.end(200)
}

// handleCancel answers a CANCEL (9.2): 200 for it and, if the call is
// still unanswered, 487 for the INVITE.
func (ua *UA) handleCancel(srv *transaction.Server, m *sipmsg.Message) {
	inv := ua.tl.MatchCancel(m)
	if inv == nil {
		ua.respond(srv, 481, "", nil)
		return
	}
	ua.respond(srv, 200, "", nil)
	for _, c := range ua.calls {
		if c.srv == inv && (c.state == csIncoming || c.state == csRinging || c.rel.heldOK != nil) { // heldOK: answered, but the 200 waits for a PRACK (prack.go)
			c.reason = m.Get("Reason") // e.g. "Call completed elsewhere" (RFC 3326)
			c.respondInvite(487, nil)
			c.end(487)
			return
		}
	}
}
