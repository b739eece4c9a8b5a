package sipua

import (
	"fmt"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// TestBrokenPeer2xx: a 2xx without a To tag, or without a Contact, to the
// phone's INVITE still gives a working dialog (12.1.2): the 2xx is ACKed,
// the call is answered, and both the phone's BYE and the peer's reach the
// other side and end the call.
func TestBrokenPeer2xx(t *testing.T) {
	for _, tc := range []struct {
		name           string
		toTag, contact bool
		peerHangsUp    bool
	}{
		{"no To tag, phone hangs up", false, true, false},
		{"no To tag, peer hangs up", false, true, true},
		{"no Contact", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ua, _ := startUA(t, LineConfig{User: "1001"})
			p := newPeer(t)
			id, err := ua.Dial(1, "sip:1002@"+p.addr(), media(10000, "PCMU"))
			if err != nil {
				t.Fatal(err)
			}
			inv, from := readReq(t, p, "INVITE")
			ok := sipmsg.NewResponse(inv, 200, "")
			if tc.toTag {
				ok.Set("To", inv.Get("To")+";tag=b2543")
			}
			if tc.contact {
				ok.Add("Contact", "<sip:1002@"+p.addr()+">")
			}
			ok.Add("Content-Type", "application/sdp")
			ok.Body = fmt.Appendf(nil, peerSDP, 1, "sendrecv")
			p.send(ok, from)
			ack, _ := readReq(t, p, "ACK")
			if ack.RequestURI != "sip:1002@"+p.addr() || ack.Get("To") != ok.Get("To") {
				t.Fatalf("ACK %s to %q, To %q", ack.Method, ack.RequestURI, ack.Get("To"))
			}
			expect(t, ua, CallAnswered)
			if !tc.peerHangsUp {
				if err := ua.Hangup(id); err != nil {
					t.Fatal(err)
				}
				bye, from := readReq(t, p, "BYE")
				if bye.Get("To") != ok.Get("To") || bye.Get("Call-ID") != inv.Get("Call-ID") {
					t.Fatalf("BYE To %q Call-ID %q", bye.Get("To"), bye.Get("Call-ID"))
				}
				p.send(sipmsg.NewResponse(bye, 200, ""), from)
			} else {
				bye := sipmsg.NewRequest("BYE", strings.Trim(inv.Get("Contact"), "<>"))
				bye.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+sipmsg.NewBranch()+";rport")
				bye.Add("From", inv.Get("To")) // no tag: the 2xx had none
				bye.Add("To", inv.Get("From"))
				bye.Add("Call-ID", inv.Get("Call-ID"))
				bye.Add("CSeq", "1 BYE")
				p.send(bye, from)
				if r := readFinal(t, p, "BYE"); r.StatusCode != 200 {
					t.Fatalf("the peer's BYE got %d", r.StatusCode)
				}
			}
			if e := expect(t, ua, CallEnded); e.Code != 200 {
				t.Fatalf("ended %+v", e)
			}
		})
	}
}

// TestSippNoToTag: SIPp answers without a To tag (uas_no_totag.xml checks
// the ACK and the BYE come in the dialog, To without a tag), over UDP and
// TCP.
func TestSippNoToTag(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			to, wait := sippUAS(t, tr, "uas_no_totag")
			ua, _ := startUA(t, LineConfig{User: "1001"})
			id, err := ua.Dial(1, to, media(10000, "PCMU"))
			if err != nil {
				t.Fatal(err)
			}
			expect(t, ua, CallAnswered)
			hangUp(t, ua, id, wait)
		})
	}
}
