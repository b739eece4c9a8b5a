package phone

import (
	"strconv"

	"github.com/deskphone/deskphone/sipua"
)

// Two calls at once (issue 6): call waiting (a second incoming call while
// one is connected rings in with the waiting tone; ok or send, or hold,
// puts the first on hold and answers it; cancel refuses it with 486), hold
// and resume (the hold key: re-INVITE a=sendonly / a=sendrecv, RFC 3264
// 8.4), swap (the hold key with one call held and one connected), blind
// transfer (the transfer key, the number, then send, ok, # or transfer:
// REFER, RFC 3515) and being transferred (the far end's REFER: the phone
// calls its Refer-To). p.call is the call the handset is on; p.other the
// second call, waiting or held.

// waitingCall: a second incoming call while a call is connected.
func (p *Phone) waitingCall(ev sipua.Event) {
	c := &call{id: ev.Call, peer: ev.Peer, number: ev.Number, incoming: true, waiting: true}
	p.other = c
	if err := p.d.UA.Ring(ev.Call); err != nil {
		p.logf("phone: ring call %d: %v", ev.Call, err)
	}
	p.callStateOf(c, "incoming")
	p.setTone("waiting")
	p.d.Out.Display(1, "Waiting: "+c.peer+"  (ok: answer)")
	if p.d.Config.ForwardNoAnswer != "" {
		p.noAnswer.arm(secs(p.d.Config.NoAnswerSeconds))
	}
}

// answerWaiting holds the connected call and answers the waiting one.
func (p *Phone) answerWaiting() {
	w, a := p.other, p.call
	if a != nil && !a.held && !p.holdCall(a) {
		return
	}
	p.noAnswer.stop()
	w.waiting = false
	p.call, p.other = w, a
	p.setTone("none")
	p.answer()
}

// rejectWaiting refuses the waiting call (486 Busy Here).
func (p *Phone) rejectWaiting() {
	o := p.other
	if err := p.d.UA.Reject(o.id, 486); err != nil {
		p.logf("phone: reject call %d: %v", o.id, err)
	}
	p.callStateOf(o, "ended:486")
	o.result = "rejected"
	p.endCallOf(o)
	p.showCall()
}

// onOtherEvent handles the user agent's events for the second call.
func (p *Phone) onOtherEvent(ev sipua.Event) {
	o := p.other
	switch ev.Kind {
	case sipua.CallEnded:
		p.callStateOf(o, "ended:"+strconv.Itoa(ev.Code))
		p.endCallOf(o)
		p.showCall()
	case sipua.CallHeld:
		p.callStateOf(o, "remote-held")
	case sipua.CallResumed:
		if o.held {
			p.callStateOf(o, "held")
		}
	case sipua.CallTransfer:
		p.logf("phone: call %d (held) asks for a transfer to %s; ignored", o.id, ev.Target)
	}
}

// promoteOther: the handset's call ended or was hung up while a second
// call exists; that call becomes the phone's: a waiting one rings, a held
// one stays held until hold or lifting the handset resumes it.
func (p *Phone) promoteOther() {
	o := p.other
	p.other, p.call = nil, o
	if !o.waiting && !o.held { // the other far end of a conference
		p.eng(o).StopStream()
		o.media, o.second = false, false
		p.unmix()
		p.startMedia(o.remote)
		p.setState(Connected)
		p.showCall()
		return
	}
	if o.waiting {
		o.waiting = false
		if p.tone == "waiting" {
			p.setTone("none")
		}
		p.setState(Ringing)
		p.d.Out.Ring(true, "normal")
		p.d.Out.Display(1, "Call from "+o.peer)
		return
	}
	p.setState(Held)
	p.setTone("none")
	p.show(1, "On hold: ", o.peer)
}

// holdKey: hold, resume, swap, or answer a waiting call.
func (p *Phone) holdKey() {
	switch {
	case p.call == nil:
		p.prompt("hold: no call")
	case p.other != nil && p.other.waiting:
		p.answerWaiting()
	case p.state == Connected && p.other != nil && p.other.held:
		a, b := p.call, p.other
		if !p.holdCall(a) {
			return
		}
		p.call, p.other = b, a
		p.resumeCall(b)
		p.showCall()
	case p.state == Connected:
		if p.holdCall(p.call) {
			p.setState(Held)
			p.show(1, "On hold: ", p.call.peer)
		}
	case p.state == Held:
		p.resume()
	default:
		p.prompt("hold: not while " + p.state.String())
	}
}

// resume takes the handset's held call off hold.
func (p *Phone) resume() {
	c := p.call
	if c == nil || !c.held {
		return
	}
	if !p.offHook {
		p.offHook, p.speaker = true, true
		p.d.Out.LED("speaker", "on")
	}
	if p.resumeCall(c) {
		p.setState(Connected)
		p.showCall()
	}
}

func (p *Phone) holdCall(c *call) bool {
	if err := p.d.UA.Hold(c.id, true); err != nil {
		p.logf("phone: hold call %d: %v", c.id, err)
		p.prompt("hold failed: " + err.Error())
		return false
	}
	if c.media {
		p.eng(c).StopStream()
		c.media = false
		if !c.second {
			p.dtmfPoll.stop()
		}
	}
	if c.second {
		c.second = false // resumed, it runs on the first engine
		p.unmix()
	}
	c.held = true
	p.callStateOf(c, "held")
	p.d.Out.LED("hold", "on")
	return true
}

