package sipua

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

// Session changes inside a confirmed call: re-INVITE for hold and resume
// (RFC 3264 section 8.4, RFC 3261 section 14), glare (14.1, 14.2), and
// blind transfer with REFER (RFC 3515), and attended transfer with Replaces
// (RFC 3891, RFC 5589 section 7): TransferTo, DialReplacing, and INVITEs
// with Replaces taken in place of a confirmed call.

// holdDir is the direction we put in a description given the one that
// mirrors the peer's (sendrecv when we offer) and whether we hold the call
// (RFC 3264 section 8.4: holding turns sendrecv into sendonly and recvonly
// into inactive).
func holdDir(dir string, held bool) string {
	if !held {
		if dir == "" {
			return "sendrecv"
		}
		return dir
	}
	switch dir {
	case "recvonly", "inactive":
		return "inactive"
	}
	return "sendonly"
}

// remoteHolds reports whether a peer's offer puts us on hold: sendonly or
// inactive, or the RFC 2543 style c=0.0.0.0.
func remoteHolds(s sdp.Session) bool {
	a := audio(s)
	return a.Direction == "sendonly" || a.Direction == "inactive" || a.Host == "0.0.0.0"
}

// Hold puts a call on hold (hold true: a re-INVITE offering
// a=sendonly) or resumes it (a=sendrecv), RFC 3264 section 8.4. It returns
// once the re-INVITE is sent; a 491 (glare) is retried after RFC 3261
// 14.1's random delay, and a call that changes its mind while a re-INVITE
// is pending sends another when that one ends; on a call this phone
// answered, the re-INVITE waits for the ACK of its 200. A 408 or 481 ends the call
// with a BYE (14.1); other failures leave the call as it was.
func (ua *UA) Hold(id CallID, hold bool) error {
	return ua.do(func() error {
		c, err := ua.lookup(id)
		if err != nil {
			return err
		}
		if (c.state != csConfirmed && c.state != csConnecting) || c.dlg == nil {
			return fmt.Errorf("%w: hold in %v", ErrCallState, c.state)
		}
		c.wantHeld = hold
		if c.state == csConnecting {
			return nil // the re-INVITE waits for the ACK (14.2)
		}
		if c.reinvTx == nil && c.stopGlare == nil {
			c.sendReInvite()
		}
		return nil
	})
}

// sendReInvite offers our session again with the direction c.wantHeld asks
// for (14.1).
func (c *call) sendReInvite() {
	if c.state != csConfirmed {
		return
	}
	prev := c.local.Direction
	c.local.Direction = holdDir("sendrecv", c.wantHeld)
	keyed := rekey(&c.local) // RFC 4568 7.1.4: each offer a fresh key
	if !c.st.wantRefresh || c.local.Direction != prev || keyed {
		c.local.Origin.Version++ // RFC 3264 section 8: a session refresh that changes nothing keeps it (timer.go)
	}
	held := c.wantHeld
	body := c.local.Marshal()
	inv := c.inDialog(c.dlg, "INVITE")
	c.sessionHeaders(inv)
	inv.Add("Content-Type", "application/sdp")
	inv.Body = body
	var ack *sipmsg.Message
	tx, err := c.ua.request(c.line, c.dlg, inv, c.hop(), &outReq{
		onResponse: func(tx *outReq, r *sipmsg.Message) {
			code := r.StatusCode
			switch {
			case code < 200:
				return
			case code < 300:
				if ack == nil {
					ack = c.inDialog(c.dlg, "ACK")
					seq, _, _ := tx.req.CSeq()                                  // the re-INVITE as last sent (re-sent with credentials)
					ack.Set("CSeq", strconv.FormatUint(uint64(seq), 10)+" ACK") // 13.2.2.4: the INVITE's number
				}
				c.ua.sendMsg(ack, c.hop()) // again for each retransmitted 2xx
				if c.reinvTx != tx {
					return
				}
				c.reinvTx = nil
				c.held = held
				c.sessionAnswered(r)
				if ans, err := sdp.Parse(r.Body); err == nil {
					m, err := answered(c.local, ans)
					switch {
					case err != nil:
						c.ua.logf("sipua: call %d re-INVITE: bad answer: %v", c.id, err)
					case !m.SRTP.equal(c.remote.SRTP):
						// New keys: the firmware restarts the stream with them.
						c.remote = m
						c.ua.emit(Event{Kind: CallAnswered, Line: c.line.n, Call: c.id, Peer: c.peer, Remote: m})
					default:
						c.remote = m
					}
				}
				c.reinviteDone()
			default:
				if c.reinvTx != tx || (code == 422 && c.retry422(tx, r)) {
					return
				}
				c.reinvTx = nil
				c.local.Direction = holdDir("sendrecv", c.held)
				switch code {
				case 491: // glare: retry after the random delay of 14.1
					c.retryReInvite()
				case 408, 481: // 14.1: the dialog is gone
					c.sendBye(reasonFor(code))
				default:
					c.ua.logf("sipua: call %d re-INVITE: %d", c.id, code)
					c.wantHeld = c.held
				}
			}
		},
		onError: func(tx *outReq, err error) {
			if c.reinvTx != tx {
				return
			}
			c.reinvTx = nil
			c.ua.logf("sipua: call %d re-INVITE: %v", c.id, err)
			c.sendBye(reasonFor(408))
		},
	})
	if err != nil {
		c.ua.logf("sipua: call %d re-INVITE: %v", c.id, err)
		c.wantHeld = c.held
		return
	}
	c.reinvTx = tx
}

