package sipua

import (
	"errors"
	"reflect"
	"testing"

	"github.com/deskphone/deskphone/sipua/sdp"
)

// TestAnswered: which answers to the phone's offer start a stream (RFC
// 3264 section 6), the same for a 2xx and an 18x with early media.
func TestAnswered(t *testing.T) {
	offer, err := media(10000, "PCMU", "PCMA").session(1, SRTPOff)
	if err != nil {
		t.Fatal(err)
	}
	sess := func(m string) sdp.Session {
		s, err := sdp.Parse([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n" + m +
			"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:9 G722/8000\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		answer sdp.Session
		want   *Media // nil: refused (sdp.ErrBadAnswer)
	}{
		{"pcma", sess("m=audio 4000 RTP/AVP 8 101\r\n"),
			&Media{Host: "192.0.2.5", Port: 4000, Codecs: []string{"PCMA"}, Ptime: 20, TelephoneEvent: 101, Direction: "sendrecv"}},
		{"first offered codec of the answer", sess("m=audio 4000 RTP/AVP 9 0\r\n"),
			&Media{Host: "192.0.2.5", Port: 4000, Codecs: []string{"PCMU"}, Ptime: 20, Direction: "sendrecv"}},
		{"proto in another case", sess("m=audio 4000 rtp/avp 0\r\n"),
			&Media{Host: "192.0.2.5", Port: 4000, Codecs: []string{"PCMU"}, Ptime: 20, Direction: "sendrecv"}},
		{"no usable codec", sess("m=audio 4000 RTP/AVP 9 101\r\n"), nil},
		{"stream rejected", sess("m=audio 0 RTP/AVP 0\r\n"), nil},
		{"srtp", sess("m=audio 4000 RTP/SAVP 0\r\n"), nil},
		{"dtls-srtp", sess("m=audio 4000 UDP/TLS/RTP/SAVPF 0\r\n"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := answered(offer, tc.answer)
			if tc.want == nil {
				if !errors.Is(err, sdp.ErrBadAnswer) {
					t.Fatalf("answered = %+v, %v; want sdp.ErrBadAnswer", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("answered = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
