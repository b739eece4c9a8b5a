package pbx

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/audio/g711"
	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
	"github.com/deskphone/deskphone/tools/wav"
)

// media is a test phone's RTP socket.
type media struct {
	t *testing.T
	c *net.UDPConn
}

func newMedia(t *testing.T) *media {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &media{t: t, c: c}
}

func (md *media) offer() []byte {
	port := md.c.LocalAddr().(*net.UDPAddr).Port
	return []byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n", port))
}

// sendTone sends d of a sine at freq as PCMU packets to dst, unpaced.
func (md *media) sendTone(dst *net.UDPAddr, freq float64, d time.Duration) {
	md.t.Helper()
	n := int(d / (20 * time.Millisecond))
	var ph float64
	pcm := make([]int16, 160)
	for i := 0; i < n; i++ {
		audio.Sine(pcm, freq, 0.3, 8000, &ph)
		payload := make([]byte, 160)
		g711.EncodeUlaw(payload, pcm)
		pk := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(160 * i), SSRC: 42}, Payload: payload}
		b, _ := pk.Marshal()
		if _, err := md.c.WriteToUDP(b, dst); err != nil {
			md.t.Fatal(err)
		}
	}
}

// recvPCM reads RTP for d and returns it decoded (PCMU).
func (md *media) recvPCM(d time.Duration) []int16 {
	var out []int16
	buf := make([]byte, 2048)
	dec := make([]int16, 2048)
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		md.c.SetReadDeadline(end)
		n, _, err := md.c.ReadFromUDP(buf)
		if err != nil {
			break
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != 0 {
			continue
		}
		k := g711.DecodeUlaw(dec, p.Payload)
		out = append(out, dec[:k]...)
	}
	return out
}

// invite sends an authenticated INVITE with an SDP offer and returns it
// (as sent the second time).
func (ph *phone) invite(to string, md *media) *sipmsg.Message {
	ph.t.Helper()
	return ph.inviteBody(to, md.offer())
}

// inviteBody sends an INVITE to to with body as its SDP, answers the PBX's
// 407 and returns the INVITE with credentials.
func (ph *phone) inviteBody(to string, body []byte) *sipmsg.Message {
	ph.t.Helper()
	inv := ph.request("INVITE", "sip:"+to+"@"+ph.pbxHost, to)
	inv.Set("Content-Type", "application/sdp")
	inv.Body = body
	ph.send(inv)
	inv2 := ph.authorize(inv, ph.expect(407, "INVITE"))
	ph.send(inv2)
	return inv2
}

// okFromVoicemail waits for the mailbox's 200 (after any 100) and returns
// it with the PBX's RTP address from its SDP answer.
func (ph *phone) okFromVoicemail() (*sipmsg.Message, *net.UDPAddr) {
	ph.t.Helper()
	for {
		m, _ := ph.recv()
		if m.StatusCode == 100 || m.StatusCode == 180 {
			continue
		}
		if m.StatusCode != 200 {
			ph.t.Fatalf("%s: got %q, want 200 from the mailbox\n%s", ph.ext, startLine(m), m)
		}
		ans, err := sdp.Parse(m.Body)
		if err != nil {
			ph.t.Fatalf("answer SDP: %v\n%s", err, m.Body)
		}
		if len(ans.Media) != 1 || len(ans.Media[0].Codecs) == 0 || ans.Media[0].Codecs[0].Name != "PCMU" {
			ph.t.Errorf("answer m-lines %+v, want one with PCMU first", ans.Media)
		}
		if m.Get("Record-Route") != "" {
			ph.t.Errorf("mailbox 200 has Record-Route %q", m.GetAll("Record-Route"))
		}
		return m, &net.UDPAddr{IP: net.ParseIP(ans.Media[0].Host), Port: ans.Media[0].Port}
	}
}

// ackAndBye acknowledges the mailbox's 200 and hangs up.
func (ph *phone) ackAndBye(inv, ok *sipmsg.Message) {
	ph.t.Helper()
	target := mustNA(ph.t, ok.Get("Contact")).URI.String()
	ph.send(ph.inDialog("ACK", ph.seq, target, nil, inv.Get("From"), ok.Get("To")))
	bye := ph.inDialog("BYE", ph.seq+1, target, nil, inv.Get("From"), ok.Get("To"))
	ph.send(bye)
	ph.expect(200, "BYE")
}

