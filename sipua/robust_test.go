package sipua

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/sipua/transaction"
)

// Robustness cases PBX engineers met: RFC 4475's 416 and 415 cases, 415
// for a Content-Encoding, OPTIONS capabilities, MESSAGE (RFC 3428), the
// ring timeout of an abandoned INVITE, CANCEL with a full transaction
// table, and ACKs that reuse the INVITE's branch. The same over SIPp,
// over UDP and TCP: sipp_robust_test.go.

// onWire records what a UA sends and receives, parsed.
type onWire struct {
	mu   sync.Mutex
	msgs []wireMsg
}

type wireMsg struct {
	dir string // "send", "recv"
	m   *sipmsg.Message
}

func (w *onWire) fn(td TraceDir, _ string, _ *net.UDPAddr, b []byte) {
	dir := td.String()
	m, err := sipmsg.Parse(b)
	if err != nil {
		return
	}
	w.mu.Lock()
	w.msgs = append(w.msgs, wireMsg{dir, m})
	w.mu.Unlock()
}

// all returns the messages in direction dir that match: a method, or a
// status code with its CSeq ("200 INVITE").
func (w *onWire) all(dir, what string) []*sipmsg.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*sipmsg.Message
	for _, x := range w.msgs {
		if x.dir != dir {
			continue
		}
		m := x.m
		if m.IsRequest() && m.Method == what {
			out = append(out, m)
			continue
		}
		if _, method, _ := m.CSeq(); !m.IsRequest() && what == itoa(m.StatusCode)+" "+method {
			out = append(out, m)
		}
	}
	return out
}

// robustUA starts a UA for line 1002 with cfg, the 180 refresh every
// refresh (0: the minute of RFC 3261 13.3.1.1).
func robustUA(t *testing.T, cfg Config, refresh time.Duration) (*UA, *onWire) {
	t.Helper()
	w := &onWire{}
	cfg.Listen, cfg.UserAgent, cfg.Trace, cfg.Logf = "127.0.0.1:0", "deskphone-test", w.fn, t.Logf
	if cfg.Lines == nil {
		cfg.Lines = []LineConfig{{User: "1002"}}
	}
	ua, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ua.ringRefresh = refresh
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	return ua, w
}

// finalTo reads from p until a final response, which it returns.
func finalTo(p *peer) *sipmsg.Message {
	for {
		r, _ := p.read()
		if !r.IsRequest() && r.StatusCode >= 200 {
			return r
		}
	}
}

// rawTCP is a TCP connection to ua for the tests that send bytes as they are.
func rawTCP(t *testing.T, ua *UA) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", ua.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReader(c)}
}

// TestTortureAnswers: RFC 4475's messages that name the answer, byte for
// byte, over the transport their Via names: unkscm (3.3.2) and novelsc
// (3.3.3) get 416, invut (3.3.6) gets 415 with Accept: application/sdp.
// invut's ACK gets no answer (the next thing the peer reads is the 200 of
// an OPTIONS sent after it), and nothing is reported.
func TestTortureAnswers(t *testing.T) {
	ua, _ := robustUA(t, Config{}, 0)
	for _, tc := range []struct {
		file   string
		code   int
		accept string
	}{
		{"unkscm", 416, ""},
		{"novelsc", 416, ""},
		{"invut", 415, "application/sdp"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile("sipmsg/testdata/rfc4475/" + tc.file + ".dat")
			if err != nil {
				t.Fatal(err)
			}
			m, err := sipmsg.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			var r *sipmsg.Message
			var p *peer
			if transaction.Reliable(m) {
				c := rawTCP(t, ua)
				if _, err := c.c.Write(b); err != nil {
					t.Fatal(err)
				}
				r = c.read()
			} else {
				p = newPeer(t)
				if _, err := p.conn.WriteToUDP(b, ua.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				r = finalTo(p)
			}
			if r.StatusCode != tc.code || r.Get("Call-ID") != m.Get("Call-ID") || r.Get("Accept") != tc.accept {
				t.Fatalf("got %d Accept %q, want %d Accept %q:\n%s", r.StatusCode, r.Get("Accept"), tc.code, tc.accept, r)
			}
			if r.ToTag() == "" {
				t.Fatalf("final response without a To tag: %s", r.Get("To"))
			}
			if p != nil && m.Method == "INVITE" {
				p.send(transactionAck(m, r), ua.LocalAddr())
				opt := sipmsg.NewRequest("OPTIONS", target(ua, "1002"))
				opt.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+sipmsg.NewBranch())
				opt.Add("From", "<sip:x@127.0.0.1>;tag=o1")
				opt.Add("To", "<sip:1002@127.0.0.1>")
				opt.Add("Call-ID", "after-ack")
				opt.Add("CSeq", "1 OPTIONS")
				p.send(opt, ua.LocalAddr())
				if r, _ := p.read(); r.Get("Call-ID") != "after-ack" || r.StatusCode != 200 {
					t.Fatalf("after the ACK the peer got %d for %s", r.StatusCode, r.Get("Call-ID"))
				}
			}
		})
	}
	noEvent(t, ua)
}

