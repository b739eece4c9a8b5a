package pbx

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sdp"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// legMedia is a phone's RTP/RTCP socket pair on the loopback.
type legMedia struct {
	t         *testing.T
	rtp, rtcp *net.UDPConn
}

func newLegMedia(t *testing.T) *legMedia {
	t.Helper()
	a, b, err := socketPair(net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return &legMedia{t: t, rtp: a, rtcp: b}
}

func (md *legMedia) port() int { return md.rtp.LocalAddr().(*net.UDPAddr).Port }

// offer is an SDP naming host and the pair's RTP port, with dir.
func (md *legMedia) offer(host, dir string) []byte {
	return []byte(fmt.Sprintf("v=0\r\no=- 7 %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp:%d\r\na=%s\r\n",
		time.Now().UnixNano()%1000, host, host, md.port(), md.port()+1, dir))
}

// expectPacket reads one datagram on c and checks it and where it came from.
func expectPacket(t *testing.T, c *net.UDPConn, want []byte, from int) {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, src, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("waiting for %q: %v", want, err)
	}
	if !bytes.Equal(buf[:n], want) {
		t.Fatalf("got %q, want %q", buf[:n], want)
	}
	if src.Port != from {
		t.Fatalf("%q came from %s, want port %d (symmetric RTP)", want, src, from)
	}
}

func send(t *testing.T, c *net.UDPConn, b []byte, port int) {
	t.Helper()
	if _, err := c.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
		t.Fatal(err)
	}
}

// audioOf parses a message's SDP and returns its audio stream, checking
// that Content-Length fits the body.
func audioOf(t *testing.T, m *sipmsg.Message) sdp.Media {
	t.Helper()
	if cl := m.Get("Content-Length"); cl != strconv.Itoa(len(m.Body)) {
		t.Fatalf("Content-Length %q for a body of %d", cl, len(m.Body))
	}
	s, err := sdp.Parse(m.Body)
	if err != nil {
		t.Fatalf("%v\n%s", err, m.Body)
	}
	i := s.FirstAudio()
	if i < 0 {
		t.Fatalf("no audio in\n%s", m.Body)
	}
	return s.Media[i]
}

// natPair starts a PBX with 1001 registered from behind QEMU's NAT (it
// believes it is 10.0.2.15 and reaches the PBX as 10.0.2.2) and 1002 on
// the loopback.
func natPair(t *testing.T) (*PBX, *phone, *phone) {
	t.Helper()
	p, _ := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "10.0.2.15", "10.0.2.2:"+strconv.Itoa(p.Addr().Port))
	b := newPhone(t, p, "1002", "pw1002", "", "")
	a.register(3600)
	b.register(3600)
	return p, a, b
}

// invite sends an authenticated INVITE with body from a to ext and
// returns it as sent and as the callee received it.
func invite(t *testing.T, a, b *phone, ext string, body []byte) (inv, got *sipmsg.Message) {
	t.Helper()
	inv = a.inviteBody(ext, body)
	a.expect(100, "INVITE")
	return inv, b.expect(0, "INVITE")
}

