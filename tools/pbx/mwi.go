package pbx

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Message waiting indication (RFC 3842): NOTIFY with Event: message-summary
// to a mailbox owner's phones, in the dialog of their SUBSCRIBE when they
// sent one, unsolicited (as many PBXs do) to each registered binding
// otherwise. Sent when a message is left or marked old, and when a phone
// registers while its box holds messages.

const (
	timerT2    = 4 * time.Second // RFC 3261 T2
	subMax     = 3600            // longest subscription granted, s
	subDefault = 3600            // when SUBSCRIBE has no Expires
)

// uac is a non-INVITE request the PBX sent itself (NOTIFY, BYE),
// retransmitted until answered (RFC 3261 section 17.1.2.2, Timer E/F).
type uac struct {
	raw      []byte
	msg      *sipmsg.Message
	dst      *net.UDPAddr
	started  time.Time
	next     time.Time
	interval time.Duration
	done     func(code int) // a final response, or 408 after Timer F; may be nil
}

// subscription is a message-summary subscription (RFC 6665) the PBX
// accepted: it is the notifier.
type subscription struct {
	ext       string
	callID    string
	localTag  string // the PBX's tag (To of the SUBSCRIBE)
	remote    string // the subscriber's From value (with its tag)
	local     string // the PBX's side as From value
	target    string // the subscriber's Contact URI
	flow      *net.UDPAddr
	via       string // host:port the subscriber reaches the PBX by
	expires   time.Time
	seq       uint32
	account   string
	terminate bool
}

// mwiDialog is the Call-ID and CSeq of one extension's unsolicited NOTIFYs.
type mwiDialog struct {
	callID string
	tag    string
	seq    uint32
}

// sendUAC sends a request the PBX originates and keeps it for Timer E/F.
func (p *PBX) sendUAC(m *sipmsg.Message, dst *net.UDPAddr, done func(code int)) {
	top, err := sipmsg.ParseVia(m.Get("Via"))
	if err != nil {
		return
	}
	now := p.now()
	raw := p.send(m, dst)
	p.st.uacs[top.Branch()] = &uac{raw: raw, msg: m, dst: dst, started: now, next: now.Add(t1), interval: t1, done: done}
}

// tickUAC retransmits unanswered requests the PBX sent and gives up after
// Timer F (64*T1).
func (p *PBX) tickUAC(now time.Time) {
	for br, u := range p.st.uacs {
		if now.Sub(u.started) >= timerB {
			delete(p.st.uacs, br)
			p.cfg.Logf("pbx: %s to %s: no answer", startLine(u.msg), u.dst)
			if u.done != nil {
				u.done(408)
			}
			continue
		}
		if !now.Before(u.next) {
			u.interval = min(2*u.interval, timerT2)
			u.next = now.Add(u.interval)
			p.sendRaw(u.msg, u.raw, u.dst)
		}
	}
}

// uacResponse takes a response to a request the PBX sent itself; it
// reports whether it was one.
func (p *PBX) uacResponse(m *sipmsg.Message, branch string) bool {
	u := p.st.uacs[branch]
	if u == nil {
		return false
	}
	if m.StatusCode >= 200 {
		delete(p.st.uacs, branch)
		if u.done != nil {
			u.done(m.StatusCode)
		}
	} else {
		// Provisional: Timer E goes to T2 (RFC 3261 section 17.1.2.2).
		u.interval = timerT2
	}
	return true
}

// newBranch is a fresh branch for a request the PBX originates.
func (p *PBX) newBranch() string { return p.branchPrefix() + sipmsg.NewTag() }

// mwiBody is the RFC 3842 simple-message-summary body.
func (p *PBX) mwiBody(newMsgs, oldMsgs int) []byte {
	waiting := "no"
	if newMsgs > 0 {
		waiting = "yes"
	}
	return []byte("Messages-Waiting: " + waiting + "\r\n" +
		"Message-Account: " + p.messageAccount() + "\r\n" +
		"Voice-Message: " + itoa(newMsgs) + "/" + itoa(oldMsgs) + " (0/0)\r\n")
}

func (p *PBX) messageAccount() string {
	return "sip:" + p.cfg.VoicemailNumber + "@" + p.cfg.Realm
}

// notifyMWI tells ext's phones how many messages its box holds: in each
// subscription, else unsolicited to each live binding.
func (p *PBX) notifyMWI(ext string) {
	n, o := p.boxCounts(ext)
	sent := false
	for _, s := range p.st.subs {
		if s.ext == ext {
			p.notifySub(s, n, o)
			sent = true
		}
	}
	if sent {
		return
	}
	for _, b := range p.st.live(ext, p.now()) {
		p.notifyBinding(b, n, o)
	}
}

// notifyBinding sends an unsolicited NOTIFY to one binding's flow.
func (p *PBX) notifyBinding(b *binding, newMsgs, oldMsgs int) {
	d := p.st.mwi[b.ext]
	if d == nil {
		d = &mwiDialog{callID: sipmsg.NewCallID("mwi-" + p.token), tag: p.tagPrefix() + sipmsg.NewTag()}
		p.st.mwi[b.ext] = d
	}
	d.seq++
	m := sipmsg.NewRequest("NOTIFY", b.contact.String())
	m.Add("Via", "SIP/2.0/UDP "+b.local+";branch="+p.newBranch()+";rport")
	m.Add("Max-Forwards", "70")
	m.Add("From", "<sip:"+p.cfg.VoicemailNumber+"@"+b.local+">;tag="+d.tag)
	m.Add("To", "<sip:"+b.ext+"@"+b.local+">")
	m.Add("Call-ID", d.callID)
	m.Add("CSeq", strconv.FormatUint(uint64(d.seq), 10)+" NOTIFY")
	m.Add("Contact", "<sip:"+p.cfg.VoicemailNumber+"@"+b.local+">")
	m.Add("Event", "message-summary")
	m.Add("Subscription-State", "active;expires="+itoa(subMax))
	m.Add("Content-Type", "application/simple-message-summary")
	m.Body = p.mwiBody(newMsgs, oldMsgs)
	p.sendUAC(m, b.flow, nil)
}

