package phone

import (
	"strings"
	"testing"

	"github.com/deskphone/deskphone/sipua"
)

// TestEarlyMedia: the rule of early.go, step by step: what the earpiece
// plays (the media log: streams and tones) and what the panel says for
// each CallProgress of an outgoing call, then the answer.
func TestEarlyMedia(t *testing.T) {
	em := func(port int, dir string) *sipua.Media {
		return &sipua.Media{Host: "127.0.0.1", Port: port, Codecs: []string{"PCMU"}, Direction: dir}
	}
	type step struct {
		ev    sipua.Event
		media []string // new media log lines, exactly
		state string   // the call's panel state after it
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"ringing, then early media, kept through a 180, answered", []step{
			{sipua.Event{Kind: sipua.CallProgress, Code: 180}, []string{"tone ringback"}, "ringing"},
			{sipua.Event{Kind: sipua.CallProgress, Code: 183, Remote: em(4000, "sendrecv")}, []string{"stream 127.0.0.1:4000 PCMU", "tone none"}, "early"},
			{sipua.Event{Kind: sipua.CallProgress, Code: 180}, nil, "early"},
			{sipua.Event{Kind: sipua.CallProgress, Code: 183, Remote: em(4000, "sendrecv")}, nil, "early"}, // repeated: not restarted
			{sipua.Event{Kind: sipua.CallAnswered, Remote: em(4000, "sendrecv")}, []string{"stop", "stream 127.0.0.1:4000 PCMU"}, "connected"},
		}},
		{"an announcement (sendonly), then the far end stops it", []step{
			{sipua.Event{Kind: sipua.CallProgress, Code: 183, Remote: em(4000, "sendonly")}, []string{"stream 127.0.0.1:4000 PCMU"}, "early"}, // no tone was on
			{sipua.Event{Kind: sipua.CallProgress, Code: 180, Remote: em(4000, "inactive")}, []string{"stop", "tone ringback"}, "ringing"},
			{sipua.Event{Kind: sipua.CallProgress, Code: 180}, nil, "ringing"},
			{sipua.Event{Kind: sipua.CallProgress, Code: 183, Remote: em(4002, "sendrecv")}, []string{"stream 127.0.0.1:4002 PCMU", "tone none"}, "early"},
		}},
		{"the far end sends nothing from the start", []step{
			{sipua.Event{Kind: sipua.CallProgress, Code: 183, Remote: em(4000, "recvonly")}, []string{"tone ringback"}, "ringing"},
		}},
		{"unplayable SDP comes as no SDP: 183 before any 180 rings too", []step{
			{sipua.Event{Kind: sipua.CallProgress, Code: 183}, []string{"tone ringback"}, "ringing"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.hook(true)
			r.key("5")
			r.key("send")
			r.out.take()
			seen := len(r.m.log)
			for i, s := range tc.steps {
				s.ev.Call = 1
				r.p.onSIP(s.ev)
				got := r.m.log[seen:]
				seen = len(r.m.log)
				if strings.Join(got, "|") != strings.Join(s.media, "|") {
					t.Fatalf("step %d (%d %v): media %q, want %q", i, s.ev.Code, s.ev.Remote, got, s.media)
				}
				if st := r.p.call.state; st != s.state {
					t.Fatalf("step %d (%d): call state %q, want %q", i, s.ev.Code, st, s.state)
				}
			}
		})
	}
}
