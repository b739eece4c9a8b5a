package sipua

import (
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// SIPp scenarios for the robustness cases (RFC 4475 3.3.2, 3.3.3, 3.3.6,
// OPTIONS, MESSAGE, the ring timeout, ACKs with the INVITE's branch), each
// run over UDP and over TCP (SIPp -t u1 / -t t1; the UA listens on TCP at
// its UDP port). The scenarios check the wire: status codes and, with
// <ereg check_it="true">, the headers that must be there; an answer to an
// ACK would be an unexpected message, which fails the scenario.

// TestSippTorture: uac_torture.xml sends RFC 4475's unkscm (3.3.2) and
// novelsc (3.3.3), which get 416, invut (3.3.6), which gets 415 with
// Accept: application/sdp, and a gzip-encoded SDP offer, which gets 415
// with Accept-Encoding: identity; the ACKs of the 415s get no answer. No
// call is created.
func TestSippTorture(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			ua, w := robustUA(t, Config{}, 0)
			if err := sippUAC(t, tr, "uac_torture", ua)(); err != nil {
				t.Fatal(err)
			}
			if n := len(w.all("recv", "ACK")); n != 2 {
				t.Fatalf("%d ACKs received, want 2", n)
			}
			for _, what := range []string{"416 OPTIONS", "415 INVITE"} {
				if n := len(w.all("send", what)); n != 2 {
					t.Fatalf("%s sent %d times, want 2 (no retransmission answers an ACK)", what, n)
				}
			}
			noEvent(t, ua)
		})
	}
}

// noEvent checks that the UA has reported nothing (it runs after the
// scenario, so anything it would have reported is there).
func noEvent(t *testing.T, ua *UA) {
	t.Helper()
	if err := ua.do(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-ua.Events():
		t.Fatalf("unexpected event %v %+v", e.Kind, e)
	default:
	}
}

// TestSippOptions: uac_options.xml checks the 200's Allow (with MESSAGE),
// Accept (application/sdp, text/plain) and Supported (replaces).
func TestSippOptions(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			ua, _ := robustUA(t, Config{}, 0)
			if err := sippUAC(t, tr, "uac_options", ua)(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSippMessage: uac_message.xml sends a MESSAGE in an answered call's
// dialog (200, MessageReceived with the call), one outside any dialog
// (200 with a To tag, MessageReceived from "Front desk" 1001) and one in
// text/html (415 with Accept: text/plain, nothing reported).
func TestSippMessage(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			ua, _ := robustUA(t, Config{}, 0)
			wait := sippUAC(t, tr, "uac_message", ua)
			in := expect(t, ua, CallIncoming)
			if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
				t.Fatal(err)
			}
			expect(t, ua, CallAnswered)
			if e := expect(t, ua, MessageReceived); e.Call != in.Call || e.Text != "in the call" || e.Line != 1 || e.Peer != "sipp" {
				t.Fatalf("message in the call %+v", e)
			}
			expect(t, ua, CallEnded)
			if e := expect(t, ua, MessageReceived); e.Call != 0 || e.Text != "hello" || e.Peer != "Front desk" || e.Number != "1001" {
				t.Fatalf("message %+v", e)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			noEvent(t, ua)
		})
	}
}

// TestSippAckWithInviteBranch: uac_ack_branch.xml ACKs the 200 of its
// INVITE and of an offerless re-INVITE with the INVITE's own Via and
// branch. Each ACK is taken: each 200 goes out once (no retransmission in
// the 1.7 s pauses), the call stays up until SIPp's BYE, and the answer
// in the second ACK (port 6006) is taken.
func TestSippAckWithInviteBranch(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			ua, w := robustUA(t, Config{}, 0)
			wait := sippUAC(t, tr, "uac_ack_branch", ua)
			in := expect(t, ua, CallIncoming)
			if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
				t.Fatal(err)
			}
			expect(t, ua, CallAnswered)
			if e := expect(t, ua, CallAnswered); e.Remote.Port != 6006 {
				t.Fatalf("the answer in the ACK: %+v", e.Remote)
			}
			if e := expect(t, ua, CallEnded); e.Code != 200 {
				t.Fatalf("ended %+v", e)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			invs, acks := w.all("recv", "INVITE"), w.all("recv", "ACK")
			if len(invs) != 2 || len(acks) != 2 {
				t.Fatalf("%d INVITEs, %d ACKs", len(invs), len(acks))
			}
			for i := range invs {
				if bi, ba := branch(invs[i]), branch(acks[i]); bi != ba {
					t.Fatalf("ACK %d branch %q, INVITE's %q: the scenario does not reuse it", i, ba, bi)
				}
			}
			if n := len(w.all("send", "200 INVITE")); n != 2 {
				t.Fatalf("200 to INVITE sent %d times, want 2 (one each, no retransmission)", n)
			}
		})
	}
}

func branch(m *sipmsg.Message) string {
	v, _ := sipmsg.ParseVia(m.Get("Via"))
	return v.Branch()
}

// TestSippRingTimeout: uac_ring_timeout.xml rings the phone and vanishes
// without a CANCEL; on the wire it sees the 180 twice (the refresh of RFC
// 3261 13.3.1.1) and a 480 after the ring timeout, and ACKs it. The call
// ends CallEnded 480.
func TestSippRingTimeout(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			ua, w := robustUA(t, Config{RingTimeout: 900 * time.Millisecond}, 500*time.Millisecond)
			wait := sippUAC(t, tr, "uac_ring_timeout", ua)
			in := expect(t, ua, CallIncoming)
			if err := ua.Ring(in.Call); err != nil {
				t.Fatal(err)
			}
			if e := expect(t, ua, CallEnded); e.Code != 480 || e.Call != in.Call {
				t.Fatalf("ended %+v", e)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			if n := len(w.all("send", "180 INVITE")); n != 2 {
				t.Fatalf("sent 180 %d times, want 2", n)
			}
		})
	}
}
