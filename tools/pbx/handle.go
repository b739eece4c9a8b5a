package pbx

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

func itoa(n int) string { return strconv.Itoa(n) }

// allow is what the PBX answers OPTIONS and 405 with.
const allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, UPDATE, MESSAGE, NOTIFY, REFER, SUBSCRIBE"

// dialogCreating are the methods whose initial requests are record-routed.
var dialogCreating = map[string]bool{"INVITE": true, "SUBSCRIBE": true, "REFER": true}

// handle is the loop's entry for one datagram.
func (p *PBX) handle(data []byte, src *net.UDPAddr) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return // CRLF keep-alive (RFC 5626 section 4.4.1 style): nothing to do
	}
	m, err := sipmsg.Parse(data)
	if err != nil {
		p.record("in", src, nil, data)
		p.cfg.Logf("pbx: from %s: %v", src, err)
		return
	}
	p.record("in", src, m, data)
	if m.IsRequest() {
		p.request(m, src)
	} else {
		p.response(m, src)
	}
}

// rrUser is the user part of the PBX's Record-Route URIs: how it recognises
// its own Route whatever address a phone reached it by.
func (p *PBX) rrUser() string { return "pbx-" + p.token }

// tagPrefix starts every To tag the PBX puts on its own responses.
func (p *PBX) tagPrefix() string { return "pbx" + p.token }

// branchPrefix starts every branch of a Via the PBX adds.
func (p *PBX) branchPrefix() string { return sipmsg.MagicCookie + "pbx" + p.token + "." }

// branchFor derives the branch of a forwarded request from the incoming
// transaction (RFC 3261 section 16.6 item 8): a retransmission, the CANCEL and
// the ACK of a non-2xx response get the same branch as their INVITE.
func (p *PBX) branchFor(top sipmsg.Via, callID string) string {
	h := sha256.Sum256([]byte(top.Branch() + "|" + sentBy(top) + "|" + callID))
	return p.branchPrefix() + hex.EncodeToString(h[:8])
}

func sentBy(v sipmsg.Via) string {
	port := v.Port
	if port == 0 {
		port = 5060
	}
	return strings.ToLower(net.JoinHostPort(v.Host, itoa(port)))
}

// txKey names a server transaction (RFC 3261 section 17.2.3).
func txKey(top sipmsg.Via, seq uint32, method string) string {
	return top.Branch() + "|" + sentBy(top) + "|" + strconv.FormatUint(uint64(seq), 10) + "|" + method
}

// invKey names a forwarded INVITE by its incoming transaction, matching its
// CANCEL and non-2xx ACK too.
func invKey(top sipmsg.Via, callID string) string {
	return top.Branch() + "|" + sentBy(top) + "|" + callID
}

func (p *PBX) request(m *sipmsg.Message, src *net.UDPAddr) {
	vias := m.GetAll("Via")
	if len(vias) == 0 {
		p.cfg.Logf("pbx: %s from %s without Via dropped", m.Method, src)
		return
	}
	top, err := sipmsg.ParseVia(vias[0])
	if err != nil {
		p.cfg.Logf("pbx: %s from %s: %v", m.Method, src, err)
		return
	}
	// RFC 3261 section 18.2.1 and RFC 3581: where the request really came from.
	top.SetParam("received", src.IP.String())
	top.SetParam("rport", itoa(src.Port))
	m.RemoveFirst("Via")
	m.Prepend("Via", top.String())

	seq, method, err := m.CSeq()
	if err != nil || method != m.Method || m.Get("Call-ID") == "" || m.Get("From") == "" || m.Get("To") == "" {
		p.respond(m, src, 400, "Bad Request", nil)
		return
	}
	if m.Method != "ACK" {
		if c := p.st.cache[txKey(top, seq, m.Method)]; c != nil {
			p.sendRaw(c.msg, c.raw, src) // a retransmission: the same answer
			return
		}
	}
	if c := m.Get("Contact"); c != "" && m.Method != "REGISTER" {
		p.st.learn(c, src, p.now())
	}
	if p.ownDialog(m, src) {
		return
	}
	switch m.Method {
	case "ACK":
		p.ack(m, src, top)
	case "CANCEL":
		p.cancel(m, src, top, seq)
	case "REGISTER":
		// The PBX is the registrar of every extension it serves; a
		// preloaded Route (an outbound proxy setting) changes nothing.
		p.register(m, src)
	default:
		p.proxy(m, src, top)
	}
}