// expectMWI waits for a message-summary NOTIFY, answers it and returns it.
func (ph *phone) expectMWI(want string) *sipmsg.Message {
	ph.t.Helper()
	n := ph.expect(0, "NOTIFY")
	ph.send(ph.answer(n, 200, "OK", ""))
	if n.Get("Event") != "message-summary" || n.Get("Content-Type") != "application/simple-message-summary" {
		ph.t.Errorf("NOTIFY Event %q Content-Type %q", n.Get("Event"), n.Get("Content-Type"))
	}
	if !strings.Contains(string(n.Body), want) {
		ph.t.Errorf("NOTIFY body %q, want %q in it", n.Body, want)
	}
	return n
}

func TestVoicemailLeaveMessage(t *testing.T) {
	p, _ := startPBXWith(t, Config{})
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	am := newMedia(t)
	inv := a.invite("8000*1002", am)
	ok, rtpAddr := a.okFromVoicemail()
	am.sendTone(rtpAddr, 1000, time.Second)
	prompt := am.recvPCM(300 * time.Millisecond) // the prompt comes back to the offer's address
	if lv := audio.ToneLevel(prompt, PromptFreq, 8000); lv < 0.01 {
		t.Errorf("prompt: %d samples, %.0f Hz level %.3f", len(prompt), PromptFreq, lv)
	}
	a.ackAndBye(inv, ok)

	n := b.expectMWI("Voice-Message: 1/0 (0/0)")
	body := string(n.Body)
	for _, w := range []string{"Messages-Waiting: yes\r\n", "Message-Account: sip:8000@test\r\n"} {
		if !strings.Contains(body, w) {
			t.Errorf("NOTIFY body %q lacks %q", body, w)
		}
	}
	if n.RequestURI != b.contact() {
		t.Errorf("NOTIFY R-URI %q, want the binding's Contact %q", n.RequestURI, b.contact())
	}
	newMsgs, oldMsgs := p.Messages("1002")
	if len(newMsgs) != 1 || len(oldMsgs) != 0 {
		t.Fatalf("box 1002: new %q old %q", newMsgs, oldMsgs)
	}
	raw, err := os.ReadFile(newMsgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(raw[0:4]) != "RIFF" || binary.LittleEndian.Uint32(raw[4:]) != uint32(len(raw)-8) ||
		binary.LittleEndian.Uint32(raw[40:]) != uint32(len(raw)-44) || binary.LittleEndian.Uint32(raw[24:]) != 8000 {
		t.Errorf("WAV header % x", raw[:44])
	}
	s, _, err := wav.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 8000 {
		t.Errorf("message has %d samples, want 8000 (1 s)", len(s))
	}
	if lv := audio.ToneLevel(s, 1000, 8000); lv < 0.05 {
		t.Errorf("message 1 kHz level %.3f", lv)
	}
	if a, _ := p.Messages("1001"); len(a) != 0 {
		t.Errorf("1001's box: %q", a)
	}
}

func TestVoicemailFallbackBusy(t *testing.T) {
	p, _ := startPBXWith(t, Config{})
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	am := newMedia(t)
	inv := a.invite("1002", am)
	a.expect(100, "INVITE")
	got := b.expect(0, "INVITE")
	b.send(b.answer(got, 486, "Busy Here", "btag"))
	ack := b.expect(0, "ACK") // the PBX acknowledges the 486 itself
	if ack.Get("Via") != got.Get("Via") || !strings.HasSuffix(ack.Get("CSeq"), " ACK") {
		t.Errorf("ACK Via %q CSeq %q", ack.Get("Via"), ack.Get("CSeq"))
	}
	ok, rtpAddr := a.okFromVoicemail()
	am.sendTone(rtpAddr, 1000, 500*time.Millisecond)
	am.recvPCM(100 * time.Millisecond)
	a.ackAndBye(inv, ok)
	b.expectMWI("Voice-Message: 1/0")
	if n, _ := p.Messages("1002"); len(n) != 1 {
		t.Fatalf("box 1002: %q", n)
	}
	for _, e := range p.Ladder() {
		if e.Dir == "out" && e.Status == 486 {
			t.Errorf("486 went upstream")
		}
	}
}

func TestVoicemailNotRegistered(t *testing.T) {
	p, _ := startPBXWith(t, Config{})
	a := newPhone(t, p, "1001", "pw1001", "", "")
	am := newMedia(t)
	inv := a.invite("1003", am)
	ok, rtpAddr := a.okFromVoicemail()
	// The 200 says the call went to 1003's mailbox, as PBXs say it.
	if hi := ok.GetAll("History-Info"); len(hi) != 2 || hi[0] != "<sip:1003@test>;index=1" ||
		hi[1] != "<sip:8000@test;cause=480>;index=1.1;mp=1" {
		t.Errorf("History-Info %q", hi)
	}
	if d := ok.Get("Diversion"); d != "<sip:1003@test>;reason=unavailable" {
		t.Errorf("Diversion %q", d)
	}
	if pai := ok.Get("P-Asserted-Identity"); pai != `"Voicemail of 1003" <sip:8000@test>` {
		t.Errorf("P-Asserted-Identity %q", pai)
	}
	am.sendTone(rtpAddr, 1000, 400*time.Millisecond)
	am.recvPCM(100 * time.Millisecond)
	a.ackAndBye(inv, ok)
	// 1003 registers later: its phone hears of the message at once (or as
	// soon as it is stored, if that is later: one NOTIFY either way).
	c := newPhone(t, p, "1003", "pw1003", "", "")
	c.register(3600)
	c.expectMWI("Voice-Message: 1/0 (0/0)")
	if n, _ := p.Messages("1003"); len(n) != 1 {
		t.Fatalf("1003's box: %q", n)
	}
	c.sync() // no second NOTIFY
}

func TestRedirect302(t *testing.T) {
	for _, tc := range []struct{ name, target string }{
		{"to an extension", "1003"},
		{"to voicemail", "8000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := startPBXWith(t, Config{})
			a := newPhone(t, p, "1001", "pw1001", "", "")
			b := newPhone(t, p, "1002", "pw1002", "", "")
			c := newPhone(t, p, "1003", "pw1003", "", "")
			b.register(3600)
			c.register(3600)
			am := newMedia(t)
			inv := a.invite("1002", am)
			a.expect(100, "INVITE")
			got := b.expect(0, "INVITE")
			r := b.answer(got, 302, "Moved Temporarily", "btag")
			r.Add("Contact", "<sip:"+tc.target+"@"+b.pbxHost+">")
			r.Add("Diversion", "<sip:1002@"+b.pbxHost+">;reason=no-answer")
			b.send(r)
			b.expect(0, "ACK")
			if tc.target == "8000" {
				ok, rtpAddr := a.okFromVoicemail()
				am.sendTone(rtpAddr, 1000, 400*time.Millisecond)
				am.recvPCM(100 * time.Millisecond)
				a.ackAndBye(inv, ok)
				b.expectMWI("Voice-Message: 1/0")
				return
			}
			fwd := c.expect(0, "INVITE")
			if fwd.RequestURI != c.contact() {
				t.Errorf("R-URI %q", fwd.RequestURI)
			}
			if d := fwd.Get("Diversion"); !strings.Contains(d, "sip:1002@") || !strings.Contains(d, "reason=no-answer") {
				t.Errorf("Diversion %q", d)
			}
			if fwd.Get("Via") == got.Get("Via") {
				t.Error("the new branch reuses the first branch")
			}
			if rr := fwd.GetAll("Record-Route"); len(rr) != 1 {
				t.Errorf("Record-Route %q", rr)
			}
			c.send(c.answer(fwd, 180, "Ringing", "ctag"))
			a.expect(180, "INVITE")
			c.send(c.answer(fwd, 200, "OK", "ctag"))
			ok := a.expect(200, "INVITE")
			if !strings.Contains(ok.Get("To"), "ctag") {
				t.Errorf("200 To %q", ok.Get("To"))
			}
		})
	}
}

