package sipua

import "testing"

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