// glareDelay is RFC 3261 14.1's wait before retrying a re-INVITE that got
// 491: 2.1 to 4 s in 10 ms steps for the owner of the Call-ID (the caller),
// 0 to 2 s for the other side.
func glareDelay(caller bool) time.Duration {
	if caller {
		return 2100*time.Millisecond + time.Duration(rand.IntN(191))*10*time.Millisecond
	}
	return time.Duration(rand.IntN(201)) * 10 * time.Millisecond
}

func (c *call) retryReInvite() {
	c.stopGlare = c.ua.after(glareDelay(c.outgoing), func() {
		c.stopGlare = nil
		if c.held != c.wantHeld || c.st.wantRefresh {
			c.sendReInvite()
		}
	})
}

// reinviteDone sends the next re-INVITE if the wanted hold state changed
// while one was pending.
func (c *call) reinviteDone() {
	if c.held != c.wantHeld && c.state == csConfirmed && c.reSrv == nil { // 14.1: not while the peer's waits for its ACK
		c.sendReInvite()
	}
}

// handleReInvite answers a re-INVITE of a call whose 2xx is sent (14.2),
// before its ACK too: the dialog exists once the 2xx is out (12.1.1), and
// the peer may re-INVITE as soon as it has the 2xx (RFC 5407 3.1.4), so a
// proxy that relays the ACK behind the re-INVITE must not cost a 14.1
// retry. 491 while an offer of ours is open (oa: our re-INVITE, or a late
// offer's 200 whose answer the ACK brings, RFC 3264 section 4, RFC 6337)
// or the peer's previous re-INVITE waits for its ACK; 500 with
// Retry-After while our 200 waits for a PRACK (14.2), and for an
// old CSeq (12.2.2); 488 for an offer we cannot serve; else 200 with our
// answer (hold kept: sendonly/inactive while we hold), retransmitted until
// the ACK comes. The far end putting us on hold or taking us off it gives
// CallHeld or CallResumed; a new media address or codec gives CallAnswered;
// both carry the new remote Media.
func (ua *UA) handleReInvite(srv *transaction.Server, m *sipmsg.Message) {
	c := ua.byDialog(m)
	if c == nil || c.dlg == nil {
		ua.respond(srv, 481, "", nil)
		return
	}
	switch {
	case c.state != csConfirmed && c.state != csConnecting:
		ua.respond(srv, 481, "", nil)
		return
	case c.rel.heldOK != nil: // 14.2: our 200 to the INVITE is not sent yet (prack.go)
		ua.respond(srv, 500, "", func(r *sipmsg.Message) { r.Add("Retry-After", itoa(rand.IntN(11))) })
		return
	case c.reSrv != nil || c.oa() == oaLocalOffer:
		// 14.2 and RFC 3264 section 4: an offer of ours is open (our
		// re-INVITE, or a 200 offering whose answer comes in the ACK) or
		// the peer's last re-INVITE is not ACKed yet.
		ua.respond(srv, 491, "", nil)
		return
	}
	seq, _, _ := m.CSeq()
	if seq <= c.dlg.RemoteSeq {
		ua.respond(srv, 500, "", func(r *sipmsg.Message) { r.Add("Retry-After", "1") })
		return
	}
	if ua.sessionTooSmall(srv, m) { // RFC 4028 section 9
		return
	}
	c.dlg.RemoteSeq = seq
	if na, err := sipmsg.ParseNameAddr(m.Get("Contact")); err == nil {
		c.dlg.SetRemoteTarget(na.URI) // 12.2.2: a target refresh
		c.hopAddr = nil
	}
	var body []byte
	var remote *Media
	var offer sdp.Session
	if len(m.Body) == 0 {
		// No offer: ours goes in the 200, the answer comes in the ACK (14.2).
		c.local.Origin.Version++
		c.local.Direction = holdDir("sendrecv", c.held)
		rekey(&c.local)
		body = c.local.Marshal()
		c.reOfferless = true
	} else {
		var err error
		if body, offer, remote, err = c.answerOffer(m.Body); err != nil {
			ua.logf("sipua: call %d re-INVITE: %v", c.id, err)
			ua.respond(srv, 488, "", nil) // the old session stays (14.2)
			return
		}
	}
	c.reSrv = srv
	c.reOK = ua.respond(srv, 200, "", func(r *sipmsg.Message) {
		r.Add("Contact", ua.contactFor(c.tk, c.line))
		r.Add("Allow", allowHeader)
		c.sessionAnswer(m, r)
		r.Add("Content-Type", "application/sdp")
		r.Body = body
	})
	c.retransmitReOK(transaction.T1, 0)
	if remote != nil {
		c.remoteChanged(offer, remote)
	}
}

