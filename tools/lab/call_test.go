package lab

import (
	"net"
	"testing"

	"github.com/deskphone/deskphone/tools/pbx"
)

// TestCheckSteps runs the eight-step check over hand-made ladders: the
// usual order, B's 100 logged after its 180 (a proxy may log them so), and
// a ladder missing the ACK.
func TestCheckSteps(t *testing.T) {
	a := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5001}
	b := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5002}
	e := func(dir string, peer *net.UDPAddr, summary, method string) pbx.Entry {
		return pbx.Entry{Dir: dir, Peer: peer, Summary: summary, Method: method}
	}
	usual := []pbx.Entry{
		e("in", a, "INVITE sip:1002@pbx", "INVITE"),
		e("out", a, "100 Trying", "INVITE"),
		e("out", b, "INVITE sip:1002@10.0.2.15", "INVITE"),
		e("in", b, "100 Trying", "INVITE"),
		e("in", b, "180 Ringing", "INVITE"),
		e("out", a, "180 Ringing", "INVITE"),
		e("in", b, "200 OK", "INVITE"),
		e("out", a, "200 OK", "INVITE"),
		e("in", a, "ACK sip:1002@10.0.2.15", "ACK"),
		e("out", b, "ACK sip:1002@10.0.2.15", "ACK"),
		e("in", a, "BYE sip:1002@10.0.2.15", "BYE"),
		e("out", b, "BYE sip:1002@10.0.2.15", "BYE"),
		e("in", b, "200 OK", "BYE"),
		e("out", a, "200 OK", "BYE"),
	}
	late100 := append([]pbx.Entry(nil), usual...)
	late100[3], late100[4] = late100[4], late100[3]
	noACK := append(append([]pbx.Entry(nil), usual[:8]...), usual[10:]...)
	for _, tc := range []struct {
		name    string
		ladder  []pbx.Entry
		missing string
	}{
		{"usual", usual, ""},
		{"100 after 180", late100, ""},
		{"no ACK", noACK, "5 ACK"},
	} {
		steps := checkSteps(tc.ladder)
		missing := ""
		for _, s := range steps {
			if s.In < 0 || s.Out < 0 {
				missing = s.Name
				break
			}
		}
		if missing != tc.missing {
			t.Errorf("%s: first missing step %q, want %q", tc.name, missing, tc.missing)
		}
	}
}