func TestMWISubscribe(t *testing.T) {
	p, clk := startPBXWith(t, Config{})
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	sub := b.request("SUBSCRIBE", "sip:8000@"+b.pbxHost, "8000")
	sub.Set("Event", "message-summary")
	sub.Set("Accept", "application/simple-message-summary")
	sub.Set("Expires", "600")
	b.send(sub)
	sub2 := b.authorize(sub, b.expect(407, "SUBSCRIBE"))
	b.send(sub2)
	ok := b.expect(200, "SUBSCRIBE")
	if ok.Get("Expires") != "600" {
		t.Errorf("Expires %q", ok.Get("Expires"))
	}
	n := b.expectMWI("Messages-Waiting: no")
	if n.Get("Call-ID") != sub.Get("Call-ID") || !strings.HasPrefix(n.Get("Subscription-State"), "active;expires=") {
		t.Errorf("NOTIFY Call-ID %q Subscription-State %q", n.Get("Call-ID"), n.Get("Subscription-State"))
	}
	toTag, _ := mustNA(t, ok.Get("To")).Param("tag")
	if fromTag, _ := mustNA(t, n.Get("From")).Param("tag"); fromTag != toTag || toTag == "" {
		t.Errorf("NOTIFY From tag %q, 200 To tag %q", fromTag, toTag)
	}

	// A message: the NOTIFY comes in the subscription, and is retransmitted
	// until answered.
	am := newMedia(t)
	inv := a.invite("8000*1002", am)
	okv, rtpAddr := a.okFromVoicemail()
	am.sendTone(rtpAddr, 1000, 300*time.Millisecond)
	am.recvPCM(100 * time.Millisecond)
	a.ackAndBye(inv, okv)
	n1 := b.expect(0, "NOTIFY")
	if n1.Get("Call-ID") != sub.Get("Call-ID") || !strings.Contains(string(n1.Body), "Voice-Message: 1/0") {
		t.Errorf("NOTIFY Call-ID %q body %q", n1.Get("Call-ID"), n1.Body)
	}
	clk.Advance(t1)
	n2 := b.expect(0, "NOTIFY")
	if n2.String() != n1.String() {
		t.Errorf("retransmission differs")
	}
	b.send(b.answer(n2, 200, "OK", ""))
	b.sync()
	clk.Advance(4 * t1)
	b.sync() // nothing more: the next message is the OPTIONS answer

	// Unsubscribe: 200, a last NOTIFY saying terminated.
	un := b.inDialog("SUBSCRIBE", b.seq+1, mustNA(t, ok.Get("Contact")).URI.String(), nil, sub.Get("From"), ok.Get("To"))
	b.seq++
	un.Set("Call-ID", sub.Get("Call-ID"))
	un.Set("Event", "message-summary")
	un.Set("Expires", "0")
	un.Set("Contact", "<"+b.contact()+">")
	b.send(un)
	b.expect(200, "SUBSCRIBE")
	last := b.expectMWI("Voice-Message: 1/0")
	if !strings.HasPrefix(last.Get("Subscription-State"), "terminated") {
		t.Errorf("Subscription-State %q", last.Get("Subscription-State"))
	}
}

