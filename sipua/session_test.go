package sipua

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// connect sets up a confirmed call from a to b and returns both call IDs.
func connect(t *testing.T, a, b *UA, btr *traced) (CallID, CallID) {
	t.Helper()
	id, err := a.Dial(1, target(b, "1002"), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	in := expect(t, b, CallIncoming)
	if _, err := b.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, b, CallAnswered)
	expect(t, a, CallAnswered)
	btr.waitFor(t, "ACK")
	return id, in.Call
}

func TestHoldResume(t *testing.T) {
	a, atr := startUA(t, LineConfig{User: "1001"})
	b, btr := startUA(t, LineConfig{User: "1002"})
	id, bid := connect(t, a, b, btr)
	if err := a.Hold(id, true); err != nil {
		t.Fatal(err)
	}
	e := expect(t, b, CallHeld)
	if e.Call != bid || e.Remote.Direction != "sendonly" || e.Remote.Port != 10000 || e.Remote.Codecs[0] != "PCMU" || e.Remote.TelephoneEvent != 101 {
		t.Fatalf("held %+v %+v", e, e.Remote)
	}
	if err := a.Hold(id, false); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, b, CallResumed); e.Remote.Direction != "sendrecv" {
		t.Fatalf("resumed %+v", e.Remote)
	}
	// b holds a in turn.
	atr.waitFor(t, "200")
	if err := b.Hold(bid, true); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, a, CallHeld); e.Call != id || e.Remote.Port != 20000 {
		t.Fatalf("a held %+v", e)
	}
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	expect(t, a, CallEnded)
	expect(t, b, CallEnded)
	if err := a.Hold(id, true); err == nil {
		t.Fatal("hold of an ended call accepted")
	}
}

func TestTransfer(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001"})
	b, btr := startUA(t, LineConfig{User: "1002"})
	id, bid := connect(t, a, b, btr)
	if err := a.Transfer(id, "sip:1003@127.0.0.1:5999"); err != nil {
		t.Fatal(err)
	}
	e := expect(t, b, CallTransfer)
	if e.Call != bid || e.Target != "sip:1003@127.0.0.1:5999" {
		t.Fatalf("transfer %+v", e)
	}
	if e := expect(t, a, CallEnded); e.Code != 200 {
		t.Fatalf("transferor ended %+v", e)
	}
	if e := expect(t, b, CallEnded); e.Code != 200 {
		t.Fatalf("transferee ended %+v", e)
	}
}

const peerSDP = "v=0\r\no=- 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n"

// peerInvite is an INVITE from p to 1002 at ua, from user with tag: branch
// "" is a fresh RFC 3261 branch with rport; a body is sent as SDP. Callers
// add what their test needs and send it.
func peerInvite(p *peer, ua *UA, branch, user, tag string, body []byte) *sipmsg.Message {
	if branch == "" {
		branch = sipmsg.NewBranch() + ";rport"
	}
	inv := sipmsg.NewRequest("INVITE", target(ua, "1002"))
	inv.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+branch)
	inv.Add("From", "<sip:"+user+"@127.0.0.1>;tag="+tag)
	inv.Add("To", "<sip:1002@127.0.0.1>")
	inv.Add("Call-ID", sipmsg.NewCallID(""))
	inv.Add("CSeq", "1 INVITE")
	inv.Add("Contact", "<sip:"+user+"@"+p.addr()+">")
	if body != nil {
		inv.Add("Content-Type", "application/sdp")
		inv.Body = body
	}
	return inv
}

// peerCall has a raw peer call ua and answers; it returns the INVITE and
// the UA's 200 (for the dialog's tags).
func peerCall(t *testing.T, p *peer, ua *UA) (inv, ok *sipmsg.Message) {
	t.Helper()
	inv = peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallAnswered)
	for {
		r, _ := p.read()
		if r.StatusCode == 200 {
			ok = r
			break
		}
	}
	p.send(inDialog(inv, ok, "ACK", 1), ua.LocalAddr())
	return inv, ok
}

// inDialog builds a request of the peer (the caller) in the dialog.
func inDialog(inv, ok *sipmsg.Message, method string, seq int) *sipmsg.Message {
	m := sipmsg.NewRequest(method, inv.RequestURI)
	v, _ := sipmsg.ParseVia(inv.Get("Via"))
	v.SetParam("branch", sipmsg.NewBranch())
	m.Add("Via", v.String())
	m.Add("From", inv.Get("From"))
	m.Add("To", ok.Get("To"))
	m.Add("Call-ID", inv.Get("Call-ID"))
	m.Add("CSeq", fmt.Sprintf("%d %s", seq, method))
	m.Add("Contact", inv.Get("Contact"))
	return m
}