// TestRelayNAT: a phone behind QEMU's NAT (SDP 10.0.2.2, signalling from
// 127.0.0.1, registered through 10.0.2.2) calls a phone on the loopback.
// The PBX anchors the media: each side is told the relay socket facing it
// at the address it reaches the PBX by; RTP and RTCP cross both ways from
// the sockets each side was told (symmetric), reach the NATed phone at its
// SDP address before it sent anything and where it sends from after; an
// oversized datagram is dropped; a hold re-INVITE keeps the relay; BYE
// closes it.
func TestRelayNAT(t *testing.T) {
	p, a, b := natPair(t)
	am, bm := newLegMedia(t), newLegMedia(t)

	inv, got := invite(t, a, b, "1002", am.offer("10.0.2.2", "sendrecv"))
	bsees := audioOf(t, got)
	if bsees.Host != "127.0.0.1" || bsees.Port == am.port() {
		t.Fatalf("1002 was offered %s:%d, want the relay on 127.0.0.1\n%s", bsees.Host, bsees.Port, got.Body)
	}
	if _, ok := bsees.Attr("rtcp"); ok {
		t.Errorf("a=rtcp passed on: %s", got.Body)
	}
	btag := sipmsg.NewTag()
	ok := b.answer(got, 200, "OK", btag)
	ok.Set("Content-Type", "application/sdp")
	ok.Body = bm.offer("127.0.0.1", "sendrecv")
	b.send(ok)
	ok2 := a.expect(200, "INVITE")
	asees := audioOf(t, ok2)
	if asees.Host != "10.0.2.2" || asees.Port == bm.port() || asees.Port == bsees.Port {
		t.Fatalf("1001 was answered %s:%d, want its own relay socket on 10.0.2.2\n%s", asees.Host, asees.Port, ok2.Body)
	}
	rs := p.Relays()
	if len(rs) != 1 || rs[0].Ports != [2]int{asees.Port, bsees.Port} || rs[0].Hosts != [2]string{"10.0.2.2", "127.0.0.1"} {
		t.Fatalf("relays %+v, want ports %d and %d", rs, asees.Port, bsees.Port)
	}

	// Before 1001 sent anything: to its SDP's 10.0.2.2, read as 127.0.0.1.
	send(t, bm.rtp, []byte("rtp b1"), bsees.Port)
	expectPacket(t, am.rtp, []byte("rtp b1"), asees.Port)
	send(t, bm.rtcp, []byte("rtcp b1"), bsees.Port+1)
	expectPacket(t, am.rtcp, []byte("rtcp b1"), asees.Port+1)
	// 1001's packets leave its NAT from another port: latched.
	nat := newLegMedia(t)
	send(t, nat.rtp, []byte("rtp a1"), asees.Port)
	expectPacket(t, bm.rtp, []byte("rtp a1"), bsees.Port)
	send(t, nat.rtcp, []byte("rtcp a1"), asees.Port+1)
	expectPacket(t, bm.rtcp, []byte("rtcp a1"), bsees.Port+1)
	send(t, bm.rtp, []byte("rtp b2"), bsees.Port)
	expectPacket(t, nat.rtp, []byte("rtp b2"), asees.Port)
	send(t, bm.rtcp, []byte("rtcp b2"), bsees.Port+1)
	expectPacket(t, nat.rtcp, []byte("rtcp b2"), asees.Port+1)
	// Too long for the relay: dropped, the next one passes.
	send(t, nat.rtp, make([]byte, maxRelayPacket+1), asees.Port)
	send(t, nat.rtp, []byte("rtp a2"), asees.Port)
	expectPacket(t, bm.rtp, []byte("rtp a2"), bsees.Port)
	if rs := p.Relays(); rs[0].Dropped[callerLeg] != 1 || rs[0].Packets[callerLeg] != 4 {
		t.Errorf("from the caller: %d packets, %d dropped; want 4 and 1", rs[0].Packets[callerLeg], rs[0].Dropped[callerLeg])
	}

	// 1001 holds: the re-INVITE and its answer keep the relay's sockets.
	routes := reverse(ok2.GetAll("Record-Route"))
	target := mustNA(t, ok2.Get("Contact")).URI.String()
	ack := a.inDialog("ACK", a.seq, target, routes, inv.Get("From"), ok2.Get("To"))
	a.send(ack)
	b.expect(0, "ACK")
	a.seq++
	re := a.inDialog("INVITE", a.seq, target, routes, inv.Get("From"), ok2.Get("To"))
	re.Add("Contact", "<"+a.contact()+">")
	re.Set("Content-Type", "application/sdp")
	re.Body = am.offer("10.0.2.2", "sendonly")
	a.send(re)
	a.expect(100, "INVITE")
	gotRe := b.expect(0, "INVITE")
	if m := audioOf(t, gotRe); m.Port != bsees.Port || m.Direction != "sendonly" {
		t.Errorf("hold offer at 1002: port %d %s, want %d sendonly", m.Port, m.Direction, bsees.Port)
	}
	okRe := b.answer(gotRe, 200, "OK", "")
	okRe.Set("Content-Type", "application/sdp")
	okRe.Body = bm.offer("127.0.0.1", "recvonly")
	b.send(okRe)
	if m := audioOf(t, a.expect(200, "INVITE")); m.Port != asees.Port || m.Host != "10.0.2.2" {
		t.Errorf("hold answer at 1001: %s:%d, want 10.0.2.2:%d", m.Host, m.Port, asees.Port)
	}
	// Still latched to where 1001 sends from.
	send(t, bm.rtp, []byte("rtp b3"), bsees.Port)
	expectPacket(t, nat.rtp, []byte("rtp b3"), asees.Port)

	bye := b.inDialog("BYE", 1, target, got.GetAll("Record-Route"), ok2.Get("To"), inv.Get("From"))
	bye.Set("Call-ID", a.callID)
	bye.RequestURI = "sip:1001@10.0.2.15:5061"
	b.send(bye)
	a.expect(0, "BYE")
	if rs := p.Relays(); len(rs) != 0 {
		t.Fatalf("relays after BYE: %+v", rs)
	}
}