// resumeCall resumes c, which must be p.call, and restarts its audio.
func (p *Phone) resumeCall(c *call) bool {
	if err := p.d.UA.Hold(c.id, false); err != nil {
		p.logf("phone: resume call %d: %v", c.id, err)
		p.prompt("resume failed: " + err.Error())
		return false
	}
	c.held = false
	p.startMedia(c.remote)
	p.callStateOf(c, "connected")
	if p.other == nil || !p.other.held {
		p.d.Out.LED("hold", "off")
	}
	return true
}

// showCall puts the current call on the display.
func (p *Phone) showCall() {
	c := p.call
	if c == nil {
		return
	}
	switch o := p.other; {
	case p.conf && o != nil:
		p.show(1, "Conference: ", c.peer, " + ", o.peer)
	case c.held && o != nil && o.held:
		p.show(1, "On hold: ", c.peer, "  (held: ", o.peer, ")")
	case c.held:
		p.show(1, "On hold: ", c.peer)
	case o != nil && o.held:
		p.show(1, c.talkingTo(), c.peer, "  (held: ", o.peer, ")")
	default:
		p.show(1, c.talkingTo(), c.peer)
	}
}

// transferKey starts a blind transfer of the connected call: the digits
// that follow are the target.
func (p *Phone) transferKey() {
	if p.call == nil || !p.call.answered {
		p.prompt("transfer: no call")
		return
	}
	if o := p.other; o != nil && o.held && !p.conf {
		p.consultTransfer()
		return
	}
	p.xfer = true
	p.digits = p.digits[:0]
	p.d.Out.Display(1, "Transfer to: ")
}

func (p *Phone) xferDigit(d byte) {
	if len(p.digits) < maxDigits {
		p.digits = append(p.digits, d)
	}
	p.d.Out.Display(1, "Transfer to: "+string(p.digits))
}

// completeTransfer sends the REFER; the user agent ends the call once the
// far end accepts it.
func (p *Phone) completeTransfer() {
	c := p.call
	target := p.speedDial(string(p.digits))
	p.xfer = false
	p.digits = p.digits[:0]
	if c == nil || target == "" {
		p.prompt("transfer: no number")
		p.showCall()
		return
	}
	if err := p.d.UA.Transfer(c.id, target); err != nil {
		p.logf("phone: transfer call %d to %s: %v", c.id, target, err)
		p.d.Out.Display(1, "Transfer failed")
		return
	}
	c.result = "transferred:" + target
	p.prompt("call " + strconv.Itoa(int(c.id)) + " transferred to " + target)
	p.d.Out.Display(1, "Transferring to "+target)
}

// onTransferred: the far end transferred us (REFER): this call ends and
// the phone calls the target.
func (p *Phone) onTransferred(ev sipua.Event) {
	if ev.Target == "" {
		return
	}
	if ev.Replaces != "" {
		p.replacingTarget(ev)
		return
	}
	p.prompt("transferred by " + p.call.peer + " to " + ev.Target)
	p.hangup()
	p.placeCall(ev.Target)
}

// consultTransfer: with a call on hold and a consultation call to the
// target connected, transfer puts the held party through to the target:
// the attended transfer of RFC 5589 section 7. The held call is referred
// (REFER) to the consultation call's far end with Replaces (RFC 3891), so
// the target's phone takes the transferred party in place of the
// consultation call without ringing; the user agent ends the held call
// once the transferee accepts, and the target ends the consultation.
// Until then both calls stay; a refused REFER leaves them as they were.
func (p *Phone) consultTransfer() {
	c, o := p.call, p.other
	if err := p.d.UA.TransferTo(o.id, c.id); err != nil {
		p.logf("phone: transfer call %d to %s: %v", o.id, c.peer, err)
		p.d.Out.Display(1, "Transfer failed")
		return
	}
	target := c.number
	if target == "" {
		target = c.peer
	}
	c.result = "consulted"
	o.result = "transferred:" + target
	p.prompt("call " + strconv.Itoa(int(o.id)) + " transferred to " + target)
	p.d.Out.Display(1, "Transferring "+o.peer+" to "+c.peer)
}

// replacingTarget is onTransferred for an attended transfer: the
// call to the target carries the Replaces the REFER named.
func (p *Phone) replacingTarget(ev sipua.Event) {
	p.prompt("transferred by " + p.call.peer + " to " + ev.Target + " (replaces)")
	p.hangup()
	p.placeCallReplacing(ev.Target, ev.Replaces)
}

// replaceCall: an incoming INVITE with Replaces (RFC 3891) names the
// connected call: it is answered at once, without ringing, and takes that
// call's place; the user agent ends the replaced call with a BYE.
func (p *Phone) replaceCall(ev sipua.Event) {
	old := p.call
	old.result = "replaced"
	p.prompt("call " + strconv.Itoa(int(ev.Call)) + " from " + ev.Peer + " replaces call " + strconv.Itoa(int(old.id)))
	p.callState("ended:200")
	p.endCall()
	p.call = &call{id: ev.Call, peer: ev.Peer, number: ev.Number, incoming: true}
	p.callState("incoming")
	p.answer()
}