func TestGlare(t *testing.T) {
	ua, tr := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv, ok := peerCall(t, p, ua)
	tr.waitFor(t, "ACK")
	call := CallID(1)
	if err := ua.Hold(call, true); err != nil {
		t.Fatal(err)
	}
	reinv, from := p.read()
	if reinv.Method != "INVITE" || !strings.Contains(string(reinv.Body), "a=sendonly") {
		t.Fatalf("want a re-INVITE with sendonly, got %s %s", reinv.Method, reinv.Body)
	}
	// Our own re-INVITE crosses it: the UA must answer 491 (14.2).
	mine := inDialog(inv, ok, "INVITE", 2)
	mine.Add("Content-Type", "application/sdp")
	mine.Body = fmt.Appendf(nil, peerSDP, 2, "sendonly")
	p.send(mine, from)
	for {
		r, _ := p.read()
		if r.Method == "" && r.StatusCode == 491 {
			p.send(transactionAck(mine, r), from)
			break
		}
	}
	// And we answer its re-INVITE 491: it retries after 0-2 s (14.1, callee side).
	r491 := sipmsg.NewResponse(reinv, 491, "")
	p.send(r491, from)
	for {
		m, _ := p.read()
		if m.Method == "ACK" {
			continue
		}
		if m.Method != "INVITE" || !strings.Contains(string(m.Body), "a=sendonly") {
			t.Fatalf("want the retried re-INVITE, got %s %d", m.Method, m.StatusCode)
		}
		r := sipmsg.NewResponse(m, 200, "")
		r.Add("Contact", inv.Get("Contact"))
		r.Add("Content-Type", "application/sdp")
		r.Body = fmt.Appendf(nil, peerSDP, 3, "recvonly")
		p.send(r, from)
		break
	}
	for {
		m, _ := p.read()
		if m.Method == "ACK" {
			if cs := m.Get("CSeq"); !strings.HasSuffix(cs, " ACK") || strings.HasPrefix(cs, "1 ") {
				t.Fatalf("ACK CSeq %q", cs)
			}
			break
		}
	}
}

// transactionAck is the ACK of a non-2xx final (17.1.1.3) sent by the peer.
func transactionAck(inv, r *sipmsg.Message) *sipmsg.Message {
	ack := sipmsg.NewRequest("ACK", inv.RequestURI)
	ack.Add("Via", inv.Get("Via"))
	ack.Add("From", inv.Get("From"))
	ack.Add("To", r.Get("To"))
	ack.Add("Call-ID", inv.Get("Call-ID"))
	seq, _, _ := inv.CSeq()
	ack.Add("CSeq", fmt.Sprintf("%d ACK", seq))
	return ack
}

func TestReInviteFromPeer(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv, ok := peerCall(t, p, ua)
	for i, tc := range []struct {
		dir, want string
		kind      EventKind
	}{{"sendonly", "recvonly", CallHeld}, {"sendrecv", "sendrecv", CallResumed}, {"inactive", "inactive", CallHeld}} {
		re := inDialog(inv, ok, "INVITE", 2+i)
		re.Add("Content-Type", "application/sdp")
		re.Body = fmt.Appendf(nil, peerSDP, 2+i, tc.dir)
		p.send(re, ua.LocalAddr())
		var r *sipmsg.Message
		for r == nil || r.StatusCode < 200 {
			r, _ = p.read()
		}
		if r.StatusCode != 200 || !strings.Contains(string(r.Body), "a="+tc.want) {
			t.Fatalf("%s: %d %s", tc.dir, r.StatusCode, r.Body)
		}
		p.send(inDialog(inv, ok, "ACK", 2+i), ua.LocalAddr())
		if e := expect(t, ua, tc.kind); e.Remote.Direction != tc.dir {
			t.Fatalf("%s: %+v", tc.dir, e.Remote)
		}
	}
	// An offer it cannot serve: 488, the call goes on.
	re := inDialog(inv, ok, "INVITE", 9)
	re.Add("Content-Type", "application/sdp")
	re.Body = []byte("v=0\r\no=- 1 9 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n")
	p.send(re, ua.LocalAddr())
	for {
		r, _ := p.read()
		if r.StatusCode >= 200 {
			if r.StatusCode != 488 {
				t.Fatalf("unservable re-INVITE: %d", r.StatusCode)
			}
			break
		}
	}
	bye := inDialog(inv, ok, "BYE", 10)
	bye.Add("Reason", `Q.850;cause=16;text="Normal call clearing"`)
	p.send(bye, ua.LocalAddr())
	if e := expect(t, ua, CallEnded); e.Code != 200 || e.Reason != `Q.850;cause=16;text="Normal call clearing"` {
		t.Fatalf("ended %+v", e)
	}
}

