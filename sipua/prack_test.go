package sipua

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

// Reliable provisional responses (RFC 3262) at the UA level: the phone as
// caller PRACKs (TestPrackCaller), as callee sends reliably and holds its
// 200 for the PRACK (TestPrackCallee, and with a CANCEL or a hang-up
// meanwhile), answers stray PRACKs 481 (TestPrackUnknown) and retransmits
// until PRACKed or 64*T1 (synctest: TestPrackRetransmit); two phones
// together (TestPrackUAToUA). The SIPp scenarios check the same on the
// wire against another implementation (prack_sipp_test.go).

// readUntil returns the next message p reads that skip does not skip.
func readUntil(p *peer, skip func(m *sipmsg.Message) bool) (*sipmsg.Message, *net.UDPAddr) {
	p.t.Helper()
	for {
		m, from := p.read()
		if skip == nil || !skip(m) {
			return m, from
		}
	}
}

// isResp reports whether m is a response code to method.
func isResp(m *sipmsg.Message, code int, method string) bool {
	_, meth, _ := m.CSeq()
	return m.StatusCode == code && meth == method
}

// peerReply is p's response to req: To tag, Contact, and mod's headers.
func peerReply(p *peer, req *sipmsg.Message, code int, tag string, mod func(r *sipmsg.Message)) *sipmsg.Message {
	r := sipmsg.NewResponse(req, code, "")
	if tag != "" && r.ToTag() == "" {
		r.Set("To", r.Get("To")+";tag="+tag)
	}
	if code > 100 && code < 300 {
		r.Add("Contact", "<sip:uas@"+p.addr()+">")
	}
	if mod != nil {
		mod(r)
	}
	return r
}

func reliable(rseq int, body []byte) func(r *sipmsg.Message) {
	return func(r *sipmsg.Message) {
		r.Add("Require", "100rel")
		r.Add("RSeq", strconv.Itoa(rseq))
		if body != nil {
			r.Add("Content-Type", "application/sdp")
			r.Body = body
		}
	}
}

// wantPrack checks a PRACK: in the early dialog of tag (To tag, the
// INVITE's From and Call-ID, Request-URI the 18x's Contact), CSeq and
// RAck as given.
func wantPrack(t *testing.T, m, inv *sipmsg.Message, tag, cseq, rack, ruri string) {
	t.Helper()
	if m.Method != "PRACK" || m.ToTag() != tag || m.Get("From") != inv.Get("From") ||
		m.Get("Call-ID") != inv.Get("Call-ID") || m.Get("CSeq") != cseq || m.Get("RAck") != rack || m.RequestURI != ruri {
		t.Fatalf("want PRACK To tag %s CSeq %q RAck %q to %s, got:\n%s", tag, cseq, rack, ruri, m.AppendTo(nil))
	}
}

