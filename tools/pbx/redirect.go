package pbx

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Forwarding. A phone forwards a call by answering its INVITE with 302 and
// a Contact naming the target, with a Diversion header naming itself (RFC
// 5806); the PBX recurses on it (RFC 3261 sections 16.7 item 4 and 16.6)
// to the target extension or the voicemail box, keeping the Diversion.
// When the callee answers 486, 480 or 408, the PBX sends the call to the
// callee's mailbox instead (unless Config.NoVoicemailFallback); locate does
// the same for a callee that is not registered.

// maxRedirects bounds recursion on one call.
const maxRedirects = 5

// downstreamFailure handles a final non-2xx response to a forwarded INVITE
// before it goes upstream; it reports whether the PBX took the call on
// (recursed or answered as voicemail), in which case nothing goes upstream.
func (p *PBX) downstreamFailure(f *forwarded, m *sipmsg.Message) bool {
	if f.req == nil || f.upstream == nil || f.cancelled {
		return false
	}
	code := m.StatusCode
	switch {
	case code == 301 || code == 302:
		target, ok := p.redirectTarget(m)
		if !ok || f.hops >= maxRedirects {
			return false
		}
		p.ackDownstream(f, m)
		nr := f.req.Clone()
		divs := m.GetAll("Diversion")
		if len(divs) == 0 && f.ext != "" {
			divs = []string{"<sip:" + f.ext + "@" + p.cfg.Realm + ">;reason=unconditional"}
		}
		for i := len(divs) - 1; i >= 0; i-- {
			nr.Prepend("Diversion", divs[i])
		}
		p.cfg.Logf("pbx: %s redirected to %s (%s)", f.ext, target, strings.Join(divs, ", "))
		p.reroute(f, nr, target)
		return true
	case code == 486 || code == 480 || code == 408:
		if p.cfg.NoVoicemailFallback || f.ext == "" {
			return false
		}
		p.ackDownstream(f, m)
		p.cfg.Logf("pbx: %s answered %d: to its mailbox", f.ext, code)
		return p.toMailbox(f, code)
	}
	return false
}

// toMailbox answers a forwarded INVITE from the callee's mailbox, with a
// Diversion header naming the callee and why (code: what happened on the
// branch); false when fallback is off or there is no callee box.
func (p *PBX) toMailbox(f *forwarded, code int) bool {
	if p.cfg.NoVoicemailFallback || !safeBox(f.ext) || f.req == nil || f.upstream == nil {
		return false
	}
	p.closeUnanswered(f.req.Get("Call-ID")) // the mailbox takes the caller's own SDP
	nr := f.req.Clone()
	nr.Prepend("Diversion", "<sip:"+f.ext+"@"+p.cfg.Realm+">;reason="+diversionReason(code))
	f.final = true
	if r := p.answerVoicemail(nr, f.upstream, f.ext, false); r != nil {
		f.last = r
	}
	return true
}

// noAnswer cancels branches that have rung for Config.NoAnswer and sends
// their calls to the callee's mailbox (RFC 3261 section 16.10 CANCEL; the
// PBX acknowledges the 487 itself).
func (p *PBX) noAnswer(now time.Time) {
	if p.cfg.NoAnswer <= 0 || p.cfg.NoVoicemailFallback {
		return
	}
	for _, f := range p.st.invites {
		if f.final || f.cancelled || f.ext == "" || f.req == nil || now.Sub(f.at) < p.cfg.NoAnswer {
			continue
		}
		p.cfg.Logf("pbx: %s did not answer in %s: to its mailbox", f.ext, p.cfg.NoAnswer)
		p.cancelBranch(f)
		p.toMailbox(f, 408)
	}
}

// cancelBranch sends CANCEL along a forwarded INVITE's branch.
func (p *PBX) cancelBranch(f *forwarded) {
	f.pbxACKs = true
	seq, _, _ := f.req.CSeq()
	c := sipmsg.NewRequest("CANCEL", f.ruri)
	c.Add("Via", f.via)
	c.Add("Max-Forwards", "70")
	for _, r := range f.routes {
		c.Add("Route", r)
	}
	c.Add("From", f.req.Get("From"))
	c.Add("To", f.req.Get("To"))
	c.Add("Call-ID", f.req.Get("Call-ID"))
	c.Add("CSeq", strconv.FormatUint(uint64(seq), 10)+" CANCEL")
	p.send(c, f.dst)
}

// redirectTarget is the user a 3xx's first Contact names, when it is one
// the PBX serves (an extension, the voicemail number or "8000*EXT") at the
// PBX or with no way to tell otherwise.
func (p *PBX) redirectTarget(m *sipmsg.Message) (string, bool) {
	cs := sipmsg.SplitList(m.Get("Contact"))
	if len(cs) == 0 {
		return "", false
	}
	na, err := sipmsg.ParseNameAddr(cs[0])
	if err != nil || na.URI.User == "" {
		return "", false
	}
	u := na.URI.User
	if p.cfg.Users[u] == "" && u != p.cfg.VoicemailNumber && !strings.HasPrefix(u, p.cfg.VoicemailNumber+"*") {
		return "", false // elsewhere: the caller may follow it itself
	}
	if net.ParseIP(na.URI.Host) != nil && !p.isOwn(na.URI) {
		return "", false
	}
	return u, true
}

// reroute sends the original request (nr, a copy of f.req) to user: the
// voicemail box, or the extension's binding on a new branch.
func (p *PBX) reroute(f *forwarded, nr *sipmsg.Message, user string) {
	var keep []string
	for _, rr := range nr.GetAll("Record-Route") {
		if !p.isOwnNameAddr(rr) {
			keep = append(keep, rr)
		}
	}
	nr.Del("Record-Route")
	for _, rr := range keep {
		nr.Add("Record-Route", rr)
	}
	local := p.upstreamLocal(f.upstream, nr.RequestURI)
	nr.RequestURI = "sip:" + user + "@" + local
	if box, owner, ok := p.vmTarget(nr, user); ok {
		f.final = true
		p.closeUnanswered(nr.Get("Call-ID")) // the mailbox takes the caller's own SDP
		if r := p.answerVoicemail(nr, f.upstream, box, owner); r != nil {
			f.last = r
		}
		return
	}
	top, err := sipmsg.ParseVia(nr.Get("Via"))
	if err != nil {
		return
	}
	f.final = true // this branch is over; locate makes the next
	p.locate(nr, f.upstream, top, user, true)
}

// ackDownstream acknowledges a non-2xx final response to a forwarded INVITE
// hop by hop, as the proxy's client transaction does (RFC 3261 section
// 17.1.1.3) when the response does not go upstream.
func (p *PBX) ackDownstream(f *forwarded, m *sipmsg.Message) {
	f.pbxACKs = true
	seq, _, _ := m.CSeq()
	a := sipmsg.NewRequest("ACK", f.ruri)
	a.Add("Via", f.via)
	a.Add("Max-Forwards", "70")
	for _, r := range f.routes {
		a.Add("Route", r)
	}
	a.Add("From", m.Get("From"))
	a.Add("To", m.Get("To"))
	a.Add("Call-ID", m.Get("Call-ID"))
	a.Add("CSeq", strconv.FormatUint(uint64(seq), 10)+" ACK")
	p.send(a, f.dst)
}