func TestRequireUnsupported(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", nil)
	inv.Add("Require", "100rel, foo")
	p.send(inv, ua.LocalAddr())
	r, _ := p.read()
	if u := strings.Join(r.GetAll("Unsupported"), ","); r.StatusCode != 420 || strings.ReplaceAll(u, " ", "") != "foo" { // 100rel is supported (prack.go)
		t.Fatalf("got %d Unsupported %q", r.StatusCode, u)
	}
}

// TestRfc2543Branch: a request whose branch lacks the magic cookie is
// matched by Call-ID, CSeq and From (17.2.3): its retransmission is
// absorbed, not a second call.
func TestRfc2543Branch(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "old1", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	p.send(inv, ua.LocalAddr())
	r, _ := p.read()
	r2, _ := p.read()
	if r.StatusCode != 100 || r2.StatusCode != 100 {
		t.Fatalf("got %d, %d", r.StatusCode, r2.StatusCode)
	}
	_ = ua.Reject(in.Call, 603)
	if e := expect(t, ua, CallEnded); e.Code != 603 {
		t.Fatalf("ended %+v", e)
	}
}

// TestFollowRedirect: a 302 is followed to its Contact with Diversion.
func TestFollowRedirect(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001"})
	b, _ := startUA(t, LineConfig{User: "1002", Domain: "127.0.0.1"})
	c, _ := startUA(t, LineConfig{User: "1003"})
	id, err := a.Dial(1, target(b, "1002"), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	in := expect(t, b, CallIncoming)
	if err := b.Redirect(in.Call, target(c, "1003"), "user-busy"); err != nil {
		t.Fatal(err)
	}
	expect(t, b, CallEnded)
	in3 := expect(t, c, CallIncoming)
	if _, err := c.Answer(in3.Call, media(30000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, a, CallAnswered); e.Call != id || e.Remote.Port != 30000 {
		t.Fatalf("answered %+v", e)
	}
	_ = a.Hangup(id)
	expect(t, a, CallEnded)
}

// TestForked2xx: two forks answer; the first 200 confirms the call, the
// second is ACKed and BYEd (13.2.2.4).
func TestForked2xx(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1001"})
	p := newPeer(t)
	id, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	inv, from := p.read()
	answer := func(tag string) {
		r := sipmsg.NewResponse(inv, 200, "")
		to, _ := sipmsg.ParseNameAddr(r.Get("To"))
		to.SetParam("tag", tag)
		r.Set("To", to.String())
		r.Add("Contact", "<sip:1002@"+p.addr()+">")
		r.Add("Content-Type", "application/sdp")
		r.Body = fmt.Appendf(nil, peerSDP, 1, "sendrecv")
		p.send(r, from)
	}
	answer("fork1")
	answer("fork2")
	if e := expect(t, ua, CallAnswered); e.Call != id {
		t.Fatalf("answered %+v", e)
	}
	acks, byes := map[string]bool{}, 0
	for len(acks) < 2 || byes == 0 {
		m, _ := p.read()
		to, _ := sipmsg.ParseNameAddr(m.Get("To"))
		tag, _ := to.Param("tag")
		switch m.Method {
		case "ACK":
			acks[tag] = true
		case "BYE":
			if tag != "fork2" || !strings.Contains(m.Get("Reason"), "cause=200") {
				t.Fatalf("BYE to %s Reason %q", tag, m.Get("Reason"))
			}
			byes++
			p.send(sipmsg.NewResponse(m, 200, ""), from)
		}
	}
	_ = ua.Hangup(id)
	for {
		m, _ := p.read()
		if m.Method == "BYE" {
			if to, _ := sipmsg.ParseNameAddr(m.Get("To")); !strings.Contains(to.String(), "fork1") {
				t.Fatalf("hangup BYE to %s", to)
			}
			p.send(sipmsg.NewResponse(m, 200, ""), from)
			break
		}
	}
	expect(t, ua, CallEnded)
}

func TestTelephoneEventSDP(t *testing.T) {
	s, err := (Media{Host: "127.0.0.1", Port: 4000, Codecs: []string{"PCMA"}, TelephoneEvent: 96}).session(1, SRTPOff)
	if err != nil {
		t.Fatal(err)
	}
	b := string(s.Marshal())
	if !strings.Contains(b, "m=audio 4000 RTP/AVP 8 96\r\n") || !strings.Contains(b, "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n") {
		t.Fatalf("offer:\n%s", b)
	}
	offer, _ := sdp.Parse(fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	ans, err := sdp.Answer(offer, s)
	if err == nil {
		t.Fatalf("PCMA answered to a PCMU offer: %+v", ans)
	}
	s2, _ := (Media{Host: "127.0.0.1", Port: 4000, Codecs: []string{"PCMU"}}).session(1, SRTPOff)
	ans, err = sdp.Answer(offer, s2)
	if err != nil || len(ans.Media) != 1 || len(ans.Media[0].Codecs) != 2 || ans.Media[0].Codecs[1].PT != 101 {
		t.Fatalf("answer %+v %v", ans, err)
	}
	_ = net.IPv4len
}

// TestUnservableOffer: an INVITE offering only G.729 gets 488 with a
// Warning, and the phone does not ring.
func TestUnservableOffer(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"))
	p.send(inv, ua.LocalAddr())
	for {
		r, _ := p.read()
		if r.StatusCode < 200 {
			continue
		}
		if r.StatusCode != 488 || !strings.HasPrefix(r.Get("Warning"), "305 ") {
			t.Fatalf("got %d Warning %q", r.StatusCode, r.Get("Warning"))
		}
		break
	}
	select {
	case e := <-ua.Events():
		t.Fatalf("event %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestBadAnswer: a 2xx whose answer the phone cannot play is ACKed and
// BYEd with Reason 488 (RFC 3326); the call ends 488.
func TestBadAnswer(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1001"})
	p := newPeer(t)
	if _, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	inv, from := p.read()
	r := sipmsg.NewResponse(inv, 200, "")
	r.Set("To", inv.Get("To")+";tag=b1")
	r.Add("Contact", "<sip:1002@"+p.addr()+">")
	r.Add("Content-Type", "application/sdp")
	r.Body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n")
	p.send(r, from)
	for {
		m, _ := p.read()
		if m.Method == "BYE" {
			if m.Get("Reason") != `SIP;cause=488;text="Not Acceptable Here"` {
				t.Fatalf("BYE Reason %q", m.Get("Reason"))
			}
			p.send(sipmsg.NewResponse(m, 200, ""), from)
			break
		}
	}
	if e := expect(t, ua, CallEnded); e.Code != 488 {
		t.Fatalf("ended %+v", e)
	}
}

// TestEarlyDialogs: two forks ring (180 and 183 with SDP, each with its
// own To tag): two early dialogs, two CallProgress events; the second
// fork's 200 confirms the call.
func TestEarlyDialogs(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1001"})
	p := newPeer(t)
	id, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	inv, from := p.read()
	resp := func(code int, tag string, sdp bool) {
		r := sipmsg.NewResponse(inv, code, "")
		r.Set("To", inv.Get("To")+";tag="+tag)
		r.Add("Contact", "<sip:"+tag+"@"+p.addr()+">")
		if sdp {
			r.Add("Content-Type", "application/sdp")
			r.Body = fmt.Appendf(nil, peerSDP, 1, "sendrecv")
		}
		p.send(r, from)
	}
	resp(180, "f1", false)
	if e := expect(t, ua, CallProgress); e.Code != 180 || e.Remote != nil {
		t.Fatalf("progress %+v", e)
	}
	resp(183, "f2", true)
	if e := expect(t, ua, CallProgress); e.Code != 183 || e.Remote == nil || e.Remote.Port != 4000 {
		t.Fatalf("progress %+v", e)
	}
	var tags []string
	_ = ua.do(func() error {
		for tag, d := range ua.calls[id].early {
			if d.RemoteTarget.User != tag {
				t.Errorf("early dialog %s: target %v", tag, d.RemoteTarget)
			}
			tags = append(tags, tag)
		}
		return nil
	})
	if len(tags) != 2 {
		t.Fatalf("early dialogs %v", tags)
	}
	resp(200, "f2", true)
	if e := expect(t, ua, CallAnswered); e.Call != id {
		t.Fatalf("answered %+v", e)
	}
	for {
		m, _ := p.read()
		if m.Method == "ACK" {
			if m.RequestURI != "sip:f2@"+p.addr() {
				t.Fatalf("ACK to %s", m.RequestURI)
			}
			break
		}
	}
}