// respond answers req from the PBX itself; final responses are kept to
// answer retransmissions. ACK is never answered.
func (p *PBX) respond(req *sipmsg.Message, src *net.UDPAddr, code int, reason string, extra func(*sipmsg.Message)) {
	if req.Method == "ACK" {
		return
	}
	r := sipmsg.NewResponse(req, code, reason)
	if code > 100 {
		if to := r.Get("To"); to != "" {
			na, err := sipmsg.ParseNameAddr(to)
			if err == nil {
				if _, ok := na.Param("tag"); !ok {
					na.SetParam("tag", p.tagPrefix()+sipmsg.NewTag())
					r.Set("To", na.String())
				}
			}
		}
	}
	r.Add("Server", "deskphone-pbx")
	if extra != nil {
		extra(r)
	}
	now := p.now()
	raw := p.send(r, src)
	if code >= 200 {
		seq, _, err1 := req.CSeq()
		top, err2 := sipmsg.ParseVia(req.Get("Via"))
		if err1 == nil && err2 == nil {
			p.st.cache[txKey(top, seq, req.Method)] = &cached{raw: raw, msg: r, dst: src, at: now, code: code}
		}
	}
}

// register is the registrar (RFC 3261 section 10.3).
func (p *PBX) register(m *sipmsg.Message, src *net.UDPAddr) {
	to, err := sipmsg.ParseNameAddr(m.Get("To"))
	if err != nil {
		p.respond(m, src, 400, "Bad Request", nil)
		return
	}
	ext := to.URI.User
	if _, ok := p.cfg.Users[ext]; !ok {
		p.cfg.Logf("pbx: REGISTER for unknown extension %q from %s", ext, src)
		p.respond(m, src, 404, "Not Found", nil)
		return
	}
	if !p.authenticate(m, src, registrarAuth, ext) {
		return
	}
	seq, _, _ := m.CSeq()
	callID := m.Get("Call-ID")
	hdrExp := -1
	if v := strings.TrimSpace(m.Get("Expires")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.respond(m, src, 400, "Bad Expires", nil)
			return
		}
		hdrExp = n
	}
	now := p.now()
	contacts := m.GetAll("Contact")
	if len(contacts) == 1 && strings.TrimSpace(contacts[0]) == "*" {
		if hdrExp != 0 {
			p.respond(m, src, 400, "Wildcard Contact Needs Expires 0", nil)
			return
		}
		delete(p.st.bindings, ext)
		p.cfg.Logf("pbx: %s unregistered (all bindings)", ext)
		p.respond(m, src, 200, "OK", nil)
		return
	}
	type update struct {
		uri sipmsg.URI
		key string
		exp int
	}
	var ups []update
	for _, c := range contacts {
		na, err := sipmsg.ParseNameAddr(c)
		if err != nil || na.URI.Host == "" {
			p.respond(m, src, 400, "Bad Contact", nil)
			return
		}
		exp := hdrExp
		if v, ok := na.Param("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				p.respond(m, src, 400, "Bad Expires", nil)
				return
			}
			exp = n
		}
		if exp < 0 {
			exp = DefaultExpires
		}
		if exp > 0 && exp < MinExpires {
			p.respond(m, src, 423, "Interval Too Brief", func(r *sipmsg.Message) {
				r.Add("Min-Expires", itoa(MinExpires))
			})
			return
		}
		if exp > MaxExpires {
			exp = MaxExpires
		}
		ups = append(ups, update{na.URI, bindingKey(na.URI), exp})
	}
	for _, u := range ups {
		if b := p.st.find(ext, u.key); b != nil && b.callID == callID && seq <= b.cseq {
			// RFC 3261 section 10.3 step 7: out of order.
			p.respond(m, src, 500, "Out Of Order Registration", nil)
			return
		}
	}
	local := p.localFromURI(m.RequestURI)
	flow := &net.UDPAddr{IP: append(net.IP(nil), src.IP...), Port: src.Port, Zone: src.Zone}
	for _, u := range ups {
		if u.exp == 0 {
			p.st.remove(ext, u.key)
			p.cfg.Logf("pbx: %s unregistered %s", ext, u.uri)
			continue
		}
		p.st.put(&binding{
			ext: ext, contact: u.uri, key: u.key, flow: flow, local: local,
			expires: now.Add(secs(u.exp)), callID: callID, cseq: seq, updated: now,
		})
		p.cfg.Logf("pbx: %s registered %s via %s for %ds", ext, u.uri, flow, u.exp)
	}
	live := p.st.live(ext, now)
	p.respond(m, src, 200, "OK", func(r *sipmsg.Message) {
		for _, b := range live {
			left := int((b.expires.Sub(now) + secs(1) - 1) / secs(1))
			r.Add("Contact", "<"+b.contact.String()+">;expires="+itoa(left))
		}
	})
	if len(live) > 0 {
		p.st.notify(ext)
	}
	for _, u := range ups {
		if u.exp > 0 {
			// A phone (re)registered: tell it about its box when it holds
			// messages (an empty box needs no lamp).
			if n, o := p.boxCounts(ext); n+o > 0 {
				p.notifyMWI(ext)
			}
			break
		}
	}
}

