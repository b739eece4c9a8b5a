package sipua

import (
	"strings"
	"testing"

	"github.com/deskphone/deskphone/sipua/sdp"
)

// TestWidebandOfferAnswer: audio.codecs' order is the offer's (G.722 as
// payload type 9 with its 8000 Hz rtpmap, RFC 3551 4.5.2), and an answer
// takes the first codec of the phone's preference that the offer has,
// whatever the offer's order (RFC 3264 6.1 leaves the choice to the
// answerer; the phone's preference is the operator's).
func TestWidebandOfferAnswer(t *testing.T) {
	offer, err := media(10000, "G722", "PCMU", "PCMA").session(1, SRTPOff)
	if err != nil {
		t.Fatal(err)
	}
	b := string(offer.Marshal())
	for _, want := range []string{"m=audio 10000 RTP/AVP 9 0 8 101\r\n", "a=rtpmap:9 G722/8000\r\n"} {
		if !strings.Contains(b, want) {
			t.Errorf("offer lacks %q:\n%s", want, b)
		}
	}
	peer := func(m string) sdp.Session {
		s, err := sdp.Parse([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n" + m +
			"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		local  []string
		offer  string
		chosen string
	}{
		{"G.722 preferred, offered last", []string{"G722", "PCMU", "PCMA"}, "m=audio 4000 RTP/AVP 0 8 9 101\r\n", "G722"},
		{"G.711 preferred", []string{"PCMU", "G722"}, "m=audio 4000 RTP/AVP 9 0 101\r\n", "PCMU"},
		{"no G.722 offered", []string{"G722", "PCMA"}, "m=audio 4000 RTP/AVP 0 8\r\n", "PCMA"},
		{"G.722 only", []string{"G722", "PCMU", "PCMA"}, "m=audio 4000 RTP/AVP 9\r\n", "G722"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := peer(tc.offer)
			if err := servable(o, SRTPOff); err != nil {
				t.Fatalf("offer not servable: %v", err)
			}
			local, err := media(20000, tc.local...).session(1, SRTPOff)
			if err != nil {
				t.Fatal(err)
			}
			ans, err := sdp.Answer(o, local)
			if err != nil {
				t.Fatal(err)
			}
			m := negotiated(o, ans)
			if m.Codecs[0] != tc.chosen {
				t.Fatalf("chose %v, want %s", m.Codecs, tc.chosen)
			}
			if tc.chosen == "G722" && !strings.Contains(string(ans.Marshal()), "a=rtpmap:9 G722/8000\r\n") {
				t.Fatalf("answer lacks G.722's rtpmap:\n%s", ans.Marshal())
			}
		})
	}
	// Our G.722 offer answered with G.722.
	m, err := answered(offer, peer("m=audio 4000 RTP/AVP 9 101\r\n"))
	if err != nil || m.Codecs[0] != "G722" {
		t.Fatalf("answered: %v, %v", m, err)
	}
}
