package sipua

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

func parseSDP(t *testing.T, m string) sdp.Session {
	t.Helper()
	s, err := sdp.Parse([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n" + m))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	key80 = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	key32 = "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj"
)

// TestSRTPOffer: the phone's offers by mode, each with fresh keys.
func TestSRTPOffer(t *testing.T) {
	for _, tc := range []struct {
		mode    SRTPMode
		proto   string
		cryptos int
	}{{SRTPOff, "RTP/AVP", 0}, {SRTPOptional, "RTP/AVP", 2}, {SRTPRequired, "RTP/SAVP", 2}} {
		a, err := media(10000, "PCMU").session(1, tc.mode)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := media(10000, "PCMU").session(1, tc.mode)
		s, err := sdp.Parse(a.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		cs, err := s.Media[0].Cryptos()
		if err != nil || s.Media[0].Proto != tc.proto || len(cs) != tc.cryptos {
			t.Fatalf("%v: %s with %d a=crypto (%v)", tc.mode, s.Media[0].Proto, len(cs), err)
		}
		if tc.cryptos == 2 {
			if cs[0].Suite != sdp.SuiteSHA1_80 || cs[1].Suite != sdp.SuiteSHA1_32 || !cs[0].Usable() ||
				bytes.Equal(cs[0].Key, cs[1].Key) {
				t.Fatalf("%v: %+v", tc.mode, cs)
			}
			if a.Media[0].Attrs[0] == b.Media[0].Attrs[0] {
				t.Fatalf("%v: two sessions with one key", tc.mode)
			}
			// A re-offer: fresh keys, same tags and suites; the
			// description it came from keeps its own.
			r := a
			rekey(&r)
			rc, _ := r.Media[0].Cryptos()
			ac, _ := a.Media[0].Cryptos()
			if rc[0].Tag != 1 || rc[1].Suite != sdp.SuiteSHA1_32 || bytes.Equal(rc[0].Key, ac[0].Key) ||
				!bytes.Equal(ac[0].Key, cs[0].Key) {
				t.Fatalf("rekey: %+v from %+v", rc, ac)
			}
		}
	}
}

// TestSRTPAnswered: answers to the phone's offers by mode.
func TestSRTPAnswered(t *testing.T) {
	req, _ := media(10000, "PCMU").session(1, SRTPRequired)
	opt, _ := media(10000, "PCMU").session(1, SRTPOptional)
	ours, _ := req.Media[0].Cryptos()
	rtpmap := "a=rtpmap:0 PCMU/8000\r\n"
	for _, tc := range []struct {
		name    string
		offer   sdp.Session
		answer  string
		suite   string // "": plain
		refused bool
	}{
		{"SAVP with the 80-bit suite", req, "m=audio 4000 RTP/SAVP 0\r\n" + rtpmap + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "\r\n", sdp.SuiteSHA1_80, false},
		{"SAVP with the 32-bit suite", req, "m=audio 4000 RTP/SAVP 0\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + key32 + "\r\n", sdp.SuiteSHA1_32, false},
		{"required, answered plain", req, "m=audio 4000 RTP/AVP 0\r\n", "", true},
		{"SAVP without a key", req, "m=audio 4000 RTP/SAVP 0\r\n", "", true},
		{"a tag not offered", req, "m=audio 4000 RTP/SAVP 0\r\na=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "\r\n", "", true},
		{"a suite under another tag", req, "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" + key32 + "\r\n", "", true},
		{"two keys", req, "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + key32 + "\r\n", "", true},
		{"a malformed key", req, "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=\r\n", "", true},
		{"best effort taken", opt, "m=audio 4000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "\r\n", sdp.SuiteSHA1_80, false},
		{"best effort not taken", opt, "m=audio 4000 RTP/AVP 0\r\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := answered(tc.offer, parseSDP(t, tc.answer))
			if tc.refused {
				if !errors.Is(err, sdp.ErrBadAnswer) {
					t.Fatalf("answered = %+v, %v; want sdp.ErrBadAnswer", m, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.suite == "" {
				if m.Encrypted() {
					t.Fatalf("encrypted: %+v", m.SRTP)
				}
				return
			}
			if !m.Encrypted() || m.SRTP.Suite != tc.suite || len(m.SRTP.Remote) != sdp.KeySaltLen {
				t.Fatalf("keys %+v", m.SRTP)
			}
			if tc.offer.Media[0].Proto == "RTP/SAVP" {
				want := ours[0].Key
				if tc.suite == sdp.SuiteSHA1_32 {
					want = ours[1].Key
				}
				if !bytes.Equal(m.SRTP.Local, want) {
					t.Fatal("the local key is not the offered one")
				}
			}
		})
	}
}

// TestSRTPAnswer: the phone's answers to offers, by mode: what it
// accepts, the key it adds (the offer's tag and suite, a fresh key), and
// the offers it refuses (488).
func TestSRTPAnswer(t *testing.T) {
	rtpmap := "a=rtpmap:0 PCMU/8000\r\n"
	savp := "m=audio 4000 RTP/SAVP 0\r\n" + rtpmap
	avp := "m=audio 4000 RTP/AVP 0\r\n" + rtpmap
	c80 := "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "\r\n"
	c32 := "a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:" + key32 + "\r\n"
	mki := "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\r\n"
	for _, tc := range []struct {
		name    string
		mode    SRTPMode
		offer   string
		tag     int // of the key answered; 0: plain
		refused bool
	}{
		{"off: SAVP refused", SRTPOff, savp + c80, 0, true},
		{"off: best effort answered plain", SRTPOff, avp + c80, 0, false},
		{"optional: SAVP", SRTPOptional, savp + c80 + c32, 3, false},
		{"optional: first usable key", SRTPOptional, savp + mki + "a=crypto:9 bad\r\n" + c32, 4, false},
		{"optional: best effort", SRTPOptional, avp + c32, 4, false},
		{"optional: plain", SRTPOptional, avp, 0, false},
		{"optional: SAVP without a usable key", SRTPOptional, savp + mki, 0, true},
		{"required: plain refused", SRTPRequired, avp, 0, true},
		{"required: best effort taken", SRTPRequired, avp + c80, 3, false},
		{"required: SAVP after a plain stream", SRTPRequired, avp + savp + c80, 0, true}, // the first stream Select takes has no key
	} {
		t.Run(tc.name, func(t *testing.T) {
			offer := parseSDP(t, tc.offer)
			if err := servable(offer, tc.mode); (err != nil) != tc.refused {
				t.Fatalf("servable: %v", err)
			}
			if tc.refused {
				return
			}
			local, _ := media(10000, "PCMU").session(1, tc.mode)
			ans, err := sdp.Answer(offer, local)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := keyAnswer(offer, &ans, tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			back, err := sdp.Parse(ans.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			cs, err := back.Media[0].Cryptos()
			if err != nil {
				t.Fatal(err)
			}
			if tc.tag == 0 {
				if keys != nil || len(cs) != 0 {
					t.Fatalf("keys %+v, answer %q", keys, ans.Marshal())
				}
				return
			}
			if len(cs) != 1 || cs[0].Tag != tc.tag || keys == nil || !bytes.Equal(cs[0].Key, keys.Local) ||
				bytes.Equal(keys.Local, keys.Remote) || back.Media[0].Proto != offer.Media[0].Proto {
				t.Fatalf("answer %q, keys %+v", ans.Marshal(), keys)
			}
		})
	}
}

func TestSRTPNeedsTLS(t *testing.T) {
	if err := srtpCheck(SRTPOptional, tUDP, 1); !errors.Is(err, ErrSRTPNeedsTLS) || !strings.Contains(err.Error(), "line.1.transport = tls") {
		t.Fatal(err)
	}
	if srtpCheck(SRTPRequired, tTLS, 1) != nil || srtpCheck(SRTPOff, tUDP, 1) != nil {
		t.Fatal("refused")
	}
	for _, s := range []string{"off", "optional", "required"} {
		if m, err := ParseSRTPMode(s); err != nil || m.String() != s {
			t.Fatal(s, m, err)
		}
	}
	if _, err := ParseSRTPMode("on"); err == nil {
		t.Fatal("on accepted")
	}
}

// TestSRTPCallOverTLS: two UAs with SRTP required over TLS: the call's
// keys cross (each side's Local is the other's Remote); a hold re-INVITE
// carries a fresh key, and both sides see the new pair (the holder in a
// CallAnswered, the held in CallHeld). A line over UDP refuses to dial
// and an INVITE over UDP to a line with SRTP gets 488.
func TestSRTPCallOverTLS(t *testing.T) {
	cert, key, caFile := writeCert(t, t.TempDir())
	tlsCfg := Config{TLSCertFile: cert, TLSKeyFile: key, TLSCAFile: caFile}
	ca, cb := tlsCfg, tlsCfg
	ca.Lines = []LineConfig{{User: "1001", Transport: "tls", SRTP: SRTPRequired}}
	cb.Lines = []LineConfig{{User: "1002", Transport: "tls", SRTP: SRTPRequired}}
	a, _ := startUACfg(t, ca)
	b, _ := startUACfg(t, cb)
	to := fmt.Sprintf("sip:1002@127.0.0.1:%d;transport=tls", b.TLSAddr().Port)
	id, err := a.Dial(1, to, media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	in := expect(t, b, CallIncoming)
	bm, err := b.Answer(in.Call, media(20000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, b, CallAnswered)
	am := expect(t, a, CallAnswered).Remote
	if !am.Encrypted() || !bm.Encrypted() || !bytes.Equal(am.SRTP.Local, bm.SRTP.Remote) || !bytes.Equal(am.SRTP.Remote, bm.SRTP.Local) ||
		am.SRTP.Suite != sdp.SuiteSHA1_80 {
		t.Fatalf("keys: caller %+v, callee %+v", am.SRTP, bm.SRTP)
	}
	if err := a.Hold(id, true); err != nil {
		t.Fatal(err)
	}
	held := expect(t, b, CallHeld).Remote
	again := expect(t, a, CallAnswered).Remote
	if bytes.Equal(again.SRTP.Local, am.SRTP.Local) || bytes.Equal(held.SRTP.Local, bm.SRTP.Local) ||
		!bytes.Equal(again.SRTP.Local, held.SRTP.Remote) || !bytes.Equal(again.SRTP.Remote, held.SRTP.Local) {
		t.Fatalf("after the re-INVITE: caller %+v, callee %+v", again.SRTP, held.SRTP)
	}
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	expect(t, a, CallEnded)
	expect(t, b, CallEnded)

	// Over UDP: no keys in the clear.
	if _, err := a.Dial(1, fmt.Sprintf("sip:1002@127.0.0.1:%d", b.LocalAddr().Port), media(10000, "PCMU")); !errors.Is(err, ErrSRTPNeedsTLS) {
		t.Fatalf("dial over UDP: %v", err)
	}
	plain, _ := startUACfg(t, Config{Lines: []LineConfig{{User: "1003"}}})
	if _, err := plain.Dial(1, fmt.Sprintf("sip:1002@127.0.0.1:%d", b.LocalAddr().Port), media(10000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, plain, CallEnded); e.Code != 488 {
		t.Fatalf("INVITE over UDP to an SRTP line: %+v", e)
	}
}

// tlsPeer is a SIP peer over one TLS connection it accepts, for a test
// that plays the far end by hand.
type tlsPeer struct {
	t  *testing.T
	ln net.Listener
	c  net.Conn
	r  *bufio.Reader
}

func newTLSPeer(t *testing.T, cert, key string) *tlsPeer {
	crt, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{crt}})
	if err != nil {
		t.Fatal(err)
	}
	p := &tlsPeer{t: t, ln: ln}
	t.Cleanup(func() {
		ln.Close()
		if p.c != nil {
			p.c.Close()
		}
	})
	return p
}

// read returns the next message on the connection (accepted first).
func (p *tlsPeer) read() *sipmsg.Message {
	p.t.Helper()
	if p.c == nil {
		c, err := p.ln.Accept()
		if err != nil {
			p.t.Fatal(err)
		}
		p.c, p.r = c, bufio.NewReader(c)
	}
	_ = p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var head []byte
	n := 0
	for {
		line, err := p.r.ReadString('\n')
		if err != nil {
			p.t.Fatal(err)
		}
		if len(head) == 0 && line == "\r\n" {
			continue // a keepalive
		}
		head = append(head, line...)
		if l, ok := strings.CutPrefix(strings.ToLower(line), "content-length:"); ok {
			n, _ = strconv.Atoi(strings.TrimSpace(l))
		}
		if line == "\r\n" {
			break
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(p.r, body); err != nil {
		p.t.Fatal(err)
	}
	m, err := sipmsg.Parse(append(head, body...))
	if err != nil {
		p.t.Fatal(err)
	}
	return m
}

func (p *tlsPeer) send(m *sipmsg.Message) {
	p.t.Helper()
	if _, err := p.c.Write(m.AppendTo(nil)); err != nil {
		p.t.Fatal(err)
	}
}

// TestSRTPRequiredRefusesPlainAnswer: with SRTP required, a far end that
// answers the phone's RTP/SAVP offer in the clear (RTP/AVP, no key) gets
// its 2xx ACKed and then a BYE with Reason 488, and the call ends 488:
// the phone never plays or sends unprotected media.
func TestSRTPRequiredRefusesPlainAnswer(t *testing.T) {
	cert, key, caFile := writeCert(t, t.TempDir())
	p := newTLSPeer(t, cert, key)
	a, _ := startUACfg(t, Config{TLSCAFile: caFile, Lines: []LineConfig{{User: "1001", Transport: "tls", SRTP: SRTPRequired}}})
	to := "sip:1002@" + p.ln.Addr().String() + ";transport=tls"
	if _, err := a.Dial(1, to, media(10000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	inv := p.read()
	if inv.Method != "INVITE" || !bytes.Contains(inv.Body, []byte("RTP/SAVP")) || !bytes.Contains(inv.Body, []byte("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:")) {
		t.Fatalf("offer %q", inv.Body)
	}
	ok := sipmsg.NewResponse(inv, 200, "")
	ok.Set("To", inv.Get("To")+";tag=plain")
	ok.Add("Contact", "<sip:1002@"+p.ln.Addr().String()+";transport=tls>")
	ok.Add("Content-Type", "application/sdp")
	ok.Body = fmt.Appendf(nil, peerSDP, 1, "sendrecv")
	p.send(ok)
	if ack := p.read(); ack.Method != "ACK" {
		t.Fatalf("got %s, want the ACK", ack.Method)
	}
	bye := p.read()
	if bye.Method != "BYE" || !strings.Contains(bye.Get("Reason"), "cause=488") {
		t.Fatalf("got %s with Reason %q, want a BYE with cause=488", bye.Method, bye.Get("Reason"))
	}
	p.send(sipmsg.NewResponse(bye, 200, ""))
	if e := expect(t, a, CallEnded); e.Code != 488 {
		t.Fatalf("ended %+v, want 488", e)
	}
}
