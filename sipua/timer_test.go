package sipua

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

func TestParseSE(t *testing.T) {
	for _, tc := range []struct {
		in   string
		secs int
		ref  string
		ok   bool
	}{
		{"1800", 1800, "", true},
		{"90;refresher=uac", 90, "uac", true},
		{" 4000 ; refresher = UAS ;x=1", 4000, "uas", true},
		{"", 0, "", false},
		{"0", 0, "", false},
		{"abc;refresher=uac", 0, "", false},
	} {
		secs, ref, ok := parseSE(tc.in)
		if secs != tc.secs || ref != tc.ref || ok != tc.ok {
			t.Errorf("parseSE(%q) = %d %q %v", tc.in, secs, ref, ok)
		}
	}
	if n := parseMinSE(" 120;x=y"); n != 120 {
		t.Errorf("parseMinSE: %d", n)
	}
}

// TestUASTimer: RFC 4028 section 9's choices for the 2xx we send.
func TestUASTimer(t *testing.T) {
	for _, tc := range []struct {
		name         string
		se           int
		ref          string
		reqMin       int
		supports     bool
		ours, ourMin int
		interval     int
		who          refresher
		reject       bool
	}{
		{"off", 1800, "uac", 90, true, 0, 90, 0, refNone, false},
		{"as asked, uac refreshes", 1800, "", 90, true, 1800, 90, 1800, refPeer, false},
		{"uas asked for", 1800, "uas", 90, true, 1800, 90, 1800, refUs, false},
		{"uac asked for", 600, "uac", 90, true, 1800, 90, 600, refPeer, false},
		{"we reduce it", 3600, "", 90, true, 1800, 90, 1800, refPeer, false},
		{"not below its Min-SE", 3600, "", 2000, true, 1800, 90, 3600, refPeer, false},
		{"too small: 422", 60, "", 0, true, 1800, 90, 0, refNone, true},
		{"too small from a proxy: raised", 60, "uac", 0, false, 1800, 90, 90, refUs, false},
		{"none asked, UAC supports", 0, "", 0, true, 1800, 90, 1800, refPeer, false},
		{"none asked, no support: we refresh", 0, "", 0, false, 1800, 90, 1800, refUs, false},
		{"none asked, its Min-SE above ours", 0, "", 2400, true, 1800, 90, 2400, refPeer, false},
	} {
		iv, who, rej := uasTimer(tc.se, tc.ref, tc.reqMin, tc.supports, tc.ours, tc.ourMin)
		if iv != tc.interval || who != tc.who || rej != tc.reject {
			t.Errorf("%s: %d %v %v, want %d %v %v", tc.name, iv, who, rej, tc.interval, tc.who, tc.reject)
		}
	}
}

// TestUACTimer: RFC 4028 section 7.2, and the timers of section 10.
func TestUACTimer(t *testing.T) {
	for _, tc := range []struct {
		se       int
		ref      string
		interval int
		who      refresher
	}{
		{0, "", 0, refNone},
		{1800, "uac", 1800, refUs},
		{1800, "uas", 1800, refPeer},
		{1800, "", 1800, refUs},
		{30, "uas", 90, refPeer},
	} {
		if iv, who := uacTimer(tc.se, tc.ref, 90); iv != tc.interval || who != tc.who {
			t.Errorf("uacTimer(%d, %q) = %d %v", tc.se, tc.ref, iv, who)
		}
	}
	for _, tc := range []struct{ interval, refresh, expire time.Duration }{
		{1800 * time.Second, 900 * time.Second, 1768 * time.Second},
		{90 * time.Second, 45 * time.Second, 60 * time.Second},
		{3 * time.Second, 1500 * time.Millisecond, 2 * time.Second},
	} {
		if r, e := refreshAt(tc.interval), expireAt(tc.interval); r != tc.refresh || e != tc.expire {
			t.Errorf("%v: refresh %v expire %v", tc.interval, r, e)
		}
	}
	for r, s := range map[refresher]string{refNone: "none", refUs: "us", refPeer: "peer"} {
		if r.String() != s {
			t.Errorf("%d: %s", r, r)
		}
	}
}