// answerOffer answers a peer's offer in a re-INVITE or an UPDATE (RFC
// 3264 section 8, RFC 3311 section 5.2) from all we can do, with our hold
// state kept (sendonly or inactive while we hold): the answer becomes our
// description, its o= version one up. With an offer we cannot serve
// nothing changes: the caller answers 488 and the old session stays (RFC
// 3261 14.2). remote is the peer's new media.
func (c *call) answerOffer(b []byte) (body []byte, offer sdp.Session, remote *Media, err error) {
	offer, err = sdp.Parse(b)
	var ans sdp.Session
	if err == nil {
		ans, err = sdp.Answer(offer, c.caps)
	}
	var keys *SRTPKeys
	if err == nil {
		keys, err = keyAnswer(offer, &ans, c.line.cfg.SRTP)
	}
	if err != nil {
		return nil, offer, nil, err
	}
	ans.Origin = c.local.Origin
	ans.Origin.Version++
	ans.Direction = holdDir(ans.Direction, c.held)
	c.local = ans
	remote = negotiated(offer, ans)
	remote.SRTP = keys
	return ans.Marshal(), offer, remote, nil
}

// remoteChanged reports a new remote session from the peer's offer.
func (c *call) remoteChanged(offer sdp.Session, remote *Media) {
	held := remoteHolds(offer)
	old := c.remote
	c.remote = remote
	e := Event{Line: c.line.n, Call: c.id, Peer: c.peer, Remote: remote}
	switch {
	case held && !c.remoteHeld:
		e.Kind = CallHeld
	case !held && c.remoteHeld:
		e.Kind = CallResumed
	case old == nil || old.Host != remote.Host || old.Port != remote.Port ||
		len(old.Codecs) == 0 || old.Codecs[0] != remote.Codecs[0] || old.TelephoneEvent != remote.TelephoneEvent ||
		!old.SRTP.equal(remote.SRTP):
		e.Kind = CallAnswered
	default:
		return
	}
	c.remoteHeld = held
	c.ua.emit(e)
}

