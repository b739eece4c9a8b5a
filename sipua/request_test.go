package sipua

import (
	"fmt"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestSippInDialogAuth: SIPp as the far end of a call challenges the
// phone's re-INVITE with 407 and its BYE with 401, and checks the re-sent
// requests on the wire (uas_auth_indialog.xml: the digest, nc, the
// dialog's next CSeq), over UDP and TCP. The one request sender answers
// both, as it does REGISTER and the initial INVITE.
func TestSippInDialogAuth(t *testing.T) {
	for _, tr := range []struct{ sipp, uri string }{{"u1", ""}, {"t1", ";transport=tcp"}} {
		t.Run(tr.sipp, func(t *testing.T) {
			port := testtool.Port(t)
			wait := sipp(t, "-t", tr.sipp, "-sf", scenario("uas_auth_indialog"), "-p", fmt.Sprint(port))
			ua, _ := startUA(t, LineConfig{User: "1001", Password: "secret"})
			if tr.sipp == "t1" {
				waitListening(t, port)
			}
			id, err := ua.Dial(1, fmt.Sprintf("sip:service@127.0.0.1:%d%s", port, tr.uri), media(10000, "PCMU"))
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
			if err := ua.Hangup(id); err != nil {
				t.Fatal(err)
			}
			if e := expect(t, ua, CallEnded); e.Code != 200 {
				t.Fatalf("ended %+v", e)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
