package pbx

import (
	"fmt"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// inDialog builds a request inside the dialog the phone's INVITE set up:
// Request-URI the remote target, Route the route set.
func (ph *phone) inDialog(method string, seq uint32, ruri string, routes []string, from, to string) *sipmsg.Message {
	m := sipmsg.NewRequest(method, ruri)
	m.Add("Via", "SIP/2.0/UDP "+ph.sentBy()+";branch="+sipmsg.NewBranch()+";rport")
	m.Add("Max-Forwards", "70")
	for _, r := range routes {
		m.Add("Route", r)
	}
	m.Add("From", from)
	m.Add("To", to)
	m.Add("Call-ID", ph.callID)
	m.Add("CSeq", fmt.Sprintf("%d %s", seq, method))
	return m
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// TestCall runs a whole call between two phones that both believe they are
// 10.0.2.15:5061 (two QEMU guests): the PBX must route by flow.
func TestCall(t *testing.T) {
	p, _ := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "10.0.2.15", "10.0.2.2:5060") // behind NAT
	b := newPhone(t, p, "1002", "pw1002", "10.0.2.15", "")              // reaches the PBX at 127.0.0.1
	a.register(3600)
	b.register(3600)

	inv := a.request("INVITE", "sip:1002@10.0.2.2:5060", "1002")
	inv.Set("Content-Type", "application/sdp")
	inv.Body = []byte("v=0\r\n")
	a.send(inv)
	chal := a.expect(407, "INVITE")
	ack := a.inDialog("ACK", a.seq, inv.RequestURI, nil, inv.Get("From"), chal.Get("To"))
	ack.Set("Via", inv.Get("Via"))
	a.send(ack) // absorbed by the PBX
	inv2 := a.authorize(inv, chal)
	a.send(inv2)
	a.expect(100, "INVITE")

	got, from := b.recv()
	if got.Method != "INVITE" || from.String() != p.Addr().String() {
		t.Fatalf("1002 got %q from %s", startLine(got), from)
	}
	if got.RequestURI != "sip:1002@10.0.2.15:5061" {
		t.Errorf("R-URI = %q, want the binding's Contact", got.RequestURI)
	}
	if got.Get("Max-Forwards") != "69" {
		t.Errorf("Max-Forwards = %q", got.Get("Max-Forwards"))
	}
	if got.Get("Proxy-Authorization") != "" {
		t.Error("credentials forwarded")
	}
	vias := got.GetAll("Via")
	if len(vias) != 2 || !strings.HasPrefix(vias[0], "SIP/2.0/UDP "+p.Addr().String()+";branch=z9hG4bK") {
		t.Fatalf("Vias = %q", vias)
	}
	rr := got.GetAll("Record-Route")
	wantRR := []string{
		"<sip:" + p.rrUser() + "@" + p.Addr().String() + ";lr>", // callee-facing
		"<sip:" + p.rrUser() + "@10.0.2.2:5060;lr>",             // caller-facing
	}
	if strings.Join(rr, "|") != strings.Join(wantRR, "|") {
		t.Errorf("Record-Route = %q, want %q", rr, wantRR)
	}
	if string(got.Body) != "v=0\r\n" {
		t.Errorf("body = %q", got.Body)
	}

	btag := sipmsg.NewTag()
	b.send(b.answer(got, 100, "Trying", "")) // not forwarded
	b.send(b.answer(got, 180, "Ringing", btag))
	a.expect(180, "INVITE")
	ok := b.answer(got, 200, "OK", btag)
	b.send(ok)
	ok2 := a.expect(200, "INVITE")
	if v := ok2.GetAll("Via"); len(v) != 1 {
		t.Errorf("200 reached 1001 with Vias %q", v)
	}

	// The caller's route set is the Record-Route reversed; its first entry is
	// the 10.0.2.2 one, recognised by the token.
	routes := reverse(ok2.GetAll("Record-Route"))
	target := mustNA(t, ok2.Get("Contact")).URI.String()
	ack2 := a.inDialog("ACK", a.seq, target, routes, inv.Get("From"), ok2.Get("To"))
	a.send(ack2)
	gotAck := b.expect(0, "ACK")
	if gotAck.Get("Route") != "" || gotAck.RequestURI != "sip:1002@10.0.2.15:5061" {
		t.Errorf("ACK at 1002: R-URI %q Route %q", gotAck.RequestURI, gotAck.Get("Route"))
	}

	// 1002 hangs up: its route set is the Record-Route in order.
	bye := b.inDialog("BYE", 1, "sip:1001@10.0.2.15:5061", got.GetAll("Record-Route"), ok2.Get("To"), inv.Get("From"))
	b.callID = a.callID
	bye.Set("Call-ID", a.callID)
	b.send(bye)
	gotBye := a.expect(0, "BYE")
	if gotBye.RequestURI != "sip:1001@10.0.2.15:5061" {
		t.Errorf("BYE R-URI = %q", gotBye.RequestURI)
	}
	a.send(a.answer(gotBye, 200, "OK", ""))
	b.expect(200, "BYE")

	// The ladder tells the story, the 407's ACK absorbed and the downstream 100 dropped.
	names := map[string]string{"1001": "alice", "1002": "bob"}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(FormatLadder(p.Ladder(), names)), "\n") {
		_, rest, _ := strings.Cut(l, "  ")
		lines = append(lines, strings.Join(strings.Fields(rest), " "))
	}
	callLines := lines[8:] // after two registrations (4 messages each)
	want := []string{
		"alice -> PBX INVITE sip:1002@10.0.2.2:5060",
		"PBX -> alice 407 Proxy Authentication Required",
		"alice -> PBX ACK sip:1002@10.0.2.2:5060",
		"alice -> PBX INVITE sip:1002@10.0.2.2:5060",
		"PBX -> alice 100 Trying",
		"PBX -> bob INVITE sip:1002@10.0.2.15:5061",
		"bob -> PBX 100 Trying",
		"bob -> PBX 180 Ringing",
		"PBX -> alice 180 Ringing",
		"bob -> PBX 200 OK",
		"PBX -> alice 200 OK",
		"alice -> PBX ACK sip:1002@10.0.2.15:5061",
		"PBX -> bob ACK sip:1002@10.0.2.15:5061",
		"bob -> PBX BYE sip:1001@10.0.2.15:5061",
		"PBX -> alice BYE sip:1001@10.0.2.15:5061",
		"alice -> PBX 200 OK",
		"PBX -> bob 200 OK",
	}
	if strings.Join(callLines, "\n") != strings.Join(want, "\n") {
		t.Errorf("ladder:\n%s\nwant:\n%s", strings.Join(callLines, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range p.Ladder() {
		if e.Dir == "out" && e.Peer.String() != a.addr().String() && e.Peer.String() != b.addr().String() {
			t.Errorf("sent %q to %s, not to a flow", e.Summary, e.Peer)
		}
	}
}

func TestProxyErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		to    string
		mf    string
		from  string
		want  int
		noAut bool
	}{
		{"not registered", "1003", "70", "1001", 480, false},
		{"unknown extension", "4711", "70", "1001", 404, false},
		{"too many hops", "1002", "0", "1001", 483, true},
		{"unknown caller", "1002", "70", "4711", 403, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := startPBX(t, nil)
			b := newPhone(t, p, "1002", "pw1002", "", "")
			b.register(3600)
			a := newPhone(t, p, tc.from, "pw"+tc.from, "", "")
			inv := a.request("INVITE", "sip:"+tc.to+"@"+a.pbxHost, tc.to)
			inv.Set("Max-Forwards", tc.mf)
			a.send(inv)
			if tc.noAut {
				a.expect(tc.want, "INVITE")
				return
			}
			a.send(a.authorize(inv, a.expect(407, "INVITE")))
			a.expect(tc.want, "INVITE")
			if s := outs(p, b.addr(), 0); len(s) != 2 { // 401 and 200 only
				t.Errorf("1002 was sent %q", s)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	p, _ := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	inv := a.request("INVITE", "sip:1002@"+a.pbxHost, "1002")
	a.send(inv)
	inv2 := a.authorize(inv, a.expect(407, "INVITE"))
	a.send(inv2)
	a.expect(100, "INVITE")
	got := b.expect(0, "INVITE")

	// A retransmitted INVITE is not forwarded again; the PBX repeats itself.
	a.send(inv2)
	a.expect(100, "INVITE")

	b.send(b.answer(got, 180, "Ringing", "btag"))
	a.expect(180, "INVITE")

	cancel := inv2.Clone()
	cancel.Method = "CANCEL"
	cancel.Set("CSeq", fmt.Sprintf("%d CANCEL", a.seq))
	cancel.Del("Proxy-Authorization")
	cancel.Del("Contact")
	a.send(cancel)
	a.expect(200, "CANCEL")
	gotCancel := b.expect(0, "CANCEL")
	if gotCancel.Get("Via") != got.Get("Via") || gotCancel.RequestURI != got.RequestURI {
		t.Errorf("CANCEL Via %q R-URI %q, want the INVITE's %q %q", gotCancel.Get("Via"), gotCancel.RequestURI, got.Get("Via"), got.RequestURI)
	}
	if len(gotCancel.GetAll("Via")) != 1 {
		t.Errorf("CANCEL Vias %q", gotCancel.GetAll("Via"))
	}
	b.send(b.answer(gotCancel, 200, "OK", "btag")) // absorbed by the PBX
	b.send(b.answer(got, 487, "Request Terminated", "btag"))
	r := a.expect(487, "INVITE")
	ack := a.inDialog("ACK", a.seq, inv2.RequestURI, nil, inv.Get("From"), r.Get("To"))
	ack.Set("Via", inv2.Get("Via"))
	a.send(ack)
	gotAck := b.expect(0, "ACK")
	if gotAck.Get("Via") != got.Get("Via") {
		t.Errorf("ACK of 487 has Via %q, want the INVITE's %q", gotAck.Get("Via"), got.Get("Via"))
	}
	a.sync()
	if s := outs(p, a.addr(), 0); strings.Join(s, "|") != "407 Proxy Authentication Required|100 Trying|100 Trying|180 Ringing|200 OK|487 Request Terminated|200 OK" {
		t.Errorf("1001 was sent %q", s)
	}

	// A CANCEL for nothing: 481.
	stray := a.request("CANCEL", "sip:1002@"+a.pbxHost, "1002")
	a.send(stray)
	a.expect(481, "CANCEL")
}

func TestOptionsToPBX(t *testing.T) {
	p, _ := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "", "")
	a.send(a.request("OPTIONS", "sip:"+a.pbxHost, "1001"))
	if r := a.expect(200, "OPTIONS"); !strings.Contains(r.Get("Allow"), "INVITE") {
		t.Errorf("Allow = %q", r.Get("Allow"))
	}
}

func TestRequestInPBXDialog(t *testing.T) {
	p, _ := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "", "")
	inv := a.request("INVITE", "sip:4711@"+a.pbxHost, "4711")
	a.send(inv)
	r := a.expect(407, "INVITE")
	bye := a.inDialog("BYE", a.seq+1, inv.RequestURI, nil, inv.Get("From"), r.Get("To"))
	a.send(bye)
	a.expect(481, "BYE")
}

// A phone in QEMU, configured with outbound proxy 10.0.2.2:PORT, preloads a
// Route naming the PBX by that address before it has registered.
func TestPreloadedRoute(t *testing.T) {
	p, _ := startPBX(t, nil)
	pbxQ := "10.0.2.2:" + itoa(p.Addr().Port)
	route := "<sip:" + pbxQ + ";lr>"
	b := newPhone(t, p, "1002", "pw1002", "10.0.2.15", pbxQ)
	reg := b.request("REGISTER", "sip:"+pbxQ, "1002")
	reg.Set("Route", route)
	b.send(reg)
	b.send(b.authorize(reg, b.expect(401, "REGISTER")))
	b.expect(200, "REGISTER")
	if !p.Registered("1002") {
		t.Fatal("REGISTER with a preloaded Route did not register")
	}

	a := newPhone(t, p, "1001", "pw1001", "10.0.2.15", pbxQ) // not registered
	inv := a.request("INVITE", "sip:1002@"+pbxQ, "1002")
	inv.Set("Route", route)
	a.send(inv)
	chal := a.expect(407, "INVITE") // authentication is not skipped
	a.send(a.authorize(inv, chal))
	a.expect(100, "INVITE")
	got := b.expect(0, "INVITE")
	if got.Get("Route") != "" {
		t.Errorf("preloaded Route forwarded: %q", got.Get("Route"))
	}
	// Both reach the PBX as 10.0.2.2: one Record-Route, by that address.
	if rr := got.GetAll("Record-Route"); len(rr) != 1 || rr[0] != "<sip:"+p.rrUser()+"@"+pbxQ+";lr>" {
		t.Errorf("Record-Route = %q", rr)
	}
	for _, e := range p.Ladder() {
		if e.Dir == "out" && !e.Peer.IP.IsLoopback() {
			t.Errorf("sent %q to %s", e.Summary, e.Peer)
		}
	}
}

// A caller behind NAT that never registered: the callee's BYE goes to the
// flow its INVITE came from, not to its private Contact.
func TestUnregisteredCallerBehindNAT(t *testing.T) {
	p, _ := startPBX(t, nil)
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	a := newPhone(t, p, "1001", "pw1001", "10.0.2.15", "")
	inv := a.request("INVITE", "sip:1002@"+a.pbxHost, "1002")
	a.send(inv)
	a.send(a.authorize(inv, a.expect(407, "INVITE")))
	a.expect(100, "INVITE")
	got := b.expect(0, "INVITE")
	ok := b.answer(got, 200, "OK", "bt")
	b.send(ok)
	ok2 := a.expect(200, "INVITE")
	bye := b.inDialog("BYE", 1, "sip:1001@10.0.2.15:5061", got.GetAll("Record-Route"), ok2.Get("To"), inv.Get("From"))
	bye.Set("Call-ID", a.callID)
	b.send(bye)
	a.expect(0, "BYE")
}

// A foreign Route on an initial request does not skip authentication, and
// the request then goes to that next hop.
func TestForeignRouteAuthenticated(t *testing.T) {
	p, _ := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "", "")
	next := newPhone(t, p, "x", "", "", "")
	inv := a.request("MESSAGE", "sip:1002@"+a.pbxHost, "1002")
	inv.Set("Route", "<sip:"+next.addr().String()+";lr>")
	a.send(inv)
	a.send(a.authorize(inv, a.expect(407, "MESSAGE")))
	got := next.expect(0, "MESSAGE")
	if got.RequestURI != inv.RequestURI || got.Get("Route") == "" {
		t.Errorf("at the next hop: R-URI %q Route %q", got.RequestURI, got.Get("Route"))
	}
}