// TestPrackCaller: the phone calls a raw UAS that sends reliable 18x. The
// INVITE says Supported: 100rel; the first 180 (RSeq 1) is PRACKed in its
// early dialog (RAck 1 1 INVITE, CSeq 2) and reported; its retransmission
// gets the same PRACK again (same branch and CSeq) and is not reported;
// a 401 to the PRACK is answered with credentials and the dialog's next
// CSeq; a 183 with RSeq 3 (out of order) is neither PRACKed nor reported;
// the 183 with RSeq 2 and SDP is PRACKed (CSeq 4) and reported with the
// early media; a second fork's reliable 180 is PRACKed in its own dialog;
// the 200 without SDP uses the 183's answer (RFC 3262 section 5); the BYE
// goes on after the PRACKs (CSeq 5).
func TestPrackCaller(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1001", Password: "secret"})
	p := newPeer(t)
	id, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	inv, from := p.read()
	if inv.Method != "INVITE" || !hasOption(inv, "Supported", "100rel") {
		t.Fatalf("INVITE without Supported: 100rel:\n%s", inv.AppendTo(nil))
	}
	contact := "sip:uas@" + p.addr()
	// What was read already comes again (UDP retransmissions): the INVITE
	// and the PRACKs seen (by dialog and CSeq).
	seen := map[string]bool{}
	old := func(m *sipmsg.Message) bool {
		k := m.ToTag() + " " + m.Get("CSeq")
		if m.Method == "INVITE" || (m.Method == "PRACK" && seen[k]) {
			return true
		}
		seen[k] = true
		return false
	}
	notInvite := func(m *sipmsg.Message) bool { return m.Method == "INVITE" }
	r180 := peerReply(p, inv, 180, "uas1", reliable(1, nil))
	p.send(r180, from)
	pr1, _ := readUntil(p, notInvite)
	wantPrack(t, pr1, inv, "uas1", "2 PRACK", "1 1 INVITE", contact)
	if e := expect(t, ua, CallProgress); e.Code != 180 || e.Call != id || e.Remote != nil {
		t.Fatalf("progress %+v", e)
	}

	p.send(r180, from) // retransmitted: the PRACK is not answered yet
	again, _ := readUntil(p, notInvite)
	if again.Get("Via") != pr1.Get("Via") || again.Get("CSeq") != "2 PRACK" {
		t.Fatalf("PRACK after the retransmitted 180 is not the same request:\n%s", again.AppendTo(nil))
	}
	p.send(peerReply(p, pr1, 401, "", func(r *sipmsg.Message) {
		r.Add("WWW-Authenticate", digest.Challenge{Realm: "test", Nonce: "n1", Qop: "auth"}.String())
	}), from)
	seen["uas1 2 PRACK"] = true
	pr1b, _ := readUntil(p, old)
	wantPrack(t, pr1b, inv, "uas1", "3 PRACK", "1 1 INVITE", contact)
	if pr1b.Get("Authorization") == "" {
		t.Fatalf("re-sent PRACK without credentials:\n%s", pr1b.AppendTo(nil))
	}
	p.send(peerReply(p, pr1b, 200, "", nil), from)

	sdpAnswer := fmt.Appendf(nil, peerSDP, 1, "sendrecv")
	p.send(peerReply(p, inv, 183, "uas1", reliable(3, sdpAnswer)), from) // RSeq 2 is missing: ignored
	p.send(peerReply(p, inv, 183, "uas1", reliable(2, sdpAnswer)), from)
	pr2, _ := readUntil(p, old)
	wantPrack(t, pr2, inv, "uas1", "4 PRACK", "2 1 INVITE", contact)
	e := expect(t, ua, CallProgress)
	if e.Code != 183 || e.Remote == nil || e.Remote.Port != 4000 || e.Remote.Codecs[0] != "PCMU" {
		t.Fatalf("183 progress %+v %+v", e, e.Remote)
	}
	p.send(peerReply(p, pr2, 200, "", nil), from)

	p.send(peerReply(p, inv, 180, "uas2", reliable(7, nil)), from) // another fork
	prf, _ := readUntil(p, old)
	wantPrack(t, prf, inv, "uas2", "2 PRACK", "7 1 INVITE", contact)
	if e := expect(t, ua, CallProgress); e.Code != 180 {
		t.Fatalf("fork progress %+v", e)
	}
	p.send(peerReply(p, prf, 200, "", nil), from)

	p.send(peerReply(p, inv, 200, "uas1", nil), from) // no SDP: the answer came in the 183
	e = expect(t, ua, CallAnswered)
	if e.Remote == nil || e.Remote.Port != 4000 || e.Remote.Codecs[0] != "PCMU" {
		t.Fatalf("answered %+v", e.Remote)
	}
	if ack, _ := readUntil(p, old); ack.Method != "ACK" || ack.Get("CSeq") != "1 ACK" {
		t.Fatalf("want ACK, got:\n%s", ack.AppendTo(nil))
	}
	if err := ua.Hangup(id); err != nil {
		t.Fatal(err)
	}
	bye, _ := readUntil(p, func(m *sipmsg.Message) bool { return old(m) || m.Method == "ACK" })
	if bye.Method != "BYE" || bye.Get("CSeq") != "5 BYE" {
		t.Fatalf("want BYE CSeq 5 (after the PRACKs), got:\n%s", bye.AppendTo(nil))
	}
	p.send(peerReply(p, bye, 200, "", nil), from)
	expect(t, ua, CallEnded)
}