// TestBodyChecks: RFC 3261 8.2.3 for the bodies the UA reads: a
// Content-Encoding other than identity gets 415 with Accept-Encoding (and
// no Accept), a type the method does not take 415 with Accept, a body
// without a Content-Type 400; NOTIFY's types are left alone. Nothing is
// reported.
func TestBodyChecks(t *testing.T) {
	ua, _ := robustUA(t, Config{}, 0)
	p := newPeer(t)
	sdpBody := fmt.Appendf(nil, peerSDP, 1, "sendrecv")
	for _, tc := range []struct {
		name, method, ctype, enc string
		body                     []byte
		code                     int
		accept, acceptEnc        string
	}{
		{"gzip INVITE", "INVITE", "application/sdp", "gzip", sdpBody, 415, "", "identity"},
		{"identity INVITE", "INVITE", "application/sdp", "identity", []byte("v=0\r\n"), 488, "", ""},
		{"INVITE without Content-Type", "INVITE", "", "", sdpBody, 400, "", ""},
		{"INVITE in text", "INVITE", "text/plain", "", []byte("hi"), 415, "application/sdp", ""},
		{"INVITE in text and gzip", "INVITE", "text/plain", "gzip", []byte("hi"), 415, "application/sdp", "identity"},
		{"gzip MESSAGE", "MESSAGE", "text/plain", "gzip", []byte("hi"), 415, "", "identity"},
		{"MESSAGE without Content-Type", "MESSAGE", "", "", []byte("hi"), 400, "", ""},
		{"NOTIFY of any type", "NOTIFY", "text/plain", "", []byte("Messages-Waiting: no\r\n"), 200, "", ""},
		{"gzip NOTIFY", "NOTIFY", "application/simple-message-summary", "gzip", []byte("x"), 415, "", "identity"},
		{"OPTIONS with a body it does not read", "OPTIONS", "application/x-anything", "gzip", []byte("x"), 200, "application/sdp", "identity"}, // its capabilities (Get: the first of a list)
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sipmsg.NewRequest(tc.method, target(ua, "1002"))
			m.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+sipmsg.NewBranch()+";rport")
			m.Add("From", "<sip:1001@127.0.0.1>;tag=b1")
			m.Add("To", "<sip:1002@127.0.0.1>")
			m.Add("Call-ID", sipmsg.NewCallID(""))
			m.Add("CSeq", "1 "+tc.method)
			m.Add("Contact", "<sip:1001@"+p.addr()+">")
			if tc.method == "NOTIFY" {
				m.Add("Event", "message-summary")
			}
			if tc.ctype != "" {
				m.Add("Content-Type", tc.ctype)
			}
			if tc.enc != "" {
				m.Add("Content-Encoding", tc.enc)
			}
			m.Body = tc.body
			p.send(m, ua.LocalAddr())
			r := finalTo(p)
			if r.StatusCode != tc.code || r.Get("Accept") != tc.accept || r.Get("Accept-Encoding") != tc.acceptEnc {
				t.Fatalf("got %d Accept %q Accept-Encoding %q, want %d %q %q", r.StatusCode, r.Get("Accept"), r.Get("Accept-Encoding"), tc.code, tc.accept, tc.acceptEnc)
			}
			if tc.method == "INVITE" {
				p.send(transactionAck(m, r), ua.LocalAddr())
			}
		})
	}
	noEvent(t, ua)
}