// retransmitReOK re-sends a re-INVITE's 2xx until its ACK (13.3.1.4), at
// interval, doubling up to T2; with no ACK after 64*T1 the call ends with
// a BYE. Its alarm is the call's, made once: a hold or a resume the peer
// sends allocates no timer.
func (c *call) retransmitReOK(interval, elapsed time.Duration) {
	if c.reOKA == nil {
		c.reOKA = c.ua.newAlarm(c.reOKDue)
	}
	c.reOKEvery, c.reOKElapsed = interval, elapsed
	c.reOKA.reset(interval)
}

func (c *call) reOKDue() {
	if c.reSrv == nil || (c.state != csConfirmed && c.state != csConnecting) {
		return
	}
	c.reOKElapsed += c.reOKEvery
	if c.reOKElapsed >= 64*transaction.T1 {
		c.reSrv, c.reOK = nil, nil
		c.sendBye(`SIP;cause=408;text="No ACK"`)
		return
	}
	_ = c.reSrv.Respond(c.reOK)
	c.retransmitReOK(min(2*c.reOKEvery, transaction.T2), c.reOKElapsed)
}

// stopReOK stops retransmitReOK.
func (c *call) stopReOK() {
	if c.reOKA != nil {
		c.reOKA.Stop()
	}
}

// reOKWaiting reports whether retransmitReOK waits to re-send.
func (c *call) reOKWaiting() bool { return c.reOKA != nil && c.reOKA.armed() }

// reAcked takes the ACK of a re-INVITE's 2xx (with the answer when the
// re-INVITE had no offer).
func (c *call) reAcked(ack *sipmsg.Message) {
	c.stopReOK()
	c.reSrv, c.reOK = nil, nil
	if c.reOfferless {
		c.reOfferless = false
		if ans, err := sdp.Parse(ack.Body); err == nil {
			if m, err := answered(c.local, ans); err == nil {
				c.remoteChanged(ans, m)
			}
		}
	}
	c.reinviteDone()
}

// Transfer blind-transfers a confirmed call to target (a number on the
// line's domain or a SIP URI): REFER with Refer-To and Referred-By (RFC
// 3515, RFC 3892). Once the peer accepts (2xx) the call ends with a BYE
// (CallEnded 200); a refusal is logged and the call stays.
func (ua *UA) Transfer(id CallID, target string) error {
	return ua.do(func() error {
		c, err := ua.lookup(id)
		if err != nil {
			return err
		}
		if (c.state != csConfirmed && c.state != csConnecting) || c.dlg == nil {
			return fmt.Errorf("%w: transfer in %v", ErrCallState, c.state)
		}
		u, err := c.line.targetURI(target)
		if err != nil {
			return err
		}
		return c.refer(u)
	})
}

// replacedReason is the Reason of the BYE that ends a dialog an INVITE
// with Replaces took over (RFC 3891).
const replacedReason = `SIP;cause=200;text="Call completed elsewhere"`

// TransferTo completes an attended transfer (RFC 5589 section 7): call id
// (the transferee, usually held) is referred to the far end of the
// consultation call consult, with a Replaces header (RFC 3891) in the
// Refer-To naming the consultation dialog as the target sees it, so the
// target's phone takes the transferee's INVITE in place of the
// consultation call without ringing. Once the transferee accepts (2xx)
// call id ends with a BYE; the target ends the consultation call.
func (ua *UA) TransferTo(id, consult CallID) error {
	return ua.do(func() error {
		c, err := ua.lookup(id)
		if err != nil {
			return err
		}
		k, err := ua.lookup(consult)
		if err != nil {
			return err
		}
		if (c.state != csConfirmed && c.state != csConnecting) || c.dlg == nil {
			return fmt.Errorf("%w: transfer in %v", ErrCallState, c.state)
		}
		if id == consult || k.state != csConfirmed || k.dlg == nil {
			return fmt.Errorf("%w: consultation call in %v", ErrCallState, k.state)
		}
		u := k.dlg.RemoteTarget
		u.Headers = "Replaces=" + escapeHeader(replacesValue(k.dlg.CallID, k.dlg.RemoteTag, k.dlg.LocalTag))
		return c.refer(u)
	})
}

// replacesValue is a Replaces header value (RFC 3891 section 6.1): the
// to-tag is the local tag of the dialog at the UA it is sent to.
func replacesValue(callID, toTag, fromTag string) string {
	return callID + ";to-tag=" + toTag + ";from-tag=" + fromTag
}

