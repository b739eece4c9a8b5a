package sipua

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// SIPp scenarios for reliable provisional responses (RFC 3262), each over
// UDP and TCP: SIPp checks the phone's messages on the wire (ereg with
// check_it in testdata/sipp/*prack*.xml) and fails, and so the test, on
// any that is not as the RFC says.

// TestSippPrackCaller: the phone calls SIPp, which sends a reliable 180
// and a reliable 183 with SDP (uas_prack.xml checks each PRACK's RAck,
// To tag, Request-URI and CSeq, the ACK's and the BYE's CSeq). The phone
// reports both, the 183 with SIPp's media as early media, and takes the
// 183's SDP as the answer of the 200 that has none.
func TestSippPrackCaller(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			to, wait := sippUAS(t, tr, "uas_prack")
			ua, _ := startUA(t, LineConfig{User: "1001"})
			id, err := ua.Dial(1, to, media(10000, "PCMU"))
			if err != nil {
				t.Fatal(err)
			}
			if e := expect(t, ua, CallProgress); e.Code != 180 || e.Remote != nil {
				t.Fatalf("progress %+v", e)
			}
			early := expect(t, ua, CallProgress)
			if early.Code != 183 || early.Remote == nil || early.Remote.Codecs[0] != "PCMU" {
				t.Fatalf("183 progress %+v %+v", early, early.Remote)
			}
			if e := expect(t, ua, CallAnswered); e.Remote.Port != early.Remote.Port || e.Remote.Host != early.Remote.Host {
				t.Fatalf("answered %+v, the 183 said %+v", e.Remote, early.Remote)
			}
			hangUp(t, ua, id, wait)
		})
	}
}

// TestSippPrackCallee: SIPp calls with Require: 100rel; the phone rings
// and answers at once. uac_prack.xml checks the 180 is reliable, PRACKs
// it, and checks the 200 of the INVITE comes after the PRACK's. The
// retrans scenarios first leave the 180 unPRACKed: over TCP SIPp checks
// each retransmission's RSeq (uac_prack_retrans.xml); over UDP SIPp
// absorbs byte-identical retransmissions itself (uac_prack_retrans_udp.xml),
// so the test counts them on the phone's side: at least two, each the
// first 180 byte for byte, before the PRACK.
func TestSippPrackCallee(t *testing.T) {
	for _, tc := range []struct{ scenario, sipp string }{
		{"uac_prack", "u1"}, {"uac_prack", "t1"},
		{"uac_prack_retrans_udp", "u1"}, {"uac_prack_retrans", "t1"},
	} {
		t.Run(tc.scenario+"/"+tc.sipp, func(t *testing.T) {
			ua, w := startUACfg(t, Config{Lines: []LineConfig{{User: "1002"}}})
			wait := sipp(t, "-t", tc.sipp, "-sf", scenario(tc.scenario), "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
			in := expect(t, ua, CallIncoming)
			if err := ua.Ring(in.Call); err != nil {
				t.Fatal(err)
			}
			if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
				t.Fatal(err)
			}
			expect(t, ua, CallAnswered)
			if e := expect(t, ua, CallEnded); e.Code != 200 {
				t.Fatalf("ended %+v", e)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			if tc.scenario == "uac_prack" {
				return
			}
			var first string
			n := 0
			w.mu.Lock()
			defer w.mu.Unlock()
			for _, m := range w.msgs {
				if strings.HasPrefix(m, "recv PRACK ") {
					break
				}
				if strings.HasPrefix(m, "send SIP/2.0 180 ") {
					if first == "" {
						first = m
					} else if m != first {
						t.Fatalf("retransmitted 180 differs:\n%s\nfirst:\n%s", m, first)
					}
					n++
				}
			}
			if n < 3 {
				t.Fatalf("the 180 went %d times before the PRACK, want it retransmitted at least twice", n)
			}
		})
	}
}

// TestSippPrackTimer: 100rel, session timers and UPDATE in one call. The
// phone calls SIPp with session timers on (Session-Expires 2, Min-SE 1);
// SIPp answers with a reliable 183 with SDP, then a 200 without SDP that
// makes the phone the refresher and allows UPDATE. uas_prack_timer.xml
// checks on the wire the INVITE's Supported (100rel, timer),
// Session-Expires and Min-SE, the PRACK's RAck and CSeq (2), the refresh
// UPDATE a second later (no body, Session-Expires: 2;refresher=uac, CSeq
// 3, the dialog's next after the PRACK) and the BYE's CSeq (4). The test
// checks the 183's SDP is early media and the answer, and hangs up once
// the UPDATE's 200 is in.
func TestSippPrackTimer(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			to, wait := sippUAS(t, tr, "uas_prack_timer")
			var oks atomic.Int32
			ua := startTimerUA(t, 2, 1, okCounter("UPDATE", &oks), LineConfig{User: "1001"})
			id, err := ua.Dial(1, to, media(10000, "PCMU"))
			if err != nil {
				t.Fatal(err)
			}
			early := expect(t, ua, CallProgress)
			if early.Code != 183 || early.Remote == nil || early.Remote.Codecs[0] != "PCMU" {
				t.Fatalf("183 progress %+v %+v", early, early.Remote)
			}
			if e := expect(t, ua, CallAnswered); e.Remote.Port != early.Remote.Port || e.Remote.Host != early.Remote.Host {
				t.Fatalf("answered %+v, the 183 said %+v", e.Remote, early.Remote)
			}
			waitUntil(t, func() bool { return oks.Load() >= 1 })
			hangUp(t, ua, id, wait)
		})
	}
}