// TestEarlyAnswerUnplayable: an 18x whose SDP the phone cannot play
// (SRTP, no common codec, the stream rejected) reports progress without
// early media, reliable or not; the 200 that relies on it is BYEd 488.
func TestEarlyAnswerUnplayable(t *testing.T) {
	for _, tc := range []struct {
		name, m  string
		reliable bool
	}{
		{"srtp", "m=audio 4000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n", true},
		{"g722 only", "m=audio 4000 RTP/AVP 9\r\n", true},
		{"rejected", "m=audio 0 RTP/AVP 0\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ua, _ := startUA(t, LineConfig{User: "1001"})
			p := newPeer(t)
			if _, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU", "PCMA")); err != nil {
				t.Fatal(err)
			}
			inv, from := p.read()
			body := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + tc.m)
			mod := func(r *sipmsg.Message) {
				r.Add("Content-Type", "application/sdp")
				r.Body = body
			}
			if tc.reliable {
				mod = reliable(1, body)
			}
			p.send(peerReply(p, inv, 183, "uas1", mod), from)
			if e := expect(t, ua, CallProgress); e.Code != 183 || e.Remote != nil {
				t.Fatalf("progress %+v with early media %+v", e, e.Remote)
			}
			if !tc.reliable {
				return
			}
			p.send(peerReply(p, inv, 200, "uas1", nil), from)
			bye, _ := readUntil(p, func(m *sipmsg.Message) bool { return m.Method != "BYE" })
			if !strings.Contains(bye.Get("Reason"), "cause=488") {
				t.Fatalf("BYE without Reason 488:\n%s", bye.AppendTo(nil))
			}
			p.send(peerReply(p, bye, 200, "", nil), from)
			if e := expect(t, ua, CallEnded); e.Code != 488 {
				t.Fatalf("ended %+v", e)
			}
		})
	}
}

// peerPrack is the PRACK p sends for the reliable provisional r to inv.
func peerPrack(p *peer, inv, r *sipmsg.Message, cseq int, rack string) *sipmsg.Message {
	m := sipmsg.NewRequest("PRACK", "sip:1002@127.0.0.1")
	m.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+sipmsg.NewBranch()+";rport")
	m.Add("From", inv.Get("From"))
	m.Add("To", r.Get("To"))
	m.Add("Call-ID", inv.Get("Call-ID"))
	m.Add("CSeq", fmt.Sprintf("%d PRACK", cseq))
	if rack == "" {
		rack = r.Get("RSeq") + " 1 INVITE"
	}
	m.Add("RAck", rack)
	return m
}