func bindingKey(u sipmsg.URI) string {
	return strings.ToLower(u.User + "@" + hostPort(u))
}

// localFromURI is the address a phone reached the PBX by: the host:port of
// its REGISTER's Request-URI when that is an IP address, else the listening
// address.
func (p *PBX) localFromURI(s string) string {
	u, err := sipmsg.ParseURI(s)
	if err == nil && net.ParseIP(u.Host) != nil && !net.ParseIP(u.Host).IsUnspecified() {
		return hostPort(u)
	}
	return p.addr.String()
}

// upstreamLocal is the address the sender of a request reaches the PBX by:
// its binding's, else the Request-URI's host:port when that is an IP
// address naming the PBX (sip:1002@10.0.2.2:5060 from inside QEMU), else
// the listening address.
func (p *PBX) upstreamLocal(src *net.UDPAddr, ruri string) string {
	if b := p.st.byFlow(src, p.now()); b != nil {
		return b.local
	}
	if u, err := sipmsg.ParseURI(ruri); err == nil && p.isOwn(u) {
		return p.localFromURI(ruri)
	}
	return p.addr.String()
}

// isOwn reports whether u names the PBX: its Record-Route user, its
// listening address, or an address a registered phone reaches it by.
func (p *PBX) isOwn(u sipmsg.URI) bool {
	if u.User == p.rrUser() {
		return true
	}
	hp := strings.ToLower(hostPort(u))
	if hp == p.addr.String() || hp == net.JoinHostPort(qemuHost, itoa(p.addr.Port)) {
		return true
	}
	for _, bs := range p.st.bindings {
		for _, b := range bs {
			if b.local == hp {
				return true
			}
		}
	}
	return false
}

// qemuHost is how a guest on QEMU's user network reaches the host: a
// phone in QEMU knows the PBX as qemuHost:port from its configuration
// before it has registered (e.g. in a preloaded Route).
const qemuHost = "10.0.2.2"

func (p *PBX) isOwnNameAddr(v string) bool {
	na, err := sipmsg.ParseNameAddr(v)
	return err == nil && p.isOwn(na.URI)
}

// popOwnRoutes removes the Route entries naming the PBX from the top (RFC
// 3261 section 16.4; two of them after a double Record-Route).
func (p *PBX) popOwnRoutes(m *sipmsg.Message) bool {
	popped := false
	for {
		r := m.Get("Route")
		if r == "" || !p.isOwnNameAddr(r) {
			return popped
		}
		m.RemoveFirst("Route")
		popped = true
	}
}

// decMaxForwards applies RFC 3261 section 16.3 item 2 and 16.6 item 3.
func decMaxForwards(m *sipmsg.Message) bool {
	v := strings.TrimSpace(m.Get("Max-Forwards"))
	if v == "" {
		m.Set("Max-Forwards", "70")
		return true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return false
	}
	m.Set("Max-Forwards", itoa(n-1))
	return true
}