// startTimerUA starts a UA with session timers of interval seconds and
// our Min-SE at minSE (below RFC 4028's 90 s, for tests only).
// trace, if not nil, sees every message (Config.Trace).
func startTimerUA(t *testing.T, interval, minSE int, trace func(TraceDir, string, *net.UDPAddr, []byte), lines ...LineConfig) *UA {
	t.Helper()
	ua, err := New(Config{Listen: "127.0.0.1:0", UserAgent: "deskphone-test", Lines: lines, Logf: t.Logf, Trace: trace, SessionExpires: 1800})
	if err != nil {
		t.Fatal(err)
	}
	ua.cfg.SessionExpires, ua.minSE = interval, minSE
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	return ua
}

// readReq returns the peer's next request with method (skipping others
// and retransmissions).
func readReq(t *testing.T, p *peer, method string) (*sipmsg.Message, *net.UDPAddr) {
	t.Helper()
	for {
		m, from := p.read()
		if m.Method == method {
			return m, from
		}
	}
}

// readFinal returns the next final response to a request with method.
func readFinal(t *testing.T, p *peer, method string) *sipmsg.Message {
	t.Helper()
	for {
		m, _ := p.read()
		if _, meth, _ := m.CSeq(); m.Method == "" && m.StatusCode >= 200 && meth == method {
			return m
		}
	}
}

// dialPeer has ua call the raw peer p, which answers 200 with SDP and
// the headers hdrs (name, value, ...); it returns the INVITE, the 200 and
// where the UA sends from.
func dialPeer(t *testing.T, ua *UA, p *peer, hdrs ...string) (inv, ok *sipmsg.Message, from *net.UDPAddr) {
	t.Helper()
	if _, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	inv, from = readReq(t, p, "INVITE")
	ok = okFor(inv, p, fmt.Appendf(nil, peerSDP, 1, "sendrecv"), hdrs...)
	p.send(ok, from)
	expect(t, ua, CallAnswered)
	readReq(t, p, "ACK")
	return inv, ok, from
}

// okFor is the peer's 200 to a request of the UA, with a To tag, a
// Contact, hdrs and body as SDP (nil: none).
func okFor(req *sipmsg.Message, p *peer, body []byte, hdrs ...string) *sipmsg.Message {
	r := sipmsg.NewResponse(req, 200, "")
	if r.ToTag() == "" {
		r.Set("To", req.Get("To")+";tag=b1")
	}
	r.Add("Contact", "<sip:1002@"+p.addr()+">")
	for i := 0; i+1 < len(hdrs); i += 2 {
		r.Add(hdrs[i], hdrs[i+1])
	}
	if body != nil {
		r.Add("Content-Type", "application/sdp")
		r.Body = body
	}
	return r
}

// calleeReq is a request of the peer, as the callee, in the dialog of
// the UA's INVITE inv and the peer's response resp (1xx or 2xx).
func calleeReq(inv, resp *sipmsg.Message, p *peer, method string, seq int) *sipmsg.Message {
	na, _ := sipmsg.ParseNameAddr(inv.Get("Contact"))
	m := sipmsg.NewRequest(method, na.URI.String())
	m.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+sipmsg.NewBranch()+";rport")
	m.Add("From", resp.Get("To"))
	m.Add("To", inv.Get("From"))
	m.Add("Call-ID", inv.Get("Call-ID"))
	m.Add("CSeq", fmt.Sprintf("%d %s", seq, method))
	m.Add("Contact", "<sip:1002@"+p.addr()+">")
	return m
}