// escapeHeader %-escapes a URI header value (RFC 3261 25.1 hvalue:
// hnv-unreserved, unreserved and escaped characters only).
func escapeHeader(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9',
			strings.IndexByte("-_.!~*'()[]/?:+$", ch) >= 0:
			b.WriteByte(ch)
		default:
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

// replacesOf returns the unescaped Replaces header of a URI's headers
// part ("" if none).
func replacesOf(headers string) string {
	for _, h := range strings.Split(headers, "&") {
		name, val, _ := strings.Cut(h, "=")
		if strings.EqualFold(name, "Replaces") {
			if v, err := url.PathUnescape(val); err == nil {
				return v
			}
		}
	}
	return ""
}

// sendRefer sends a REFER to Refer-To u; a 2xx ends the call with a BYE.
// refer sends the REFER now on a confirmed call, or, on a call this phone
// answered whose ACK has not come yet, once it comes (the callee sends no
// request in the dialog before the ACK, as RFC 3261 14.2 and 15 ask for
// re-INVITE and BYE).
func (c *call) refer(u sipmsg.URI) error {
	if c.state == csConnecting {
		c.referWanted = &u
		return nil
	}
	return c.sendRefer(u)
}

func (c *call) sendRefer(u sipmsg.URI) error {
	ua := c.ua
	ref := c.inDialog(c.dlg, "REFER")
	ref.Add("Refer-To", "<"+u.String()+">")
	ref.Add("Referred-By", "<"+c.line.aor().String()+">")
	_, err := ua.request(c.line, c.dlg, ref, c.hop(), &outReq{
		onResponse: func(_ *outReq, r *sipmsg.Message) {
			switch {
			case r.StatusCode < 200:
			case r.StatusCode < 300:
				if c.state == csConfirmed {
					c.sendBye("")
				}
			default:
				ua.logf("sipua: call %d REFER: %d", c.id, r.StatusCode)
			}
		},
		onError: func(_ *outReq, err error) { ua.logf("sipua: call %d REFER: %v", c.id, err) },
	})
	return err
}

// handleRefer takes a REFER inside a call's dialog (RFC 3515 section 2.4):
// 202, a CallTransfer event with the Refer-To URI for the firmware to dial,
// and the NOTIFY the RFC requires, ending the implicit subscription at once
// (Subscription-State: terminated) with a sipfrag of 100 Trying.
func (ua *UA) handleRefer(srv *transaction.Server, m *sipmsg.Message) {
	c := ua.byDialog(m)
	if c == nil || c.dlg == nil || c.state != csConfirmed {
		ua.respond(srv, 481, "", nil)
		return
	}
	to, err := sipmsg.ParseNameAddr(m.Get("Refer-To"))
	if err != nil || (to.URI.Scheme != "sip" && to.URI.Scheme != "sips") {
		ua.respond(srv, 400, "Bad Refer-To", nil)
		return
	}
	if seq, _, _ := m.CSeq(); seq > c.dlg.RemoteSeq {
		c.dlg.RemoteSeq = seq
	}
	ua.respond(srv, 202, "", func(r *sipmsg.Message) { r.Add("Contact", ua.contactFor(c.tk, c.line)) })
	n := c.inDialog(c.dlg, "NOTIFY")
	n.Add("Event", "refer")
	n.Add("Subscription-State", "terminated;reason=noresource")
	n.Add("Content-Type", "message/sipfrag;version=2.0")
	n.Body = []byte("SIP/2.0 100 Trying\r\n")
	if _, err := ua.request(c.line, c.dlg, n, c.hop(), &outReq{}); err != nil {
		ua.logf("sipua: call %d NOTIFY: %v", c.id, err)
	}
	u := to.URI
	rep := replacesOf(u.Headers)
	u.Headers = ""
	ua.emit(Event{Kind: CallTransfer, Line: c.line.n, Call: c.id, Peer: c.peer, Target: u.String(), Replaces: rep})
}

// reasonFor is a Reason header value (RFC 3326) for a SIP status.
func reasonFor(code int) string {
	return fmt.Sprintf("SIP;cause=%d;text=%q", code, sipmsg.ReasonPhrase(code))
}
