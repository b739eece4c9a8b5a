package sipua

import (
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// TestSippInDialogAuth: SIPp as the far end of a call challenges the
// phone's re-INVITE with 407 and its BYE with 401, and checks the re-sent
// requests on the wire (uas_auth_indialog.xml: the digest, nc, the
// dialog's next CSeq), over UDP and TCP. The one request sender answers
// both, as it does REGISTER and the initial INVITE.
func TestSippInDialogAuth(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			to, wait := sippUAS(t, tr, "uas_auth_indialog")
			ua, _ := startUA(t, LineConfig{User: "1001", Password: "secret"})
			id, err := ua.Dial(1, to, media(10000, "PCMU"))
			if err != nil {
				t.Fatal(err)
			}
			expect(t, ua, CallAnswered)
			if err := ua.Hold(id, true); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, func() bool {
				held := false
				_ = ua.do(func() error {
					c := ua.calls[id]
					held = c != nil && c.held && c.reinvTx == nil
					return nil
				})
				return held
			})
			hangUp(t, ua, id, wait)
		})
	}
}

// TestCloseByeChallenged: Close hangs up a call with a BYE, and the line's
// outbound proxy challenges it (407, as Kamailio does with
// WITH_DIALOG_AUTH): the phone re-sends it with credentials and the
// dialog's next CSeq before it stops, within Close's wait, so that the far
// end's call ends too. (Close used to stop once the lines were
// unregistered, here at once: the 407 came too late.)
func TestCloseByeChallenged(t *testing.T) {
	p := newPeer(t) // the caller and the outbound proxy both
	ua, _ := startUA(t, LineConfig{User: "1002", Password: "pw1002", OutboundProxy: p.addr()})
	peerCall(t, p, ua)
	closed := make(chan struct{})
	go func() {
		ua.Close()
		close(closed)
	}()
	bye, from := readReq(t, p, "BYE")
	seq, _, _ := bye.CSeq()
	p.send(peerReply(p, bye, 407, "", func(r *sipmsg.Message) {
		r.Add("Proxy-Authenticate", `Digest realm="proxy.test", nonce="close1", qop="auth"`)
	}), from)
	for {
		again, from := readReq(t, p, "BYE")
		if s, _, _ := again.CSeq(); s == seq {
			continue // a retransmission of the first
		} else if s != seq+1 || !strings.Contains(again.Get("Proxy-Authorization"), `nonce="close1"`) {
			t.Fatalf("BYE re-sent with CSeq %d (want %d) and Proxy-Authorization %q", s, seq+1, again.Get("Proxy-Authorization"))
		}
		p.send(peerReply(p, again, 200, "", nil), from)
		break
	}
	select {
	case <-closed:
	case <-time.After(deadline):
		t.Fatal("Close did not return")
	}
	if e := expect(t, ua, CallEnded); e.Code != 200 {
		t.Fatalf("ended %+v", e)
	}
}