// TestSessionRefreshByUpdate: the peer's 2xx makes us the refresher
// (refresher=uac) and allows UPDATE: we refresh by UPDATE without a body
// at half the interval, again after each 2xx, and a 481 to a refresh
// ends the call with a BYE (RFC 4028 section 10).
func TestSessionRefreshByUpdate(t *testing.T) {
	ua := startTimerUA(t, 2, 1, nil, LineConfig{User: "1001"})
	p := newPeer(t)
	inv, _, from := dialPeer(t, ua, p, "Session-Expires", "2;refresher=uac", "Require", "timer", "Allow", "INVITE, ACK, BYE, UPDATE")
	if !hasOption(inv, "Supported", "timer") || inv.Get("Session-Expires") != "2" || inv.Get("Min-SE") != "1" || !hasOption(inv, "Allow", "UPDATE") {
		t.Fatalf("INVITE: Supported %q Session-Expires %q Min-SE %q Allow %q", inv.Get("Supported"), inv.Get("Session-Expires"), inv.Get("Min-SE"), inv.Get("Allow"))
	}
	for i := 0; i < 2; i++ {
		u, _ := readReq(t, p, "UPDATE")
		if u.Get("Session-Expires") != "2;refresher=uac" || len(u.Body) != 0 || u.Get("Contact") == "" {
			t.Fatalf("refresh %d: Session-Expires %q, body %q", i, u.Get("Session-Expires"), u.Body)
		}
		p.send(okFor(u, p, nil, "Session-Expires", "2;refresher=uac", "Require", "timer"), from)
	}
	u, _ := readReq(t, p, "UPDATE")
	p.send(sipmsg.NewResponse(u, 481, ""), from)
	bye, _ := readReq(t, p, "BYE")
	if !strings.Contains(bye.Get("Reason"), "cause=481") {
		t.Fatalf("BYE Reason %q", bye.Get("Reason"))
	}
	p.send(sipmsg.NewResponse(bye, 200, ""), from)
	if e := expect(t, ua, CallEnded); e.Code != 481 {
		t.Fatalf("ended %+v", e)
	}
}

// TestSessionRefreshByReInvite: without UPDATE in the peer's Allow the
// refresh is a re-INVITE with our current description, its o= version
// unchanged (RFC 3264 section 8: nothing changed).
func TestSessionRefreshByReInvite(t *testing.T) {
	ua := startTimerUA(t, 2, 1, nil, LineConfig{User: "1001"})
	p := newPeer(t)
	inv, _, from := dialPeer(t, ua, p, "Session-Expires", "2;refresher=uac", "Require", "timer", "Allow", "INVITE, ACK, BYE")
	origin := func(m *sipmsg.Message) string {
		for _, l := range strings.Split(string(m.Body), "\n") {
			if strings.HasPrefix(l, "o=") {
				return strings.TrimSpace(l)
			}
		}
		return ""
	}
	re, _ := readReq(t, p, "INVITE")
	if re.Get("Session-Expires") != "2;refresher=uac" || !strings.Contains(string(re.Body), "m=audio 10000") || origin(re) != origin(inv) {
		t.Fatalf("refresh: Session-Expires %q, o= %q (INVITE's %q)\n%s", re.Get("Session-Expires"), origin(re), origin(inv), re.Body)
	}
	p.send(okFor(re, p, fmt.Appendf(nil, peerSDP, 1, "sendrecv"), "Session-Expires", "2;refresher=uac"), from)
	if ack, _ := readReq(t, p, "ACK"); !strings.HasPrefix(ack.Get("CSeq"), "2 ") {
		t.Fatalf("ACK CSeq %q", ack.Get("CSeq"))
	}
	if re2, _ := readReq(t, p, "INVITE"); !strings.HasPrefix(re2.Get("CSeq"), "3 ") {
		t.Fatalf("second refresh CSeq %q", re2.Get("CSeq"))
	}
}

// TestSessionExpires: the peer refreshes (refresher=uac in its INVITE);
// its UPDATE restarts our timer; with no refresh after it we end the
// call with a BYE at the interval minus a third (RFC 4028 section 10).
func TestSessionExpires(t *testing.T) {
	ua := startTimerUA(t, 3, 1, nil, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	inv.Add("Supported", "timer")
	inv.Add("Session-Expires", "3;refresher=uac")
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallAnswered)
	ok := readFinal(t, p, "INVITE")
	if ok.Get("Session-Expires") != "3;refresher=uac" || !hasOption(ok, "Require", "timer") || !hasOption(ok, "Supported", "timer") {
		t.Fatalf("200: Session-Expires %q Require %q Supported %q", ok.Get("Session-Expires"), ok.Get("Require"), ok.Get("Supported"))
	}
	p.send(inDialog(inv, ok, "ACK", 1), ua.LocalAddr())
	u := inDialog(inv, ok, "UPDATE", 2)
	u.Add("Supported", "timer")
	u.Add("Session-Expires", "3;refresher=uac")
	p.send(u, ua.LocalAddr())
	r := readFinal(t, p, "UPDATE")
	refreshed := time.Now()
	if r.StatusCode != 200 || r.Get("Session-Expires") != "3;refresher=uac" {
		t.Fatalf("UPDATE: %d Session-Expires %q", r.StatusCode, r.Get("Session-Expires"))
	}
	bye, from := readReq(t, p, "BYE")
	if waited := time.Since(refreshed); waited < 1900*time.Millisecond || !strings.Contains(bye.Get("Reason"), "Session expired") {
		t.Fatalf("BYE %v after the refresh, Reason %q", waited, bye.Get("Reason"))
	}
	p.send(sipmsg.NewResponse(bye, 200, ""), from)
	if e := expect(t, ua, CallEnded); e.Code != 408 {
		t.Fatalf("ended %+v", e)
	}
}

