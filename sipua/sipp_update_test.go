package sipua

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// SIPp scenarios for UPDATE (RFC 3311), session timers (RFC 4028) and the
// late offer, each over UDP and TCP: SIPp checks the phone's messages on
// the wire (the eregs of each scenario), the test the phone's events.

// okCounter counts the 2xx responses the phone receives to its requests
// of method.
func okCounter(method string, n *atomic.Int32) func(TraceDir, string, *net.UDPAddr, []byte) {
	return func(td TraceDir, _ string, _ *net.UDPAddr, b []byte) {
		dir := td.String()
		if dir != "recv" {
			return
		}
		if m, err := sipmsg.Parse(b); err == nil && m.StatusCode == 200 {
			if _, meth, _ := m.CSeq(); meth == method {
				n.Add(1)
			}
		}
	}
}

// TestSippSessionTimer: the phone calls SIPp with session timers on.
// uas_timer_update: SIPp's 2xx makes the phone the refresher and allows
// UPDATE: two refreshes by UPDATE; uas_timer_reinvite: no UPDATE in its
// Allow: the refresh is a re-INVITE with SDP; uas_timer_422: a 422 with
// Min-SE 120 is followed with Session-Expires 120.
func TestSippSessionTimer(t *testing.T) {
	for _, sc := range []struct {
		file            string
		interval, minSE int
		method          string
		oks             int32 // 2xx to method before hanging up
	}{
		{"uas_timer_update", 2, 1, "UPDATE", 2},
		{"uas_timer_reinvite", 2, 1, "INVITE", 2},
		{"uas_timer_422", 90, 90, "INVITE", 1},
	} {
		for _, tr := range sippTransports {
			t.Run(sc.file+"/"+tr.sipp, func(t *testing.T) {
				to, wait := sippUAS(t, tr, sc.file)
				var oks atomic.Int32
				ua := startTimerUA(t, sc.interval, sc.minSE, okCounter(sc.method, &oks), LineConfig{User: "1001"})
				id, err := ua.Dial(1, to, media(10000, "PCMU"))
				if err != nil {
					t.Fatal(err)
				}
				expect(t, ua, CallAnswered)
				waitUntil(t, func() bool { return oks.Load() >= sc.oks })
				hangUp(t, ua, id, wait)
			})
		}
	}
}

// TestSippLateOffer: SIPp's INVITE has no body; the phone's 200 offers
// (checked by uac_lateoffer.xml), SIPp's ACK answers, SIPp hangs up.
func TestSippLateOffer(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			ua, _ := startUA(t, LineConfig{User: "1002"})
			wait := sipp(t, "-t", tr.sipp, "-sf", scenario("uac_lateoffer"), "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
			in := expect(t, ua, CallIncoming)
			if in.Remote != nil {
				t.Fatalf("late offer with Remote %+v", in.Remote)
			}
			if rm, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil || rm != nil {
				t.Fatalf("Answer: %+v %v", rm, err)
			}
			if e := expect(t, ua, CallAnswered); e.Remote == nil || e.Remote.Codecs[0] != "PCMU" || e.Remote.Port == 0 {
				t.Fatalf("answered %+v", e.Remote)
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

// TestSippUpdate: SIPp sends UPDATE with an offer and without one in a
// confirmed call (uac_update.xml checks the answers); then, while the
// phone's hold re-INVITE is open, an UPDATE with an offer that must get
// 491 (uac_update_glare.xml).
func TestSippUpdate(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run("update/"+tr.sipp, func(t *testing.T) {
			ua, _ := startUA(t, LineConfig{User: "1002"})
			wait := sipp(t, "-t", tr.sipp, "-sf", scenario("uac_update"), "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
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
		})
		t.Run("glare/"+tr.sipp, func(t *testing.T) {
			ua, _ := startUA(t, LineConfig{User: "1002"})
			wait := sipp(t, "-t", tr.sipp, "-sf", scenario("uac_update_glare"), "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
			in := expect(t, ua, CallIncoming)
			if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
				t.Fatal(err)
			}
			expect(t, ua, CallAnswered)
			if err := ua.Hold(in.Call, true); err != nil {
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