// notifySub sends a NOTIFY in a subscription's dialog (RFC 6665 section
// 4.2.2).
func (p *PBX) notifySub(s *subscription, newMsgs, oldMsgs int) {
	s.seq++
	m := sipmsg.NewRequest("NOTIFY", s.target)
	m.Add("Via", "SIP/2.0/UDP "+s.via+";branch="+p.newBranch()+";rport")
	m.Add("Max-Forwards", "70")
	m.Add("From", s.local)
	m.Add("To", s.remote)
	m.Add("Call-ID", s.callID)
	m.Add("CSeq", strconv.FormatUint(uint64(s.seq), 10)+" NOTIFY")
	m.Add("Contact", "<sip:"+p.cfg.VoicemailNumber+"@"+s.via+">")
	m.Add("Event", "message-summary")
	left := int(s.expires.Sub(p.now()) / time.Second)
	if s.terminate || left <= 0 {
		m.Add("Subscription-State", "terminated;reason=timeout")
	} else {
		m.Add("Subscription-State", "active;expires="+itoa(left))
	}
	m.Add("Content-Type", "application/simple-message-summary")
	m.Body = p.mwiBody(newMsgs, oldMsgs)
	callID := s.callID
	p.sendUAC(m, s.flow, func(code int) {
		if code == 481 || code == 408 {
			delete(p.st.subs, callID) // the subscriber is gone
		}
	})
}

// subscribe accepts a SUBSCRIBE to message-summary, initial (owner: the
// authenticated caller) or a refresh in its dialog, answers 200 and sends
// the NOTIFY it calls for (RFC 6665 section 4.2.1).
func (p *PBX) subscribe(m *sipmsg.Message, src *net.UDPAddr, s *subscription) {
	exp := subDefault
	if v := strings.TrimSpace(m.Get("Expires")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.respond(m, src, 400, "Bad Expires", nil)
			return
		}
		exp = min(n, subMax)
	}
	if s == nil {
		owner := userOf(m.Get("From"))
		if u, err := sipmsg.ParseURI(m.RequestURI); err == nil {
			if _, ok := p.cfg.Users[u.User]; ok && u.User != owner {
				p.respond(m, src, 403, "Forbidden", nil)
				return
			}
		}
		c, err := sipmsg.ParseNameAddr(m.Get("Contact"))
		if err != nil || c.URI.Host == "" {
			p.respond(m, src, 400, "Bad Contact", nil)
			return
		}
		via := p.upstreamLocal(src, m.RequestURI)
		s = &subscription{
			ext: owner, callID: m.Get("Call-ID"), localTag: p.tagPrefix() + sipmsg.NewTag(),
			remote: m.Get("From"), target: c.URI.String(), via: via,
			flow: &net.UDPAddr{IP: append(net.IP(nil), src.IP...), Port: src.Port},
		}
		to, err := sipmsg.ParseNameAddr(m.Get("To"))
		if err != nil {
			p.respond(m, src, 400, "Bad To", nil)
			return
		}
		to.SetParam("tag", s.localTag)
		s.local = to.String()
		for k, o := range p.st.subs {
			if o.ext == s.ext && o.target == s.target && k != s.callID {
				delete(p.st.subs, k) // the phone subscribed afresh (it restarted)
			}
		}
		p.st.subs[s.callID] = s
		p.cfg.Logf("pbx: %s subscribed to message-summary for %ds", owner, exp)
	} else if c, err := sipmsg.ParseNameAddr(m.Get("Contact")); err == nil && c.URI.Host != "" {
		s.target = c.URI.String()
		s.flow = &net.UDPAddr{IP: append(net.IP(nil), src.IP...), Port: src.Port}
	}
	s.expires = p.now().Add(secs(exp))
	s.terminate = exp == 0
	p.respond(m, src, 200, "OK", func(r *sipmsg.Message) {
		r.Set("To", s.local)
		r.Add("Expires", itoa(exp))
		r.Add("Contact", "<sip:"+p.cfg.VoicemailNumber+"@"+s.via+">")
	})
	n, o := p.boxCounts(s.ext)
	p.notifySub(s, n, o)
	if s.terminate {
		delete(p.st.subs, s.callID)
	}
}

// sweepSubs ends subscriptions that were not refreshed.
func (p *PBX) sweepSubs(now time.Time) {
	for k, s := range p.st.subs {
		if !now.Before(s.expires) {
			delete(p.st.subs, k)
		}
	}
}

// isMWISubscribe reports whether m subscribes to message-summary.
func isMWISubscribe(m *sipmsg.Message) bool {
	return m.Method == "SUBSCRIBE" && eventPackage(m.Get("Event")) == "message-summary"
}

func eventPackage(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(strings.TrimSpace(v))
}