// TestPrackCallee: when the phone's 180 goes reliably (Require: 100rel,
// RSeq), as RFC 3262 section 3 and Config.Reliable100rel say, and that the
// 200 of an Answer given before the PRACK waits for it.
func TestPrackCallee(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      bool   // Config.Reliable100rel
		header   string // of the INVITE
		value    string
		reliable bool
	}{
		{"required", false, "Require", "100rel", true},
		{"required, configured", true, "Require", "100rel", true},
		{"supported, configured", true, "Supported", "replaces, 100REL", true},
		{"supported, not configured", false, "Supported", "100rel", false},
		{"neither", true, "Supported", "replaces", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ua, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1002"}}, Reliable100rel: tc.cfg})
			p := newPeer(t)
			inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
			inv.Add(tc.header, tc.value)
			p.send(inv, ua.LocalAddr())
			in := expect(t, ua, CallIncoming)
			if err := ua.Ring(in.Call); err != nil {
				t.Fatal(err)
			}
			is100 := func(m *sipmsg.Message) bool { return m.StatusCode == 100 }
			r180, _ := readUntil(p, is100)
			rseq, err := strconv.ParseUint(r180.Get("RSeq"), 10, 32)
			if !tc.reliable {
				if r180.StatusCode != 180 || r180.Get("Require") != "" || r180.Get("RSeq") != "" {
					t.Fatalf("want a plain 180, got:\n%s", r180.AppendTo(nil))
				}
				return
			}
			if r180.StatusCode != 180 || !hasOption(r180, "Require", "100rel") || err != nil || rseq < 1 || rseq > 1<<31-1 ||
				r180.ToTag() == "" || r180.Get("Contact") == "" {
				t.Fatalf("want a reliable 180, got:\n%s", r180.AppendTo(nil))
			}
			if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
				t.Fatal(err)
			}
			expect(t, ua, CallAnswered)
			p.send(peerPrack(p, inv, r180, 2, ""), ua.LocalAddr())
			isRetrans := func(m *sipmsg.Message) bool { return is100(m) || m.StatusCode == 180 }
			if r, _ := readUntil(p, isRetrans); !isResp(r, 200, "PRACK") {
				t.Fatalf("want the PRACK's 200 first (the INVITE's 200 waits for it), got:\n%s", r.AppendTo(nil))
			}
			ok, _ := readUntil(p, isRetrans)
			if !isResp(ok, 200, "INVITE") || ok.Get("RSeq") != "" {
				t.Fatalf("want the INVITE's 200, got:\n%s", ok.AppendTo(nil))
			}
			ack := peerPrack(p, inv, ok, 1, "")
			ack.Method, ack.RequestURI = "ACK", "sip:1002@127.0.0.1"
			ack.Set("CSeq", "1 ACK")
			ack.Del("RAck")
			p.send(ack, ua.LocalAddr())
			bye := peerPrack(p, inv, ok, 3, "")
			bye.Method = "BYE"
			bye.Set("CSeq", "3 BYE")
			bye.Del("RAck")
			p.send(bye, ua.LocalAddr())
			if e := expect(t, ua, CallEnded); e.Code != 200 {
				t.Fatalf("ended %+v", e)
			}
		})
	}
}

// TestPrackUnknown: PRACKs that acknowledge nothing waiting get 481 (RFC
// 3262 section 3): another RSeq, another CSeq number, one for an
// acknowledged 180, one in no dialog. The call is untouched.
func TestPrackUnknown(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	inv.Add("Require", "100rel")
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	if err := ua.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	r180, _ := readUntil(p, func(m *sipmsg.Message) bool { return m.StatusCode == 100 })
	rseq, _ := strconv.Atoi(r180.Get("RSeq"))
	skip := func(m *sipmsg.Message) bool { return m.StatusCode == 100 || m.StatusCode == 180 }
	stray := peerPrack(p, inv, r180, 2, "")
	stray.Set("To", "<sip:1002@127.0.0.1>;tag=nosuch")
	for i, pr := range []*sipmsg.Message{
		peerPrack(p, inv, r180, 2, fmt.Sprintf("%d 1 INVITE", rseq+1)),
		peerPrack(p, inv, r180, 3, fmt.Sprintf("%d 2 INVITE", rseq)),
		stray,
	} {
		p.send(pr, ua.LocalAddr())
		if r, _ := readUntil(p, skip); !isResp(r, 481, "PRACK") {
			t.Fatalf("PRACK %d: want 481, got:\n%s", i, r.AppendTo(nil))
		}
	}
	p.send(peerPrack(p, inv, r180, 4, ""), ua.LocalAddr())
	if r, _ := readUntil(p, skip); !isResp(r, 200, "PRACK") {
		t.Fatalf("PRACK: want 200, got:\n%s", r.AppendTo(nil))
	}
	p.send(peerPrack(p, inv, r180, 5, ""), ua.LocalAddr()) // acknowledged already
	if r, _ := readUntil(p, skip); !isResp(r, 481, "PRACK") {
		t.Fatalf("second PRACK: want 481, got:\n%s", r.AppendTo(nil))
	}
	if err := ua.Reject(in.Call, 486); err != nil {
		t.Fatal(err)
	}
	if r, _ := readUntil(p, skip); r.StatusCode != 486 {
		t.Fatalf("want 486, got:\n%s", r.AppendTo(nil))
	}
}

// callBubble is a UA without a socket in a synctest bubble, for calls
// whose messages all go through the transaction layer (the callee's
// responses): what it sends arrives on net.sent, with the fake clock's time.
func callBubble(t *testing.T, cfg Config) (*UA, *regNet) {
	t.Helper()
	cfg.Listen, cfg.Logf = "127.0.0.1:5060", t.Logf
	ua, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &regNet{sent: make(chan regSent, 64)}
	ua.local = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	ua.contactHost = "127.0.0.1"
	ua.tl = transaction.NewLayer(transaction.Config{Transport: n, Post: ua.post})
	runLoop(t, ua)
	return ua, n
}