// TestOptionsCapabilities: OPTIONS gets Allow (allowHeader, with
// MESSAGE), Accept (SDP, text/plain for MESSAGE, message summaries),
// Accept-Encoding and Supported (RFC 3261 11.2).
func TestOptionsCapabilities(t *testing.T) {
	ua, _ := robustUA(t, Config{}, 0)
	p := newPeer(t)
	m := sipmsg.NewRequest("OPTIONS", target(ua, "1002"))
	m.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+sipmsg.NewBranch())
	m.Add("From", "<sip:1001@127.0.0.1>;tag=b1")
	m.Add("To", "<sip:1002@127.0.0.1>")
	m.Add("Call-ID", sipmsg.NewCallID(""))
	m.Add("CSeq", "1 OPTIONS")
	p.send(m, ua.LocalAddr())
	r, _ := p.read()
	has := func(h string, want ...string) {
		t.Helper()
		got := strings.Join(r.GetAll(h), ",")
		for _, w := range want {
			if !hasTag(got, w) {
				t.Errorf("%s: %q lacks %s", h, got, w)
			}
		}
	}
	has("Allow", "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "NOTIFY", "REFER", "MESSAGE")
	has("Accept", "application/sdp", "text/plain")
	has("Accept-Encoding", "identity")
	has("Supported", "replaces")
	if r.StatusCode != 200 || r.ToTag() == "" {
		t.Fatalf("%d To %q", r.StatusCode, r.Get("To"))
	}
}

// peerMessage is a MESSAGE from p (user 1001, "Front desk") to 1002 at ua,
// outside any dialog.
func peerMessage(p *peer, ua *UA, ctype string, body []byte) *sipmsg.Message {
	m := sipmsg.NewRequest("MESSAGE", target(ua, "1002"))
	m.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+sipmsg.NewBranch()+";rport")
	m.Add("From", `"Front desk" <sip:1001@127.0.0.1>;tag=m1`)
	m.Add("To", "<sip:1002@127.0.0.1>")
	m.Add("Call-ID", sipmsg.NewCallID(""))
	m.Add("CSeq", "1 MESSAGE")
	if ctype != "" {
		m.Add("Content-Type", ctype)
	}
	m.Body = body
	return m
}

// TestMessageReceived: MESSAGE outside a dialog (RFC 3428): text/plain in
// UTF-8, US-ASCII or ISO-8859-1 gets 200 with a To tag and a
// MessageReceived on the line of the Request-URI, the text on one line
// and bounded; another charset or type gets 415 with Accept; a body over
// maxMessageBody 413; an empty one 200 and nothing reported.
func TestMessageReceived(t *testing.T) {
	ua, _ := robustUA(t, Config{Lines: []LineConfig{{User: "1001"}, {User: "1002"}}}, 0)
	p := newPeer(t)
	long := strings.Repeat("é", 300) // 600 bytes
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		code        int
		accept      string
		text        string // "" = no event
	}{
		{"plain", "text/plain", []byte("hello"), 200, "", "hello"},
		{"utf-8", "text/plain; charset=\"UTF-8\"", []byte("Grüße\r\nfrom reception\t!"), 200, "", "Grüße from reception !"},
		{"us-ascii", "text/plain;charset=us-ascii", []byte("lunch?"), 200, "", "lunch?"},
		{"latin-1", "text/plain;charset=ISO-8859-1", []byte("caf\xe9"), 200, "", "café"},
		{"invalid utf-8", "text/plain", []byte("a\xffb"), 200, "", "a\uFFFDb"},
		{"controls", "text/plain", []byte("\x1b[2Jbell\x07"), 200, "", "[2Jbell"},
		{"long", "text/plain", []byte(long), 200, "", strings.Repeat("é", (MaxMessageText-len("…"))/2) + "…"}, // cut at a character
		{"empty", "text/plain", nil, 200, "", ""},
		{"blank", "text/plain", []byte(" \r\n "), 200, "", ""},
		{"koi8-r", "text/plain;charset=koi8-r", []byte("x"), 415, "text/plain;charset=utf-8", ""},
		{"html", "text/html", []byte("<b>x</b>"), 415, "text/plain", ""},
		{"too large", "text/plain", []byte(strings.Repeat("x", maxMessageBody+1)), 413, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.send(peerMessage(p, ua, tc.ctype, tc.body), ua.LocalAddr())
			r, _ := p.read()
			if r.StatusCode != tc.code || r.Get("Accept") != tc.accept || r.ToTag() == "" {
				t.Fatalf("got %d Accept %q To %q, want %d Accept %q", r.StatusCode, r.Get("Accept"), r.Get("To"), tc.code, tc.accept)
			}
			if tc.text == "" {
				noEvent(t, ua)
				return
			}
			e := expect(t, ua, MessageReceived)
			if e.Text != tc.text || e.Peer != "Front desk" || e.Number != "1001" || e.Line != 2 || e.Call != 0 {
				t.Fatalf("event %+v, want text %q", e, tc.text)
			}
			if len(e.Text) > MaxMessageText {
				t.Fatalf("text of %d bytes", len(e.Text))
			}
		})
	}
}