// TestRelayLateOffer: a NATed phone's INVITE without SDP gets a relay all
// the same; the callee's offer in the 200 and the caller's answer in the
// ACK are rewritten, and media crosses.
func TestRelayLateOffer(t *testing.T) {
	_, a, b := natPair(t)
	am, bm := newLegMedia(t), newLegMedia(t)
	inv, got := invite(t, a, b, "1002", nil)
	if len(got.Body) != 0 {
		t.Fatalf("INVITE body %q", got.Body)
	}
	ok := b.answer(got, 200, "OK", sipmsg.NewTag())
	ok.Set("Content-Type", "application/sdp")
	ok.Body = bm.offer("127.0.0.1", "sendrecv")
	b.send(ok)
	ok2 := a.expect(200, "INVITE")
	asees := audioOf(t, ok2)
	if asees.Host != "10.0.2.2" || asees.Port == bm.port() {
		t.Fatalf("offer in the 200 at 1001: %s:%d", asees.Host, asees.Port)
	}
	ack := a.inDialog("ACK", a.seq, mustNA(t, ok2.Get("Contact")).URI.String(), reverse(ok2.GetAll("Record-Route")), inv.Get("From"), ok2.Get("To"))
	ack.Set("Content-Type", "application/sdp")
	ack.Body = am.offer("10.0.2.2", "sendrecv")
	a.send(ack)
	bsees := audioOf(t, b.expect(0, "ACK"))
	if bsees.Host != "127.0.0.1" || bsees.Port == am.port() || bsees.Port == asees.Port {
		t.Fatalf("answer in the ACK at 1002: %s:%d", bsees.Host, bsees.Port)
	}
	send(t, bm.rtp, []byte("rtp b1"), bsees.Port)
	expectPacket(t, am.rtp, []byte("rtp b1"), asees.Port)
	send(t, am.rtp, []byte("rtp a1"), asees.Port)
	expectPacket(t, bm.rtp, []byte("rtp a1"), bsees.Port)
}

// TestRelayDirect: two phones on the loopback (SDP address = signalling
// source, the sim board) keep direct media: the offer reaches the callee
// as it was sent.
func TestRelayDirect(t *testing.T) {
	p, _ := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	a.register(3600)
	b.register(3600)
	am := newLegMedia(t)
	body := am.offer("127.0.0.1", "sendrecv")
	_, got := invite(t, a, b, "1002", body)
	if !bytes.Equal(got.Body, body) {
		t.Errorf("offer changed:\n%s\nwant\n%s", got.Body, body)
	}
	if rs := p.Relays(); len(rs) != 0 {
		t.Errorf("relays %+v", rs)
	}
}

// TestRelayEnds: a relay closes when the caller cancels, and after
// Config.MediaIdle without packets; with Config.MaxRelays in use a
// further NATed call keeps direct media.
func TestRelayEnds(t *testing.T) {
	p, _ := startPBXWith(t, Config{NoVoicemailFallback: true, MaxRelays: 1, MediaIdle: 300 * time.Millisecond})
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	pbxHost := "10.0.2.2:" + strconv.Itoa(p.Addr().Port)
	waitNone := func(why string) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); len(p.Relays()) != 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("relay still open after %s: %+v", why, p.Relays())
			}
		}
	}

	a := newPhone(t, p, "1001", "pw1001", "10.0.2.15", pbxHost)
	a.register(3600)
	inv, _ := invite(t, a, b, "1002", newLegMedia(t).offer("10.0.2.2", "sendrecv"))
	if len(p.Relays()) != 1 {
		t.Fatal("no relay for a NATed caller")
	}
	c := a.inDialog("CANCEL", a.seq, inv.RequestURI, nil, inv.Get("From"), inv.Get("To"))
	c.Set("Via", inv.Get("Via"))
	a.send(c)
	a.expect(200, "CANCEL")
	b.expect(0, "CANCEL")
	waitNone("CANCEL")

	// A new call, and a second one while it holds the only relay.
	a2 := newPhone(t, p, "1003", "pw1003", "10.0.2.15", pbxHost)
	a2.register(3600)
	first := newLegMedia(t).offer("10.0.2.2", "sendrecv")
	a.callID = sipmsg.NewCallID("test")
	invite(t, a, b, "1002", first)
	body := newLegMedia(t).offer("10.0.2.2", "sendrecv")
	_, got2 := invite(t, a2, b, "1002", body)
	if !bytes.Equal(got2.Body, body) {
		t.Errorf("a call beyond MaxRelays was anchored:\n%s", got2.Body)
	}
	if len(p.Relays()) != 1 {
		t.Errorf("relays %+v, want the first call's", p.Relays())
	}
	waitNone("MediaIdle")
}

// FuzzAnchorSDP: whatever anchorSDP accepts, it writes an SDP that parses
// again and names the relay for the audio stream.
func FuzzAnchorSDP(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.2.2\r\ns=-\r\nc=IN IP4 10.0.2.2\r\nt=0 0\r\nm=audio 10000 RTP/AVP 0\r\na=rtcp:10001\r\n"))
	f.Add([]byte("v=0\r\ns=-\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 8\r\nc=IN IP4 0.0.0.0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _, _, err := anchorSDP(b, "127.0.0.1", 20000)
		if err != nil {
			return
		}
		s, err := sdp.Parse(out)
		if err != nil {
			t.Fatalf("anchored SDP does not parse: %v\n%s", err, out)
		}
		found := false
		for _, m := range s.Media {
			found = found || m.Port == 20000
		}
		if !found {
			t.Fatalf("relay port missing:\n%s", out)
		}
	})
}