func TestVoicemailPlayback(t *testing.T) {
	p, _ := startPBXWith(t, Config{})
	b := newPhone(t, p, "1002", "pw1002", "", "")
	dir := filepath.Join(p.VoicemailDir(), "1002", "new")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	msg := toneSamples(600, 500*time.Millisecond)
	if err := os.WriteFile(filepath.Join(dir, "20260101T000000.000000.wav"), encodeWAV(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	b.register(3600)
	b.expectMWI("Voice-Message: 1/0") // registered with a message waiting
	bm := newMedia(t)
	inv := b.invite("8000", bm)
	ok, _ := b.okFromVoicemail()
	target := mustNA(t, ok.Get("Contact")).URI.String()
	b.send(b.inDialog("ACK", b.seq, target, nil, inv.Get("From"), ok.Get("To")))
	heard := make(chan []int16, 1)
	go func() { heard <- bm.recvPCM(3500 * time.Millisecond) }()
	// The box plays the prompt and the message, then hangs up, and the
	// message is old.
	var bye, notify *sipmsg.Message
	for bye == nil || notify == nil {
		m, _ := b.recv()
		switch m.Method {
		case "BYE":
			bye = m
		case "NOTIFY":
			notify = m
		default:
			t.Fatalf("got %q", startLine(m))
		}
		b.send(b.answer(m, 200, "OK", ""))
	}
	if !strings.Contains(string(notify.Body), "Voice-Message: 0/1") || !strings.Contains(string(notify.Body), "Messages-Waiting: no") {
		t.Errorf("NOTIFY body %q", notify.Body)
	}
	if n, o := p.Messages("1002"); len(n) != 0 || len(o) != 1 {
		t.Errorf("box: new %q old %q", n, o)
	}
	s := <-heard
	if lv := peakLevel(s, 600); lv < 0.05 {
		t.Errorf("message not heard: %d samples, 600 Hz level %.4f", len(s), lv)
	}
	if err := p.MarkOld("1002"); err != nil {
		t.Fatal(err)
	}
}

func TestVoicemailTimeLimit(t *testing.T) {
	p, _ := startPBXWith(t, Config{VoicemailMax: 300 * time.Millisecond})
	a := newPhone(t, p, "1001", "pw1001", "", "")
	am := newMedia(t)
	inv := a.invite("8000*1002", am)
	ok, rtpAddr := a.okFromVoicemail()
	target := mustNA(t, ok.Get("Contact")).URI.String()
	a.send(a.inDialog("ACK", a.seq, target, nil, inv.Get("From"), ok.Get("To")))
	am.sendTone(rtpAddr, 1000, time.Second)
	bye := a.expect(0, "BYE") // the PBX hangs up at the limit
	if bye.RequestURI != a.contact() {
		t.Errorf("BYE R-URI %q", bye.RequestURI)
	}
	a.send(a.answer(bye, 200, "OK", ""))
	a.sync()
	n, _ := p.Messages("1002")
	if len(n) != 1 {
		t.Fatalf("box 1002: %q", n)
	}
	s, err := ReadWAV(n[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(s) > 2400 {
		t.Errorf("message has %d samples, over the 300 ms limit", len(s))
	}
}

// peakLevel is the highest ToneLevel of freq over 200 ms windows of s.
func peakLevel(s []int16, freq float64) float64 {
	best := 0.0
	for i := 0; i+1600 <= len(s); i += 400 {
		best = max(best, audio.ToneLevel(s[i:i+1600], freq, 8000))
	}
	return best
}

// TestRedirectRetransmitted302: a 302 the callee repeats (it missed the
// PBX's ACK) is acknowledged again, not followed twice.
func TestRedirectRetransmitted302(t *testing.T) {
	p, _ := startPBXWith(t, Config{})
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	c := newPhone(t, p, "1003", "pw1003", "", "")
	b.register(3600)
	c.register(3600)
	a.invite("1002", newMedia(t))
	a.expect(100, "INVITE")
	got := b.expect(0, "INVITE")
	r := b.answer(got, 302, "Moved Temporarily", "btag")
	r.Add("Contact", "<sip:1003@"+b.pbxHost+">")
	b.send(r)
	ack1 := b.expect(0, "ACK")
	fwd := c.expect(0, "INVITE")
	if !strings.Contains(fwd.Get("Diversion"), "sip:1002@test") || !strings.Contains(fwd.Get("Diversion"), "reason=unconditional") {
		t.Errorf("Diversion made up for a 302 without one: %q", fwd.Get("Diversion"))
	}
	b.send(r)
	ack2 := b.expect(0, "ACK")
	if ack2.String() != ack1.String() {
		t.Errorf("second ACK differs:\n%s\nvs\n%s", ack2, ack1)
	}
	c.sync() // no second INVITE reached 1003
	a.sync() // and nothing went upstream
}

func TestVoicemailNoAnswer(t *testing.T) {
	p, clk := startPBXWith(t, Config{NoAnswer: 20 * time.Second})
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	inv := a.invite("1002", newMedia(t))
	a.expect(100, "INVITE")
	got := b.expect(0, "INVITE")
	b.send(b.answer(got, 180, "Ringing", "btag"))
	a.expect(180, "INVITE")
	clk.Advance(20 * time.Second)
	cancel := b.expect(0, "CANCEL")
	if cancel.Get("Via") != got.Get("Via") {
		t.Errorf("CANCEL Via %q, INVITE's %q", cancel.Get("Via"), got.Get("Via"))
	}
	ok, _ := a.okFromVoicemail()
	b.send(b.answer(cancel, 200, "OK", "btag"))
	b.send(b.answer(got, 487, "Request Terminated", "btag"))
	b.expect(0, "ACK")
	a.ackAndBye(inv, ok)
	if c := p.Ladder(); len(c) == 0 {
		t.Fatal("no ladder")
	}
	for _, e := range p.Ladder() {
		if e.Dir == "out" && e.Status == 487 {
			t.Error("487 went upstream")
		}
	}
}

func TestVoicemailTimerB(t *testing.T) {
	p, clk := startPBXWith(t, Config{})
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	inv := a.invite("1002", newMedia(t))
	a.expect(100, "INVITE")
	b.expect(0, "INVITE") // and never answered
	clk.Advance(timerB)
	ok, _ := a.okFromVoicemail()
	a.ackAndBye(inv, ok)
}

func TestSafeBox(t *testing.T) {
	for ext, want := range map[string]bool{"1002": true, "": false, "..": false, "a/b": false, `a\b`: false, "x\x00": false} {
		if got := safeBox(ext); got != want {
			t.Errorf("safeBox(%q) = %v", ext, got)
		}
	}
}

// TestCancelledNotToMailbox: a callee answering a cancelled call with 480
// (not 487) does not send the caller to the mailbox.
func TestCancelledNotToMailbox(t *testing.T) {
	p, _ := startPBXWith(t, Config{})
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	inv := a.invite("1002", newMedia(t))
	a.expect(100, "INVITE")
	got := b.expect(0, "INVITE")
	c := a.inDialog("CANCEL", a.seq, inv.RequestURI, nil, inv.Get("From"), inv.Get("To"))
	c.Set("Via", inv.Get("Via"))
	a.send(c)
	a.expect(200, "CANCEL")
	b.expect(0, "CANCEL")
	b.send(b.answer(got, 480, "Temporarily Unavailable", "btag"))
	a.expect(480, "INVITE")
	if n, _ := p.Messages("1002"); len(n) != 0 {
		t.Errorf("box: %q", n)
	}
}