// TestMessageInDialog: a MESSAGE in a call's dialog gets 200 and is
// reported with the call; one naming a dialog that does not exist gets
// 481 (RFC 3261 12.2.2). A MESSAGE between a re-INVITE's 200 and its ACK
// does not keep the ACK from being the re-INVITE's.
func TestMessageInDialog(t *testing.T) {
	ua, _ := robustUA(t, Config{}, 0)
	p := newPeer(t)
	inv, ok := peerCall(t, p, ua)
	var id CallID
	if err := ua.do(func() error {
		for cid := range ua.calls {
			id = cid
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	msg := inDialog(inv, ok, "MESSAGE", 2)
	msg.Add("Content-Type", "text/plain")
	msg.Body = []byte("in the call")
	p.send(msg, ua.LocalAddr())
	if r, _ := p.read(); r.StatusCode != 200 || r.Get("To") != ok.Get("To") {
		t.Fatalf("MESSAGE in the dialog: %d To %q", r.StatusCode, r.Get("To"))
	}
	if e := expect(t, ua, MessageReceived); e.Call != id || e.Text != "in the call" || e.Number != "1001" {
		t.Fatalf("event %+v", e)
	}

	// An offerless re-INVITE, a MESSAGE before its ACK, then the ACK with the answer.
	re := inDialog(inv, ok, "INVITE", 3)
	p.send(re, ua.LocalAddr())
	reOK := finalTo(p)
	if reOK.StatusCode != 200 {
		t.Fatalf("re-INVITE: %d", reOK.StatusCode)
	}
	msg = inDialog(inv, ok, "MESSAGE", 4)
	msg.Add("Content-Type", "text/plain")
	msg.Body = []byte("between")
	p.send(msg, ua.LocalAddr())
	if r, _ := p.read(); r.StatusCode != 200 {
		t.Fatalf("MESSAGE: %d", r.StatusCode)
	}
	expect(t, ua, MessageReceived)
	ack := inDialog(inv, ok, "ACK", 3)
	ack.Add("Content-Type", "application/sdp")
	ack.Body = []byte(strings.Replace(fmt.Sprintf(peerSDP, 3, "sendrecv"), "m=audio 4000", "m=audio 4100", 1))
	p.send(ack, ua.LocalAddr())
	if e := expect(t, ua, CallAnswered); e.Remote.Port != 4100 {
		t.Fatalf("answer in the ACK: %+v", e.Remote)
	}

	stray := inDialog(inv, ok, "MESSAGE", 5)
	stray.Set("To", "<sip:1002@127.0.0.1>;tag=nosuchdialog")
	stray.Add("Content-Type", "text/plain")
	stray.Body = []byte("lost")
	p.send(stray, ua.LocalAddr())
	if r, _ := p.read(); r.StatusCode != 481 {
		t.Fatalf("MESSAGE in no dialog: %d", r.StatusCode)
	}
	noEvent(t, ua)
}

// TestRingTimeout: an INVITE whose caller vanishes (no CANCEL) rings with
// its 180 sent again every refresh (RFC 3261 13.3.1.1) until the ring
// timeout, then gets 480 Temporarily Unavailable (CallEnded 480); the next
// INVITE rings normally and can be answered, and an answered call's
// timers are stopped.
func TestRingTimeout(t *testing.T) {
	ua, _ := robustUA(t, Config{RingTimeout: 500 * time.Millisecond}, 150*time.Millisecond)
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	if err := ua.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	rang := 0
	var r *sipmsg.Message
	for r == nil || r.StatusCode < 200 {
		r, _ = p.read()
		if r.StatusCode == 180 {
			rang++
		}
	}
	if r.StatusCode != 480 || rang < 2 {
		t.Fatalf("final %d after %d 180s; want 480 after the 180 and its refreshes", r.StatusCode, rang)
	}
	if e := expect(t, ua, CallEnded); e.Code != 480 || e.Call != in.Call {
		t.Fatalf("ended %+v", e)
	}
	p.send(transactionAck(inv, r), ua.LocalAddr())

	// The next call rings and is answered; its ring timers stop.
	inv2 := peerInvite(p, ua, "", "1001", "p2", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	p.send(inv2, ua.LocalAddr())
	in2 := expect(t, ua, CallIncoming)
	if err := ua.Ring(in2.Call); err != nil {
		t.Fatal(err)
	}
	if _, err := ua.Answer(in2.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallAnswered)
	ok := finalTo(p)
	if ok.StatusCode != 200 {
		t.Fatalf("second call: %d", ok.StatusCode)
	}
	p.send(inDialog(inv2, ok, "ACK", 1), ua.LocalAddr())
	if err := ua.do(func() error {
		c := ua.calls[in2.Call]
		if c == nil || c.stopRing != nil || c.stopRefresh != nil {
			return fmt.Errorf("answered call %+v keeps its ring timers", c)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestRingTimeoutDefault: Config.RingTimeout 0 is DefaultRingTimeout, a
// negative one never fires.
func TestRingTimeoutDefault(t *testing.T) {
	for _, tc := range []struct {
		cfg  time.Duration
		want bool // a ring timer is armed
	}{{0, true}, {-1, false}, {time.Second, true}} {
		ua, _ := robustUA(t, Config{RingTimeout: tc.cfg}, 0)
		p := newPeer(t)
		p.send(peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv")), ua.LocalAddr())
		in := expect(t, ua, CallIncoming)
		var armed bool
		_ = ua.do(func() error { armed = ua.calls[in.Call].stopRing != nil; return nil })
		if armed != tc.want {
			t.Errorf("RingTimeout %v: armed %v, want %v", tc.cfg, armed, tc.want)
		}
	}
}

// TestCancelWhenTableFull: with the transaction table full (a flood of
// OPTIONS against MaxTransactions), new requests get 503, but the CANCEL
// of the ringing call gets through: 200 for it, 487 for the INVITE,
// CallEnded 487.
func TestCancelWhenTableFull(t *testing.T) {
	ua, _ := robustUA(t, Config{MaxTransactions: 8}, 0)
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	if err := ua.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		opt := sipmsg.NewRequest("OPTIONS", target(ua, "1002"))
		opt.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+sipmsg.NewBranch())
		opt.Add("From", "<sip:flood@127.0.0.1>;tag=f")
		opt.Add("To", "<sip:1002@127.0.0.1>")
		opt.Add("Call-ID", fmt.Sprintf("flood-%d", i))
		opt.Add("CSeq", "1 OPTIONS")
		p.send(opt, ua.LocalAddr())
	}
	for {
		r, _ := p.read()
		if r.Get("Call-ID") == "flood-9" {
			if r.StatusCode != 503 || r.Get("Retry-After") == "" {
				t.Fatalf("the request beyond the cap: %d", r.StatusCode)
			}
			break
		}
	}
	cancel := transaction.CancelFor(inv)
	p.send(cancel, ua.LocalAddr())
	got := map[string]int{}
	for len(got) < 2 {
		r, _ := p.read()
		if _, method, _ := r.CSeq(); method == "CANCEL" || (method == "INVITE" && r.StatusCode >= 200) {
			got[method] = r.StatusCode
			if method == "INVITE" {
				p.send(transactionAck(inv, r), ua.LocalAddr())
			}
		}
	}
	if got["CANCEL"] != 200 || got["INVITE"] != 487 {
		t.Fatalf("CANCEL under a flood: %v", got)
	}
	if e := expect(t, ua, CallEnded); e.Code != 487 {
		t.Fatalf("ended %+v", e)
	}
}

// TestAckWithInviteBranch: ACKs that reuse the branch of the INVITE they
// acknowledge (the initial INVITE's, an offerless re-INVITE's) reach the
// call: the 200 retransmissions stop, and the answer in the re-INVITE's
// ACK is taken.
func TestAckWithInviteBranch(t *testing.T) {
	ua, _ := robustUA(t, Config{}, 0)
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallAnswered)
	ok := finalTo(p)
	sameBranch := func(req *sipmsg.Message, seq int) *sipmsg.Message {
		ack := inDialog(inv, ok, "ACK", seq)
		ack.Set("Via", req.Get("Via"))
		return ack
	}
	settled := func(what string, cond func(c *call) bool) {
		t.Helper()
		// The loop handles datagrams in order: the answer to an OPTIONS
		// sent after the ACK means the ACK has been handled.
		opt := inDialog(inv, ok, "OPTIONS", 100)
		p.send(opt, ua.LocalAddr())
		for {
			if r, _ := p.read(); r.Get("CSeq") == opt.Get("CSeq") {
				break
			}
		}
		if err := ua.do(func() error {
			c := ua.calls[in.Call]
			if c == nil {
				return fmt.Errorf("%s: the call is gone", what)
			}
			if !cond(c) {
				return fmt.Errorf("%s: call %v, 200 retransmitting %v, re-INVITE waiting %v", what, c.state, c.stopOK != nil || c.reOKWaiting(), c.reSrv != nil)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	p.send(sameBranch(inv, 1), ua.LocalAddr())
	settled("after the INVITE's ACK", func(c *call) bool { return c.state == csConfirmed && c.stopOK == nil })

	re := inDialog(inv, ok, "INVITE", 2) // no offer: ours comes in the 200
	p.send(re, ua.LocalAddr())
	if r := finalTo(p); r.StatusCode != 200 || !strings.Contains(string(r.Body), "m=audio 20000") {
		t.Fatalf("re-INVITE: %d %s", r.StatusCode, r.Body)
	}
	ack := sameBranch(re, 2)
	ack.Add("Content-Type", "application/sdp")
	ack.Body = []byte(strings.Replace(fmt.Sprintf(peerSDP, 2, "sendrecv"), "m=audio 4000", "m=audio 4200", 1))
	p.send(ack, ua.LocalAddr())
	if e := expect(t, ua, CallAnswered); e.Remote.Port != 4200 {
		t.Fatalf("the answer in the ACK: %+v", e.Remote)
	}
	settled("after the re-INVITE's ACK", func(c *call) bool { return c.reSrv == nil && !c.reOKWaiting() })
}

func TestMessageKindString(t *testing.T) {
	if got := MessageReceived.String(); got != "message-received" {
		t.Fatalf("MessageReceived.String() = %q", got)
	}
}

func TestContentTypeParts(t *testing.T) {
	for _, tc := range []struct{ v, media, charset string }{
		{"text/plain", "text/plain", ""},
		{"Text/Plain ; charset=\"UTF-8\"", "Text/Plain", "UTF-8"},
		{"application/sdp;x=1; CHARSET = latin1", "application/sdp", "latin1"},
		{" application / sdp ", "application/sdp", ""},
	} {
		if m, c := mediaType(tc.v), param(tc.v, "charset"); m != tc.media || c != tc.charset {
			t.Errorf("%q: media %q charset %q, want %q %q", tc.v, m, c, tc.media, tc.charset)
		}
	}
}
