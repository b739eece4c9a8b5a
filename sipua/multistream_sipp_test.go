package sipua

import (
	"fmt"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestSippMultiStream: SIPp offers audio, video and T.38 (the answer has
// one line per offered line, video and image at port 0), then RTP/SAVP
// only (488 with Warning 305, and the phone never rings):
// uac_multistream.xml checks both on the wire, over UDP and TCP.
func TestSippMultiStream(t *testing.T) {
	for _, tr := range sippTransports {
		t.Run(tr.sipp, func(t *testing.T) {
			ua, _ := startUA(t, LineConfig{User: "1002"})
			wait := sipp(t, "-t", tr.sipp, "-sf", scenario("uac_multistream"), "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
			in := expect(t, ua, CallIncoming)
			if in.Remote == nil || in.Remote.Codecs[0] != "PCMU" {
				t.Fatalf("offer %+v", in.Remote)
			}
			if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
				t.Fatal(err)
			}
			expect(t, ua, CallAnswered)
			ended := make(chan Event, 1)
			go func() { ended <- <-ua.Events() }()
			if err := wait(); err != nil { // SIPp has checked the answer and hung up
				t.Fatal(err)
			}
			if e := <-ended; e.Kind != CallEnded || e.Code != 200 {
				t.Fatalf("ended %+v", e)
			}
			select { // the SRTP-only offer: refused without ringing
			case e := <-ua.Events():
				t.Fatalf("event for the RTP/SAVP offer: %+v", e)
			default:
			}
		})
	}
}
