package sipua

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// A re-INVITE that reaches the phone before the ACK of its 200 (RFC 5407
// 3.1.4; Kamailio's workers relayed the ACK and a hold so in an interop
// run): served at once when the INVITE's offer/answer is done, 491 when
// the ACK still has to bring the answer to the phone's offer.

// lateOKs counts the 200s to CSeq 1 INVITE the phone sends after it has
// received the ACK with CSeq 1.
type lateOKs struct{ acked, late atomic.Int32 }

func (l *lateOKs) fn(td TraceDir, _ string, _ *net.UDPAddr, b []byte) {
	m, err := sipmsg.Parse(b)
	if err != nil {
		return
	}
	seq, method, _ := m.CSeq()
	switch {
	case seq != 1:
	case td == TraceRecv && m.Method == "ACK":
		l.acked.Store(1)
	case td == TraceSend && m.StatusCode == 200 && method == "INVITE" && l.acked.Load() == 1:
		l.late.Add(1)
	}
}

func startLateOKs(t *testing.T) (*UA, *lateOKs) {
	t.Helper()
	l := &lateOKs{}
	return startUAWith(t, Config{Lines: []LineConfig{{User: "1002"}}, Trace: l.fn}), l
}

// TestSippReInviteBeforeAck: SIPp's hold re-INVITE comes before its ACK
// of the phone's 200; the phone answers it 200 with a=recvonly (SIPp
// checks the wire), reports CallHeld, and the ACK that follows (CSeq 1)
// still confirms the call: no 200 to the INVITE after it, through a pause
// longer than the retransmission interval.
func TestSippReInviteBeforeAck(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			ua, l := startLateOKs(t)
			wait := sippUAC(t, tr, "uac_reinvite_before_ack", ua)
			in := expect(t, ua, CallIncoming)
			if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
				t.Fatal(err)
			}
			expect(t, ua, CallAnswered)
			if e := expect(t, ua, CallHeld); e.Remote.Direction != "sendonly" {
				t.Fatalf("held %+v", e.Remote)
			}
			if e := expect(t, ua, CallEnded); e.Code != 200 {
				t.Fatalf("ended %+v", e)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			if l.acked.Load() != 1 || l.late.Load() != 0 {
				t.Fatalf("ACK of the 200 received %v, 200s sent after it %d", l.acked.Load() == 1, l.late.Load())
			}
		})
	}
}

// TestSippReInviteBeforeLateAck: the phone's 200 offers (the INVITE had
// none) and SIPp's re-INVITE with an offer comes before the ACK with the
// answer: 491 (SIPp expects it); the ACK then confirms the call with
// SIPp's answer, and SIPp's retried hold gets 200 with a=recvonly.
func TestSippReInviteBeforeLateAck(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			ua, l := startLateOKs(t)
			wait := sippUAC(t, tr, "uac_reinvite_before_lateack", ua)
			in := expect(t, ua, CallIncoming)
			if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
				t.Fatal(err)
			}
			if e := expect(t, ua, CallAnswered); e.Remote == nil || e.Remote.Codecs[0] != "PCMU" {
				t.Fatalf("answered %+v", e.Remote)
			}
			if e := expect(t, ua, CallHeld); e.Remote.Direction != "sendonly" {
				t.Fatalf("held %+v", e.Remote)
			}
			if e := expect(t, ua, CallEnded); e.Code != 200 {
				t.Fatalf("ended %+v", e)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			if l.late.Load() != 0 {
				t.Fatalf("%d 200s to the INVITE sent after its ACK", l.late.Load())
			}
		})
	}
}
