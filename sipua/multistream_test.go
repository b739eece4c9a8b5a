package sipua

import (
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// mlinesOf returns the m= lines of an SDP body.
func mlinesOf(b []byte) string {
	var out []string
	for _, ln := range strings.Split(string(b), "\r\n") {
		if strings.HasPrefix(ln, "m=") {
			out = append(out, ln)
		}
	}
	return strings.Join(out, "|")
}

const threeStreams = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=video 4002 RTP/AVP 99\r\na=rtpmap:99 H264/90000\r\n" +
	"m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\n" +
	"m=image 4004 udptl t38\r\na=T38FaxVersion:0\r\n"

// TestMultiStreamCall: an INVITE offering video, audio and T.38 is
// answered line for line (RFC 3264 section 6): audio accepted, the others
// port 0; the phone's hold re-offer keeps all three m-lines in order
// (section 8), and the peer's answer to it is taken.
func TestMultiStreamCall(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", []byte(threeStreams))
	p.send(inv, ua.LocalAddr())
	in := expect(t, ua, CallIncoming)
	if in.Remote.Port != 4000 || in.Remote.Ptime != 30 || in.Remote.TelephoneEvent != 101 {
		t.Fatalf("incoming remote %+v, want the audio stream", in.Remote)
	}
	if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, ua, CallAnswered); e.Remote.Port != 4000 || e.Remote.Codecs[0] != "PCMU" {
		t.Fatalf("answered remote %+v", e.Remote)
	}
	var ok *sipmsg.Message
	for ok == nil || ok.StatusCode != 200 {
		ok, _ = p.read()
	}
	if got, want := mlinesOf(ok.Body), "m=video 0 RTP/AVP 99|m=audio 20000 RTP/AVP 0 101|m=image 0 udptl t38"; got != want {
		t.Fatalf("answer m-lines\n%s\nwant %s", got, want)
	}
	p.send(inDialog(inv, ok, "ACK", 1), ua.LocalAddr())
	if err := ua.Hold(in.Call, true); err != nil {
		t.Fatal(err)
	}
	re, from := p.read()
	for re.Method != "INVITE" {
		re, from = p.read()
	}
	body := string(re.Body)
	if got, want := mlinesOf(re.Body), "m=video 0 RTP/AVP 99|m=audio 20000 RTP/AVP 0 101|m=image 0 udptl t38"; got != want ||
		!strings.Contains(body, " 2 IN IP4 ") || !strings.Contains(body, "a=sendonly\r\n") {
		t.Fatalf("hold re-offer:\n%s", body)
	}
	r := sipmsg.NewResponse(re, 200, "")
	r.Add("Contact", "<sip:1001@"+p.addr()+">")
	r.Add("Content-Type", "application/sdp")
	r.Body = []byte("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=video 0 RTP/AVP 99\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\nm=image 0 udptl t38\r\n")
	p.send(r, from)
	for {
		m, _ := p.read()
		if m.Method == "ACK" {
			break
		}
	}
	bye := inDialog(inv, ok, "BYE", 3)
	p.send(bye, ua.LocalAddr())
	expect(t, ua, CallEnded)
}

// TestSRTPOnlyOffer: audio over RTP/SAVP only (SRTP is not done yet) gets
// 488 with Warning 305 at once, like any offer without usable audio.
func TestSRTPOnlyOffer(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv := peerInvite(p, ua, "", "1001", "p1", []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"))
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

// TestAnswerNotMatchingOffer: a 2xx whose answer does not match our offer
// (RTP/SAVP for our RTP/AVP, or another number of m-lines) is ACKed and
// the call ends with a BYE (Reason 488), as with no common codec.
func TestAnswerNotMatchingOffer(t *testing.T) {
	for name, answer := range map[string]string{
		"savp":      "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n",
		"two-lines": "m=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n",
	} {
		t.Run(name, func(t *testing.T) {
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
			r.Body = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + answer)
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
		})
	}
}