// TestSession422: a 422 is followed once with its Min-SE, same Call-ID,
// the next CSeq (RFC 4028 section 7.4); a 2xx without Session-Expires
// leaves the call without a session timer (7.2).
func TestSession422(t *testing.T) {
	ua := startTimerUA(t, 2, 1, nil, LineConfig{User: "1001"})
	p := newPeer(t)
	id, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	inv, from := readReq(t, p, "INVITE")
	r := sipmsg.NewResponse(inv, 422, "")
	r.Set("To", inv.Get("To")+";tag=b1")
	r.Add("Min-SE", "5")
	p.send(r, from)
	inv2, _ := readReq(t, p, "INVITE")
	if inv2.Get("Call-ID") != inv.Get("Call-ID") || inv2.Get("CSeq") != "2 INVITE" || inv2.Get("Session-Expires") != "5" || inv2.Get("Min-SE") != "5" {
		t.Fatalf("after 422: Call-ID %q CSeq %q Session-Expires %q Min-SE %q", inv2.Get("Call-ID"), inv2.Get("CSeq"), inv2.Get("Session-Expires"), inv2.Get("Min-SE"))
	}
	p.send(okFor(inv2, p, fmt.Appendf(nil, peerSDP, 1, "sendrecv")), from)
	expect(t, ua, CallAnswered)
	_ = ua.do(func() error {
		if c := ua.calls[id]; c.st.interval != 0 || c.st.armed() {
			t.Errorf("session timer %+v after a 2xx without Session-Expires", c.st)
		}
		return nil
	})
}

// TestSession422AsUAS: an INVITE asking for less than our Min-SE gets
// 422 with it (RFC 4028 section 9).
func TestSession422AsUAS(t *testing.T) {
	ua := startTimerUA(t, 5, 4, nil, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	inv.Add("Supported", "timer")
	inv.Add("Session-Expires", "2")
	p.send(inv, ua.LocalAddr())
	if r := readFinal(t, p, "INVITE"); r.StatusCode != 422 || r.Get("Min-SE") != "4" {
		t.Fatalf("%d Min-SE %q", r.StatusCode, r.Get("Min-SE"))
	}
}

// TestSessionTimersOff: SessionExpires 0 leaves timer out of Supported
// and Session-Expires out of the INVITE, and a Require: timer gets 420.
func TestSessionTimersOff(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1001"})
	p := newPeer(t)
	if _, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	inv, _ := readReq(t, p, "INVITE")
	if hasOption(inv, "Supported", "timer") || !hasOption(inv, "Supported", "replaces") || inv.Get("Session-Expires") != "" {
		t.Fatalf("Supported %q Session-Expires %q", inv.Get("Supported"), inv.Get("Session-Expires"))
	}
	b, _ := startUA(t, LineConfig{User: "1002"})
	req := peerInvite(p, b, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	req.Add("Require", "timer")
	p.send(req, b.LocalAddr())
	if r := readFinal(t, p, "INVITE"); r.StatusCode != 420 || r.Get("Unsupported") != "timer" {
		t.Fatalf("%d Unsupported %q", r.StatusCode, r.Get("Unsupported"))
	}
	if _, err := New(Config{Listen: "127.0.0.1:0", SessionExpires: 60}); err == nil {
		t.Fatal("SessionExpires 60 accepted")
	}
}
