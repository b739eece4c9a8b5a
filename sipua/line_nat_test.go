package sipua

import (
	"fmt"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestSippNATRebinding: SIPp as the registrar reports, in a refresh's
// 200, another rport than before (registrar_nat.xml): the phone registers
// again at once. Over UDP only: over TCP or TLS every connection has a
// new port, so the phone does not treat a new one as a rebinding.
func TestSippNATRebinding(t *testing.T) {
	port := testtool.Port(t)
	wait := sipp(t, "-sf", scenario("registrar_nat"), "-p", fmt.Sprint(port))
	ua, _ := startUA(t, LineConfig{User: "1001", Registrar: fmt.Sprintf("127.0.0.1:%d", port), Expires: 10})
	if e := expect(t, ua, RegChanged); e.RegState != Registered {
		t.Fatalf("%+v", e)
	}
	// The refresh comes at 5 s and the rebinding's re-REGISTER at once
	// after it (SIPp's scenario fails if it is late): wait for the third
	// REGISTER to be sent, bounded.
	for end := time.Now().Add(12 * time.Second); ; {
		var seq uint32
		_ = ua.do(func() error { seq = ua.lines[0].regSeq; return nil })
		if seq >= 3 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the phone sent %d REGISTERs in 12 s, want 3", seq)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := ua.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}
