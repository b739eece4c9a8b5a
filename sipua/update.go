package sipua

import (
	"math/rand/v2"
	"time"

	"github.com/deskphone/deskphone/sipua/dialog"
	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

// UPDATE (RFC 3311): taken in early and confirmed dialogs, with an offer
// (answered in the 200 from all we can do, our hold state kept, as a
// re-INVITE's is: answerOffer) or without one (a target refresh and, in
// a confirmed call, a session refresh: timer.go); sent, without a body,
// as the session refresh of a peer that allows it. Offers in UPDATE are
// refused while another offer is open (section 5.2): 491 when it is ours,
// 500 with Retry-After when it is the peer's and unanswered.

// oaState is where a call's offer/answer exchange (RFC 3264) stands, as
// RFC 3311 section 5.2 asks before taking an offer in an UPDATE.
type oaState uint8

const (
	oaStable      oaState = iota + 1 // the last offer was answered
	oaLocalOffer                     // we offered, no answer yet: an offer now is glare (491)
	oaRemoteOffer                    // the peer offered, we have not answered (500 with Retry-After)
	oaNone                           // no offer yet: a late-offer INVITE before our 200
)

func (s oaState) String() string {
	return [...]string{"?", "stable", "local-offer", "remote-offer", "none"}[s]
}

// oa is the call's offer/answer state. The initial INVITE's offer is
// answered by the 2xx (no reliable provisional responses here, RFC 3262);
// a late offer is ours in the 200, answered by the ACK (RFC 3261 13.3.1).
func (c *call) oa() oaState {
	switch {
	case c.reinvTx != nil: // our re-INVITE always offers (session.go)
		return oaLocalOffer
	case c.reSrv != nil && c.reOfferless: // our offer in the 200 waits for the ACK
		return oaLocalOffer
	case c.reSrv != nil:
		return oaStable
	case c.outgoing && c.dlg == nil:
		return oaLocalOffer
	case !c.outgoing && c.dlg == nil && c.lateOffer:
		return oaNone
	case !c.outgoing && c.dlg == nil:
		return oaRemoteOffer
	case !c.outgoing && c.state == csConnecting && c.lateOffer:
		return oaLocalOffer
	}
	return oaStable
}

// updState is a call's UPDATE of ours in flight and, for the callee's
// early dialog (which has no dialog.Dialog before Answer), the peer's
// last UPDATE CSeq.
type updState struct {
	tx       *outReq
	earlySeq uint32
}

// updateDialog finds the call and dialog an UPDATE belongs to: a
// confirmed one (byDialog), the caller's early dialog of the To tag the
// peer's provisional gave (RFC 3261 12.1.2), or the callee's early
// dialog once its 180 went out with our tag (dialog nil: Answer makes it).
func (ua *UA) updateDialog(m *sipmsg.Message) (*call, *dialog.Dialog) {
	if c := ua.byDialog(m); c != nil {
		return c, c.dlg
	}
	callID := m.Get("Call-ID")
	ft, tt := m.FromTag(), m.ToTag()
	for _, c := range ua.calls {
		switch {
		case c.dlg != nil:
		case c.outgoing && c.inv != nil && c.inv.Get("Call-ID") == callID && c.inv.FromTag() == tt:
			if d := c.early[ft]; d != nil && (c.state == csEarly || c.state == csCalling) {
				return c, d
			}
		case !c.outgoing && c.state == csRinging && c.srv != nil && c.localTag == tt &&
			c.srv.Request().Get("Call-ID") == callID && c.srv.Request().FromTag() == ft:
			return c, nil
		}
	}
	return nil, nil
}

// handleUpdate answers an UPDATE (RFC 3311 section 5.2).
func (ua *UA) handleUpdate(srv *transaction.Server, m *sipmsg.Message) {
	c, d := ua.updateDialog(m)
	if c == nil {
		ua.respond(srv, 481, "", nil)
		return
	}
	seq, _, _ := m.CSeq()
	last := c.upd.earlySeq
	if d != nil {
		last = d.RemoteSeq
	} else if s, _, _ := c.srv.Request().CSeq(); s > last {
		last = s
	}
	if seq <= last { // 12.2.2: out of order
		ua.respond(srv, 500, "", func(r *sipmsg.Message) { r.Add("Retry-After", "1") })
		return
	}
	if len(m.Body) > 0 {
		switch st := c.oa(); st {
		case oaLocalOffer:
			ua.logf("sipua: call %d UPDATE with an offer while ours is open: 491", c.id)
			ua.respond(srv, 491, "", nil)
			return
		case oaRemoteOffer, oaNone:
			ua.logf("sipua: call %d UPDATE with an offer in %v: 500", c.id, st)
			ua.respond(srv, 500, "", func(r *sipmsg.Message) { r.Add("Retry-After", itoa(rand.IntN(11))) })
			return
		}
	}
	confirmed := d != nil && d == c.dlg
	if confirmed && ua.sessionTooSmall(srv, m) {
		return
	}
	if d != nil {
		d.RemoteSeq = seq
		if na, err := sipmsg.ParseNameAddr(m.Get("Contact")); err == nil {
			d.SetRemoteTarget(na.URI) // section 5.2: UPDATE is a target refresh
			if confirmed {
				c.hopAddr = nil
			}
		}
	} else {
		c.upd.earlySeq = seq
	}
	var body []byte
	var remote *Media
	var offer sdp.Session
	if len(m.Body) > 0 {
		var err error
		if body, offer, remote, err = c.answerOffer(m.Body); err != nil {
			ua.logf("sipua: call %d UPDATE: %v", c.id, err)
			ua.respond(srv, 488, "", nil) // the session stays as it was
			return
		}
	}
	ua.respond(srv, 200, "", func(r *sipmsg.Message) {
		r.Add("Contact", ua.contactFor(c.tk, c.line))
		r.Add("Allow", allowHeader)
		if confirmed {
			c.sessionAnswer(m, r)
		} else {
			r.Add("Supported", ua.supported())
		}
		if body != nil {
			r.Add("Content-Type", "application/sdp")
			r.Body = body
		}
	})
	if remote != nil && c.dlg != nil {
		c.remoteChanged(offer, remote)
	}
}

// sendUpdate sends an UPDATE without a body in the confirmed dialog: the
// session refresh (RFC 4028 section 7.4 recommends no offer in it).
func (c *call) sendUpdate() {
	u := c.inDialog(c.dlg, "UPDATE")
	c.sessionHeaders(u)
	o, err := c.ua.request(c.line, c.dlg, u, c.hop(), &outReq{
		onResponse: c.updateResponse,
		onError: func(o *outReq, err error) {
			if c.upd.tx != o {
				return
			}
			c.upd.tx = nil
			c.ua.logf("sipua: call %d UPDATE: %v", c.id, err)
			if c.state == csConfirmed {
				c.sendBye(reasonFor(408)) // RFC 4028 section 10: no answer to the refresh
			}
		},
	})
	if err != nil {
		c.ua.logf("sipua: call %d UPDATE: %v", c.id, err)
		c.refreshIn(time.Second)
		return
	}
	c.upd.tx = o
}

// updateResponse takes the final response to our UPDATE: a 2xx refreshes
// the session; 491 is retried after RFC 3261 14.1's delay, 422 with the
// larger Min-SE; 405 or 501 (the peer's Allow was wrong) falls back to
// re-INVITE; 408 and 481 end the call with a BYE (RFC 4028 section 10).
func (c *call) updateResponse(o *outReq, r *sipmsg.Message) {
	code := r.StatusCode
	if code < 200 || c.upd.tx != o || c.state == csEnded {
		return
	}
	if code == 422 && c.retry422(o, r) {
		return
	}
	c.upd.tx = nil
	if c.state != csConfirmed {
		return
	}
	switch {
	case code < 300:
		c.sessionAnswered(r)
	case code == 491:
		c.refreshIn(glareDelay(c.outgoing))
	case code == 405 || code == 501:
		c.st.peerUpdate = false
		c.refresh()
	case code == 408 || code == 481:
		c.sendBye(reasonFor(code))
	default:
		c.ua.logf("sipua: call %d UPDATE: %d", c.id, code)
	}
}