// TestPrackRetransmit: a reliable 180 is retransmitted with the same RSeq
// at T1, 2*T1, 4*T1, ... (RFC 3262 section 3): without a PRACK the INVITE
// is refused 500 after 64*T1 and the call ends; a PRACK stops them.
func TestPrackRetransmit(t *testing.T) {
	for _, prackAfter := range []int{0, 3} { // 0: never
		t.Run(fmt.Sprint("prack after ", prackAfter), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ua, n := callBubble(t, Config{Lines: []LineConfig{{User: "1002"}}})
				peer := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5999}
				inv := sipmsg.NewRequest("INVITE", "sip:1002@127.0.0.1")
				inv.Add("Via", "SIP/2.0/UDP 127.0.0.1:5999;branch="+sipmsg.NewBranch())
				inv.Add("From", "<sip:1001@127.0.0.1>;tag=p1")
				inv.Add("To", "<sip:1002@127.0.0.1>")
				inv.Add("Call-ID", "bubble-call")
				inv.Add("CSeq", "1 INVITE")
				inv.Add("Contact", "<sip:1001@127.0.0.1:5999>")
				inv.Add("Require", "100rel")
				inv.Add("Content-Type", "application/sdp")
				inv.Body = fmt.Appendf(nil, peerSDP, 1, "sendrecv")
				raw := inv.AppendTo(nil)
				ua.post(func() { ua.receive(tUDP, raw, peer) })
				if s := <-n.sent; s.m.StatusCode != 100 {
					t.Fatalf("sent %d, want 100", s.m.StatusCode)
				}
				in := <-ua.events
				if err := ua.Ring(in.Call); err != nil {
					t.Fatal(err)
				}
				first := <-n.sent
				start, rseq := first.at, first.m.Get("RSeq")
				var at []time.Duration
				for i := 0; ; i++ {
					if prackAfter > 0 && i == prackAfter {
						pr := sipmsg.NewRequest("PRACK", "sip:1002@127.0.0.1")
						pr.Add("Via", "SIP/2.0/UDP 127.0.0.1:5999;branch="+sipmsg.NewBranch())
						pr.Add("From", inv.Get("From"))
						pr.Add("To", first.m.Get("To"))
						pr.Add("Call-ID", "bubble-call")
						pr.Add("CSeq", "2 PRACK")
						pr.Add("RAck", rseq+" 1 INVITE")
						raw := pr.AppendTo(nil)
						ua.post(func() { ua.receive(tUDP, raw, peer) })
						if s := <-n.sent; !isResp(s.m, 200, "PRACK") {
							t.Fatalf("sent %s, want 200 to the PRACK", s.m.AppendTo(nil))
						}
						select { // the fake clock runs past the retransmissions' times: nothing more is sent (the 180 refresh comes at a minute, ring.go)
						case s := <-n.sent:
							t.Fatalf("sent after the PRACK:\n%s", s.m.AppendTo(nil))
						case <-time.After(45 * time.Second):
						}
						break
					}
					s := <-n.sent
					if s.m.StatusCode == 500 {
						if d := s.at.Sub(start); d != 64*transaction.T1 {
							t.Fatalf("500 after %v, want 64*T1", d)
						}
						if e := <-ua.events; e.Kind != CallEnded || e.Code != 500 {
							t.Fatalf("event %+v", e)
						}
						break
					}
					if s.m.StatusCode != 180 || s.m.Get("RSeq") != rseq {
						t.Fatalf("sent %s, want the 180 with RSeq %s again", s.m.AppendTo(nil), rseq)
					}
					at = append(at, s.at.Sub(start))
				}
				want := []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 3500 * time.Millisecond,
					7500 * time.Millisecond, 15500 * time.Millisecond, 31500 * time.Millisecond}
				if prackAfter > 0 {
					want = want[:prackAfter]
				}
				if fmt.Sprint(at) != fmt.Sprint(want) {
					t.Fatalf("retransmitted at %v, want %v", at, want)
				}
			})
		})
	}
}