// proxy routes a request that is not for the registrar (RFC 3261 section 16).
func (p *PBX) proxy(m *sipmsg.Message, src *net.UDPAddr, top sipmsg.Via) {
	callID := m.Get("Call-ID")
	if m.Method == "INVITE" {
		if f := p.st.invites[invKey(top, callID)]; f != nil {
			// A retransmission of an INVITE already forwarded: repeat the
			// last answer upstream, never forward it twice.
			if f.last != nil {
				p.send(f.last, src)
			} else {
				p.send(sipmsg.NewResponse(m, 100, "Trying"), src)
			}
			return
		}
	}
	toNA, _ := sipmsg.ParseNameAddr(m.Get("To"))
	toTag, inDialog := toNA.Param("tag")
	if strings.HasPrefix(toTag, p.tagPrefix()) {
		// A "dialog" with the PBX itself, which makes none (e.g. a BYE sent
		// after the PBX's own error response).
		p.respond(m, src, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	p.popOwnRoutes(m)
	if !decMaxForwards(m) {
		p.respond(m, src, 483, "Too Many Hops", nil)
		return
	}
	ruri, err := sipmsg.ParseURI(m.RequestURI)
	if err != nil || ruri.Host == "" {
		p.respond(m, src, 416, "Unsupported URI Scheme", nil)
		return
	}
	now := p.now()
	if !inDialog {
		// An initial request: for the PBX itself, or from an extension
		// that proves who it is (RFC 3261 section 22.3).
		if m.Method == "ACK" {
			p.cfg.Logf("pbx: stray ACK from %s dropped", src)
			return
		}
		if ruri.User == "" && m.Get("Route") == "" {
			if m.Method == "OPTIONS" {
				p.respond(m, src, 200, "OK", func(r *sipmsg.Message) { r.Add("Allow", allow) })
			} else {
				p.respond(m, src, 405, "Method Not Allowed", func(r *sipmsg.Message) { r.Add("Allow", allow) })
			}
			return
		}
		from := userOf(m.Get("From"))
		if _, ok := p.cfg.Users[from]; !ok {
			p.cfg.Logf("pbx: %s from unknown user %q at %s", m.Method, from, src)
			p.respond(m, src, 403, "Forbidden", nil)
			return
		}
		if !p.authenticate(m, src, proxyAuth, from) {
			return
		}
		if isMWISubscribe(m) && m.Get("Route") == "" && (ruri.User == p.cfg.VoicemailNumber || ruri.User == from) {
			p.subscribe(m, src, nil)
			return
		}
		if m.Method == "INVITE" && m.Get("Route") == "" {
			if box, owner, ok := p.vmTarget(m, ruri.User); ok {
				p.answerVoicemail(m, src, box, owner)
				return
			}
		}
	}
	if r := m.Get("Route"); r != "" {
		// Someone else is next on the route set.
		na, err := sipmsg.ParseNameAddr(r)
		if err != nil {
			p.respond(m, src, 400, "Bad Route", nil)
			return
		}
		p.forwardTo(m, src, top, na.URI, toNA.URI.User)
		return
	}
	if inDialog {
		// The Request-URI is the remote target (a phone's Contact).
		if b := p.st.byContact(ruri, toNA.URI.User, now); b != nil {
			p.forward(m, src, top, b.flow, b.local)
			return
		}
		if !p.isOwn(ruri) {
			p.forwardTo(m, src, top, ruri, toNA.URI.User)
			return
		}
		p.locate(m, src, top, ruri.User, false)
		return
	}
	p.locate(m, src, top, ruri.User, true)
}

// locate sends a request to ext's binding (the location service, RFC 3261
// section 16.5), record-routing initial dialog-creating requests.
func (p *PBX) locate(m *sipmsg.Message, src *net.UDPAddr, top sipmsg.Via, ext string, initial bool) {
	ruriIn := m.RequestURI
	if _, ok := p.cfg.Users[ext]; !ok {
		p.respond(m, src, 404, "Not Found", nil)
		return
	}
	bs := p.st.live(ext, p.now())
	if len(bs) == 0 {
		if initial && m.Method == "INVITE" && !p.cfg.NoVoicemailFallback && safeBox(ext) {
			p.cfg.Logf("pbx: %s is not registered: to its mailbox", ext)
			m.Prepend("Diversion", "<sip:"+ext+"@"+p.cfg.Realm+">;reason=unavailable")
			p.answerVoicemail(m, src, ext, false)
			return
		}
		p.respond(m, src, 480, "Temporarily Unavailable", nil)
		return
	}
	b := bs[0]
	m.RequestURI = b.contact.String()
	if initial && dialogCreating[m.Method] {
		// RFC 3261 section 16.6 item 4. When the two sides reach the PBX by
		// different addresses, each gets a Route it can use: the callee's
		// on top (its route set is in order), the caller's below (reversed).
		upstream := p.upstreamLocal(src, ruriIn)
		if upstream != b.local {
			m.Prepend("Record-Route", p.rrValue(upstream))
		}
		m.Prepend("Record-Route", p.rrValue(b.local))
	}
	p.forward(m, src, top, b.flow, b.local)
	if f := p.st.invites[invKey(top, m.Get("Call-ID"))]; f != nil && m.Method == "INVITE" {
		f.ext = ext
	}
}

func (p *PBX) rrValue(local string) string {
	return "<sip:" + p.rrUser() + "@" + local + ";lr>"
}

// forwardTo sends m to the host:port of u (the next Route or the
// Request-URI), or to the flow of a binding at that address.
func (p *PBX) forwardTo(m *sipmsg.Message, src *net.UDPAddr, top sipmsg.Via, u sipmsg.URI, hint string) {
	if b := p.st.byContact(u, hint, p.now()); b != nil {
		p.forward(m, src, top, b.flow, b.local)
		return
	}
	if l := p.st.contacts[bindingKey(u)]; l != nil {
		p.forward(m, src, top, l.flow, p.addr.String())
		return
	}
	dst, err := p.resolve(hostPort(u))
	if err != nil {
		p.cfg.Logf("pbx: %s: next hop %s: %v", m.Method, hostPort(u), err)
		p.respond(m, src, 404, "Not Found", nil)
		return
	}
	p.forward(m, src, top, dst, p.addr.String())
}

// forward sends a request on to dst with the PBX's Via on top (RFC 3261
// section 16.6 item 8). For an INVITE it first answers 100 Trying upstream
// and remembers the forwarded request.
func (p *PBX) forward(m *sipmsg.Message, src *net.UDPAddr, top sipmsg.Via, dst *net.UDPAddr, local string) {
	if dst.IP.Equal(p.addr.IP) && dst.Port == p.addr.Port {
		p.respond(m, src, 482, "Loop Detected", nil)
		return
	}
	callID := m.Get("Call-ID")
	var orig *sipmsg.Message
	salt, hops := callID, 0
	var prev []*forwarded
	if m.Method == "INVITE" {
		if old := p.st.invites[invKey(top, callID)]; old != nil {
			prev = append(old.prev[:len(old.prev):len(old.prev)], old)
			// A new branch after a redirection (redirect.go); upstream
			// had its 100 Trying.
			hops = old.hops + 1
			salt = callID + "|" + itoa(hops)
		} else {
			p.send(sipmsg.NewResponse(m, 100, "Trying"), src)
		}
		orig = m.Clone()
	}
	p.anchorRequest(m, src, dst, local)
	via := "SIP/2.0/UDP " + local + ";branch=" + p.branchFor(top, salt) + ";rport"
	m.Prepend("Via", via)
	now := p.now() // before sending: a fast peer may move a test's clock
	raw := p.send(m, dst)
	if m.Method == "INVITE" {
		p.st.invites[invKey(top, callID)] = &forwarded{
			at: now, dst: dst, ruri: m.RequestURI, via: via, routes: m.GetAll("Route"), upstream: src,
			req: orig, raw: raw, next: now.Add(t1), interval: t1, hops: hops, prev: prev,
		}
	}
}

// retransmit resends forwarded INVITEs no response has come for yet
// (Timer A), and gives up on them with 408 upstream after Timer B (RFC 3261
// section 17.1.1.2): the PBX answered 100 Trying, so upstream has stopped
// retransmitting and relies on it.
func (p *PBX) retransmit(now time.Time) {
	p.noAnswer(now)
	for _, f := range p.st.invites {
		if f.answered || f.final || f.raw == nil {
			continue
		}
		if now.Sub(f.at) >= timerB {
			f.final = true
			p.cfg.Logf("pbx: INVITE to %s timed out", f.dst)
			p.closeUnanswered(f.req.Get("Call-ID"))
			if !p.toMailbox(f, 408) {
				p.respond(f.req, f.upstream, 408, "Request Timeout", nil)
			}
			continue
		}
		if !now.Before(f.next) {
			f.interval *= 2
			f.next = now.Add(f.interval)
			m, _ := sipmsg.Parse(f.raw)
			p.sendRaw(m, f.raw, f.dst)
		}
	}
}

// ack handles ACK: absorbed when it acknowledges the PBX's own non-2xx
// response (RFC 3261 section 17.2.1), sent along its INVITE when it
// acknowledges a forwarded non-2xx response, routed in the dialog otherwise.
func (p *PBX) ack(m *sipmsg.Message, src *net.UDPAddr, top sipmsg.Via) {
	to, _ := sipmsg.ParseNameAddr(m.Get("To"))
	if tag, _ := to.Param("tag"); strings.HasPrefix(tag, p.tagPrefix()) {
		return
	}
	if f := p.st.invites[invKey(top, m.Get("Call-ID"))]; f != nil && f.last != nil && f.last.StatusCode >= 300 {
		if !decMaxForwards(m) {
			return
		}
		m.RequestURI = f.ruri
		m.Del("Route")
		for _, r := range f.routes {
			m.Add("Route", r)
		}
		m.Prepend("Via", f.via)
		p.send(m, f.dst)
		return
	}
	p.proxy(m, src, top)
}

// cancel answers CANCEL and cancels the forwarded INVITE along its branch
// (RFC 3261 section 16.10).
func (p *PBX) cancel(m *sipmsg.Message, src *net.UDPAddr, top sipmsg.Via, seq uint32) {
	f := p.st.invites[invKey(top, m.Get("Call-ID"))]
	if f == nil {
		p.respond(m, src, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	p.respond(m, src, 200, "OK", nil)
	f.cancelled = true
	p.closeUnanswered(m.Get("Call-ID"))
	if f.final {
		return
	}
	c := sipmsg.NewRequest("CANCEL", f.ruri)
	c.Add("Via", f.via)
	c.Add("Max-Forwards", "70")
	for _, r := range f.routes {
		c.Add("Route", r)
	}
	c.Add("From", m.Get("From"))
	c.Add("To", m.Get("To"))
	c.Add("Call-ID", m.Get("Call-ID"))
	c.Add("CSeq", strconv.FormatUint(uint64(seq), 10)+" CANCEL")
	p.send(c, f.dst)
}

// response sends a response back along the Via path (RFC 3261 section
// 16.7): the PBX's own Via popped, to the next Via's received/rport address.
func (p *PBX) response(m *sipmsg.Message, src *net.UDPAddr) {
	vias := m.GetAll("Via")
	if len(vias) == 0 {
		return
	}
	top, err := sipmsg.ParseVia(vias[0])
	if err != nil || !strings.HasPrefix(top.Branch(), p.branchPrefix()) {
		p.cfg.Logf("pbx: response %d from %s not for me dropped", m.StatusCode, src)
		return
	}
	m.RemoveFirst("Via")
	if c := m.Get("Contact"); c != "" {
		p.st.learn(c, src, p.now())
	}
	if len(vias) == 1 {
		// To a request the PBX made itself: NOTIFY and BYE are retried
		// until answered; a CANCEL's answer is absorbed.
		p.uacResponse(m, top.Branch())
		return
	}
	next, err := sipmsg.ParseVia(vias[1])
	if err != nil {
		p.cfg.Logf("pbx: response %d from %s: %v", m.StatusCode, src, err)
		return
	}
	_, method, _ := m.CSeq()
	if method == "INVITE" {
		f := p.st.invites[invKey(next, m.Get("Call-ID"))]
		if f != nil && !strings.Contains(f.via, "branch="+top.Branch()+";") {
			// A branch the PBX left after a redirection (a retransmitted
			// 302): acknowledge it again, never pass it on.
			for _, g := range f.prev {
				if strings.Contains(g.via, "branch="+top.Branch()+";") && m.StatusCode >= 300 {
					p.ackDownstream(g, m)
				}
			}
			return
		}
		if f != nil {
			f.answered = true
		}
		if m.StatusCode == 100 {
			return // the PBX sent its own 100 Trying (section 16.7 item 5)
		}
		if f != nil {
			if f.final && m.StatusCode >= 300 {
				if f.pbxACKs {
					p.ackDownstream(f, m) // a retransmission, or the 487 after the PBX's CANCEL
				}
				return // after a 408 or voicemail of its own: nothing more upstream
			}
			if m.StatusCode >= 300 && p.downstreamFailure(f, m) {
				return // forwarded elsewhere or answered by the mailbox
			}
			f.last = m
			if m.StatusCode >= 200 {
				f.final = true
			}
		}
	}
	dst, err := p.viaDest(next)
	if err != nil {
		p.cfg.Logf("pbx: response %d: %v", m.StatusCode, err)
		return
	}
	p.anchorResponse(m)
	p.send(m, dst)
}

// viaDest is where a response to a request with Via v goes (RFC 3261
// section 18.2.2, RFC 3581 section 4).
func (p *PBX) viaDest(v sipmsg.Via) (*net.UDPAddr, error) {
	host := v.Host
	if r, ok := v.Param("received"); ok && r != "" {
		host = r
	}
	port := v.Port
	if rp, ok := v.Param("rport"); ok {
		if n, err := strconv.Atoi(rp); err == nil && n > 0 && n < 65536 {
			port = n
		}
	}
	if port == 0 {
		port = 5060
	}
	return p.resolve(net.JoinHostPort(host, itoa(port)))
}
