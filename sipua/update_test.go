package sipua

import (
	"fmt"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// TestUpdateConfirmed: UPDATEs from the peer in a confirmed call (RFC
// 3311 section 5.2): with an offer, 200 with our answer and the event
// for the new remote session (our hold state kept, as for a re-INVITE);
// without one, 200 without a body and the Contact taken as the new
// remote target; an old CSeq, 500.
func TestUpdateConfirmed(t *testing.T) {
	ua, tr := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv, ok := peerCall(t, p, ua)
	tr.waitFor(t, "ACK")
	for i, tc := range []struct {
		dir, want string
		kind      EventKind
	}{{"sendonly", "recvonly", CallHeld}, {"sendrecv", "sendrecv", CallResumed}} {
		u := inDialog(inv, ok, "UPDATE", 2+i)
		u.Add("Content-Type", "application/sdp")
		u.Body = fmt.Appendf(nil, peerSDP, 2+i, tc.dir)
		p.send(u, ua.LocalAddr())
		r := readFinal(t, p, "UPDATE")
		if r.StatusCode != 200 || !strings.Contains(string(r.Body), "a="+tc.want) || r.Get("Contact") == "" {
			t.Fatalf("%s: %d %s", tc.dir, r.StatusCode, r.Body)
		}
		if e := expect(t, ua, tc.kind); e.Remote.Direction != tc.dir {
			t.Fatalf("%s: %v %+v", tc.dir, e.Kind, e.Remote)
		}
	}
	u := inDialog(inv, ok, "UPDATE", 4)
	u.Set("Contact", "<sip:moved@"+p.addr()+">")
	p.send(u, ua.LocalAddr())
	if r := readFinal(t, p, "UPDATE"); r.StatusCode != 200 || len(r.Body) != 0 {
		t.Fatalf("UPDATE without SDP: %d %q", r.StatusCode, r.Body)
	}
	p.send(inDialog(inv, ok, "UPDATE", 4), ua.LocalAddr())
	if r := readFinal(t, p, "UPDATE"); r.StatusCode != 500 {
		t.Fatalf("old CSeq: %d", r.StatusCode)
	}
	if err := ua.Hangup(1); err != nil {
		t.Fatal(err)
	}
	if bye, _ := readReq(t, p, "BYE"); bye.RequestURI != "sip:moved@"+p.addr() {
		t.Fatalf("BYE to %s, want the UPDATE's Contact", bye.RequestURI)
	}
}

// TestUpdateGlare: an UPDATE with an offer while our re-INVITE's offer is
// open gets 491; one without an offer, 200 (RFC 3311 section 5.2).
func TestUpdateGlare(t *testing.T) {
	ua, tr := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv, ok := peerCall(t, p, ua)
	tr.waitFor(t, "ACK")
	if err := ua.Hold(1, true); err != nil {
		t.Fatal(err)
	}
	readReq(t, p, "INVITE")
	u := inDialog(inv, ok, "UPDATE", 2)
	u.Add("Content-Type", "application/sdp")
	u.Body = fmt.Appendf(nil, peerSDP, 2, "sendonly")
	p.send(u, ua.LocalAddr())
	if r := readFinal(t, p, "UPDATE"); r.StatusCode != 491 {
		t.Fatalf("UPDATE with an offer during our re-INVITE: %d", r.StatusCode)
	}
	p.send(inDialog(inv, ok, "UPDATE", 3), ua.LocalAddr())
	if r := readFinal(t, p, "UPDATE"); r.StatusCode != 200 {
		t.Fatalf("UPDATE without an offer during our re-INVITE: %d", r.StatusCode)
	}
}

// TestUpdateEarly: UPDATEs in early dialogs (RFC 3311 section 5.1/5.2).
// As caller, our INVITE's offer is open: an offer gets 491, none 200
// (and the Contact is the early dialog's target). As callee, before
// Answer the INVITE's offer is unanswered: an offer gets 500 with
// Retry-After, none 200. Before any tagged provisional there is no
// dialog: 481.
func TestUpdateEarly(t *testing.T) {
	t.Run("caller", func(t *testing.T) {
		ua, _ := startUA(t, LineConfig{User: "1001"})
		p := newPeer(t)
		id, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU"))
		if err != nil {
			t.Fatal(err)
		}
		inv, from := readReq(t, p, "INVITE")
		ring := sipmsg.NewResponse(inv, 180, "")
		ring.Set("To", inv.Get("To")+";tag=e1")
		ring.Add("Contact", "<sip:1002@"+p.addr()+">")
		p.send(ring, from)
		expect(t, ua, CallProgress)
		u := calleeReq(inv, ring, p, "UPDATE", 1)
		u.Add("Content-Type", "application/sdp")
		u.Body = fmt.Appendf(nil, peerSDP, 1, "sendrecv")
		p.send(u, from)
		if r := readFinal(t, p, "UPDATE"); r.StatusCode != 491 {
			t.Fatalf("offer in the early dialog: %d", r.StatusCode)
		}
		u = calleeReq(inv, ring, p, "UPDATE", 2)
		u.Set("Contact", "<sip:early@"+p.addr()+">")
		p.send(u, from)
		if r := readFinal(t, p, "UPDATE"); r.StatusCode != 200 {
			t.Fatalf("UPDATE without an offer: %d", r.StatusCode)
		}
		_ = ua.do(func() error {
			if d := ua.calls[id].early["e1"]; d.RemoteTarget.User != "early" || d.RemoteSeq != 2 {
				t.Errorf("early dialog target %v seq %d", d.RemoteTarget, d.RemoteSeq)
			}
			return nil
		})
	})
	t.Run("callee", func(t *testing.T) {
		ua, _ := startUA(t, LineConfig{User: "1002"})
		p := newPeer(t)
		inv := peerInvite(p, ua, "", "1001", "p1", fmt.Appendf(nil, peerSDP, 1, "sendrecv"))
		p.send(inv, ua.LocalAddr())
		in := expect(t, ua, CallIncoming)
		early := func(r *sipmsg.Message) *sipmsg.Message { // the UA's To tag, once it rang
			u := inDialog(inv, r, "UPDATE", 2)
			u.Add("Content-Type", "application/sdp")
			u.Body = fmt.Appendf(nil, peerSDP, 2, "sendrecv")
			return u
		}
		notag := sipmsg.NewResponse(inv, 100, "")
		notag.Set("To", inv.Get("To")+";tag=nobody")
		p.send(early(notag), ua.LocalAddr())
		if r := readFinal(t, p, "UPDATE"); r.StatusCode != 481 {
			t.Fatalf("UPDATE before the 180: %d", r.StatusCode)
		}
		if err := ua.Ring(in.Call); err != nil {
			t.Fatal(err)
		}
		var ring *sipmsg.Message
		for ring == nil || ring.StatusCode != 180 {
			ring, _ = p.read()
		}
		p.send(early(ring), ua.LocalAddr())
		if r := readFinal(t, p, "UPDATE"); r.StatusCode != 500 || r.Get("Retry-After") == "" {
			t.Fatalf("offer before our answer: %d Retry-After %q", r.StatusCode, r.Get("Retry-After"))
		}
		p.send(inDialog(inv, ring, "UPDATE", 3), ua.LocalAddr())
		if r := readFinal(t, p, "UPDATE"); r.StatusCode != 200 {
			t.Fatalf("UPDATE without an offer: %d", r.StatusCode)
		}
	})
}

// TestLateOffer: an INVITE without a body is a late offer (RFC 3261
// 13.3.1.4): CallIncoming has no Remote, Answer puts our offer (all we
// can do) in the 200 and returns no media, the ACK's answer gives
// CallAnswered with the peer's media. An ACK without an answer ends the
// call with a BYE, Reason 488.
func TestLateOffer(t *testing.T) {
	for _, tc := range []struct {
		name string
		ack  []byte
	}{{"answer in the ACK", fmt.Appendf(nil, peerSDP, 1, "sendrecv")}, {"no answer", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			ua, _ := startUA(t, LineConfig{User: "1002"})
			p := newPeer(t)
			inv := peerInvite(p, ua, "", "1001", "p1", nil)
			p.send(inv, ua.LocalAddr())
			in := expect(t, ua, CallIncoming)
			if in.Remote != nil {
				t.Fatalf("late offer with Remote %+v", in.Remote)
			}
			rm, err := ua.Answer(in.Call, media(20000, "PCMU", "PCMA"))
			if err != nil || rm != nil {
				t.Fatalf("Answer: %+v %v", rm, err)
			}
			ok := readFinal(t, p, "INVITE")
			if ok.StatusCode != 200 || !strings.Contains(string(ok.Body), "m=audio 20000 RTP/AVP 0 8 101") || ok.Get("Content-Type") != "application/sdp" {
				t.Fatalf("200: %d %s", ok.StatusCode, ok.Body)
			}
			ack := inDialog(inv, ok, "ACK", 1)
			if tc.ack != nil {
				ack.Add("Content-Type", "application/sdp")
				ack.Body = tc.ack
			}
			p.send(ack, ua.LocalAddr())
			if tc.ack != nil {
				if e := expect(t, ua, CallAnswered); e.Remote == nil || e.Remote.Port != 4000 || e.Remote.Codecs[0] != "PCMU" {
					t.Fatalf("answered %+v", e.Remote)
				}
				return
			}
			bye, from := readReq(t, p, "BYE")
			if !strings.Contains(bye.Get("Reason"), "cause=488") {
				t.Fatalf("BYE Reason %q", bye.Get("Reason"))
			}
			p.send(sipmsg.NewResponse(bye, 200, ""), from)
			if e := expect(t, ua, CallEnded); e.Code != 488 {
				t.Fatalf("ended %+v", e)
			}
		})
	}
}

// TestAnswerWithoutSDP: a 200 without a body to our INVITE's offer (a
// broken peer): ACK, then BYE with Reason 488, CallEnded 488.
func TestAnswerWithoutSDP(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1001"})
	p := newPeer(t)
	if _, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	inv, from := readReq(t, p, "INVITE")
	p.send(okFor(inv, p, nil), from)
	readReq(t, p, "ACK")
	bye, _ := readReq(t, p, "BYE")
	if !strings.Contains(bye.Get("Reason"), "cause=488") {
		t.Fatalf("BYE Reason %q", bye.Get("Reason"))
	}
	p.send(sipmsg.NewResponse(bye, 200, ""), from)
	if e := expect(t, ua, CallEnded); e.Code != 488 {
		t.Fatalf("ended %+v", e)
	}
}

func TestOAStateString(t *testing.T) {
	for s, want := range map[oaState]string{oaStable: "stable", oaLocalOffer: "local-offer", oaRemoteOffer: "remote-offer", oaNone: "none"} {
		if s.String() != want {
			t.Errorf("%d: %s", s, s)
		}
	}
}