// TestSupportedOptions: one list says what the UA supports (Supported in
// INVITE and OPTIONS) and what it accepts in Require.
func TestSupportedOptions(t *testing.T) {
	for _, tc := range []struct {
		require string
		want    []string
	}{
		{"100rel", nil}, {"100REL, replaces", nil}, {"timer, 100rel", nil}, {"foo,bar", []string{"foo", "bar"}},
	} {
		m := sipmsg.NewRequest("INVITE", "sip:x")
		m.Add("Require", tc.require)
		if got := unsupported(m, supportedHeader); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("Require %q: unsupported %q, want %q", tc.require, got, tc.want)
		}
	}
}

// TestPrackUAToUA: two phones, the callee configured for 100rel: its 180
// goes reliably, the caller PRACKs it, the callee's 200 follows the PRACK,
// and the call runs as any other.
func TestPrackUAToUA(t *testing.T) {
	a, aw := startUACfg(t, Config{Lines: []LineConfig{{User: "1001"}}})
	b, bw := startUACfg(t, Config{Lines: []LineConfig{{User: "1002"}}, Reliable100rel: true})
	id, err := a.Dial(1, target(b, "1002"), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	in := expect(t, b, CallIncoming)
	if err := b.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, a, CallProgress); e.Code != 180 {
		t.Fatalf("progress %+v", e)
	}
	if _, err := b.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, b, CallAnswered)
	if e := expect(t, a, CallAnswered); e.Remote.Port != 20000 {
		t.Fatalf("answered %+v", e.Remote)
	}
	r180, pr := bw.find("send", "SIP/2.0 180"), bw.find("recv", "PRACK ")
	if r180 == nil || pr == nil || pr.Get("RAck") != r180.Get("RSeq")+" 1 INVITE" || aw.find("send", "PRACK ") == nil {
		t.Fatalf("180 %v PRACK %v", r180, pr)
	}
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, a, CallEnded); e.Code != 200 {
		t.Fatalf("ended %+v", e)
	}
	expect(t, b, CallEnded)
	if bye := aw.find("send", "BYE "); bye == nil || bye.Get("CSeq") != "3 BYE" {
		t.Fatalf("BYE %v, want CSeq 3 after the PRACK's 2", bye)
	}
}

// TestPrackCancelHeldOK: a CANCEL that comes while the callee's 200 waits
// for the PRACK finds the INVITE without a final response: 487 (RFC 3261
// 9.2), and the held 200 never goes.
func TestPrackCancelHeldOK(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	inv.Add("Require", "100rel")
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	if err := ua.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	skip := func(m *sipmsg.Message) bool { return m.StatusCode == 100 || m.StatusCode == 180 }
	if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallAnswered)
	cancel := transaction.CancelFor(inv)
	p.send(cancel, ua.LocalAddr())
	if r, _ := readUntil(p, skip); !isResp(r, 200, "CANCEL") {
		t.Fatalf("want 200 to the CANCEL, got:\n%s", r.AppendTo(nil))
	}
	if r, _ := readUntil(p, skip); r.StatusCode != 487 {
		t.Fatalf("want 487, got:\n%s", r.AppendTo(nil))
	}
	if e := expect(t, ua, CallEnded); e.Code != 487 {
		t.Fatalf("ended %+v", e)
	}
}

// TestPrackHangupHeldOK: the callee hangs up while its 200 waits for the
// PRACK: there is no dialog to BYE, so the INVITE gets 480 instead.
func TestPrackHangupHeldOK(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	inv.Add("Require", "100rel")
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	if err := ua.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallAnswered)
	if err := ua.Hangup(in.Call); err != nil {
		t.Fatal(err)
	}
	if r, _ := readUntil(p, func(m *sipmsg.Message) bool { return m.StatusCode < 200 }); r.StatusCode != 480 {
		t.Fatalf("want 480, got:\n%s", r.AppendTo(nil))
	}
	if e := expect(t, ua, CallEnded); e.Code != 480 {
		t.Fatalf("ended %+v", e)
	}
}
