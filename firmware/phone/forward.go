package phone

import (
	"strconv"
	"time"

	"github.com/deskphone/deskphone/sipua"
)

// Call forwarding done by the phone (issue 6): an incoming call is answered
// 302 Moved Temporarily with a Diversion header (RFC 5806) naming why:
// unconditional (call.forward_always or the fwd key), user-busy (a call is
// up, or the phone is off hook; call.forward_busy), do-not-disturb (the dnd
// key or call.dnd with call.forward_busy) and no-answer (call.forward_noanswer
// after call.noanswer_seconds of ringing). Without a busy target, busy and
// DND calls get 486 Busy Here.

// target resolves a forwarding target: "vm" (or "voicemail") is the
// voicemail box, voicemail.number.
func (p *Phone) target(t string) string {
	if t == "vm" || t == "voicemail" {
		return p.d.Config.VoicemailNumber
	}
	return t
}

// forward redirects an incoming call that this phone never rang.
func (p *Phone) forward(ev sipua.Event, to, reason string) {
	to = p.target(to)
	if to == "" || p.d.UA.Redirect(ev.Call, to, reason) != nil {
		p.logf("phone: call %d: cannot forward to %q (%s); answered 486", ev.Call, to, reason)
		if err := p.d.UA.Reject(ev.Call, 486); err != nil {
			p.logf("phone: reject call %d: %v", ev.Call, err)
		}
		p.d.Out.Call(int(ev.Call), "ended:486", ev.Peer)
		p.addHist(histEntry{incoming: true, peer: ev.Peer, number: ev.Number, result: "busy"})
		return
	}
	p.d.Out.Call(int(ev.Call), "forwarded", ev.Peer)
	p.prompt("call from " + ev.Peer + " forwarded to " + to + " (" + reason + ")")
	p.addHist(histEntry{incoming: true, peer: ev.Peer, number: ev.Number, result: "forwarded:" + to})
}

// onNoAnswer: the incoming call rang call.noanswer_seconds unanswered.
func (p *Phone) onNoAnswer() {
	if o := p.other; o != nil && o.waiting {
		to := p.target(p.d.Config.ForwardNoAnswer)
		if to == "" || p.d.UA.Redirect(o.id, to, "no-answer") != nil {
			return
		}
		p.callStateOf(o, "forwarded")
		p.prompt("call from " + o.peer + " forwarded to " + to + " (no-answer)")
		o.result = "forwarded:" + to
		p.endCallOf(o)
		p.showCall()
		return
	}
	c := p.call
	if c == nil || p.state != Ringing {
		return
	}
	to := p.target(p.d.Config.ForwardNoAnswer)
	if to == "" {
		return
	}
	if err := p.d.UA.Redirect(c.id, to, "no-answer"); err != nil {
		p.logf("phone: call %d: forward on no answer to %s: %v", c.id, to, err)
		return
	}
	p.d.Out.Ring(false, "")
	p.callState("forwarded")
	p.prompt("call from " + c.peer + " forwarded to " + to + " (no-answer)")
	c.result = "forwarded:" + to
	p.endCall()
	p.toIdleOrDialTone()
}

// setDND turns do not disturb on or off (the dnd key): calls get busy
// treatment (forward_busy, else 486) and the dnd lamp shows it.
func (p *Phone) setDND(on bool) {
	p.dnd = on
	p.d.Out.LED("dnd", onOff(on))
	if p.state == Idle {
		p.showIdle()
	}
}

// fwdKey: with digits dialled (on hook or at dial tone), every call is
// forwarded to them; without, forwarding of every call is turned off.
func (p *Phone) fwdKey() {
	switch {
	case p.state == Dialing && len(p.digits) > 0:
		p.interdigit.stop()
		p.fwdAlways = string(p.digits)
		p.digits = p.digits[:0]
		p.prompt("forward every call to " + p.fwdAlways)
		p.toIdleOrDialTone()
	case p.call == nil && p.fwdAlways != "":
		p.fwdAlways = ""
		p.prompt("forwarding off")
		if p.state == Idle {
			p.showIdle()
		}
	default:
		p.prompt("fwd: dial the number, then fwd")
	}
}

// idleText is the second display row when idle.
func (p *Phone) idleText() string {
	var s string
	switch {
	case p.fwdAlways != "":
		s = "Fwd to " + p.fwdAlways
	case p.dnd:
		s = "Do not disturb"
	}
	if p.missed > 0 {
		if s != "" {
			s += "  "
		}
		s += strconv.Itoa(p.missed) + " missed"
	}
	n := 0
	for _, m := range p.mwi {
		n += m.New
	}
	if n > 0 {
		if s != "" {
			s += "  "
		}
		s += strconv.Itoa(n) + " new voicemail"
	}
	if s == "" {
		s = p.d.Notice
	}
	return s
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }
