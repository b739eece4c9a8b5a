package phone

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/deskphone/deskphone/sipua"
)

// TestMessageShown: a text message (sipua.MessageReceived) is logged and
// shown on its own display row, idle or in a call, until the next key or
// messageShown; a newer one replaces it.
func TestMessageShown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startLive(t, nil)
		msg := sipua.Event{Kind: sipua.MessageReceived, Line: 1, Peer: "1002", Number: "1002", Text: "hello"}
		l.sip(msg)
		has(t, l.out.take(), "log message from 1002: hello", "display 2 Msg from 1002: hello")
		l.key("up") // any key clears it, and still does what it does
		got := l.out.take()
		if len(got) == 0 || got[0] != "display 2 " {
			t.Fatalf("after a key: %q", got)
		}
		// In a call, from a display name; it goes by itself after messageShown.
		l.sip(incoming(1, "1003"))
		l.hook(true)
		l.out.take()
		l.sip(sipua.Event{Kind: sipua.MessageReceived, Line: 1, Call: 1, Peer: "Front desk", Number: "1001", Text: "your 3 pm is here"})
		has(t, l.out.take(), "display 2 Msg from Front desk: your 3 pm is here")
		if p := l.p; p.state != Connected || p.call == nil || p.call.id != 1 {
			t.Fatalf("the message changed the call: %s", p.state)
		}
		l.sleep(messageShown - 1)
		if got := l.out.take(); len(got) != 0 {
			t.Fatalf("before messageShown: %q", got)
		}
		l.sleep(1)
		has(t, l.out.take(), "display 2 ")
		// Nothing to clear: a key writes no empty row.
		l.key("up")
		for _, g := range l.out.take() {
			if strings.HasPrefix(g, "display 2") {
				t.Fatalf("cleared an empty row: %q", g)
			}
		}
	})
}

// TestRingTimeoutFreesThePhone: a call whose caller vanished rings on
// (the user agent ends it after sipua.Config.RingTimeout); meanwhile a
// real call is busy (486, no call waiting while ringing). When the user
// agent ends the abandoned call with 480 the phone is idle again, the
// call is in the history as missed, and the next call rings normally.
func TestRingTimeoutFreesThePhone(t *testing.T) {
	r := newRig(t)
	r.p.onSIP(incoming(1, "1002"))
	r.p.onSIP(incoming(2, "1003"))
	has(t, r.ua.calls, "ring 1", "reject 2 486")
	r.out.take()
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: 480})
	has(t, r.out.take(), "call 1 ended:480 1002", "ring off", "phone idle")
	if len(r.p.hist) == 0 || r.p.hist[0].result != "missed" || r.p.hist[0].number != "1002" {
		t.Fatalf("history %+v", r.p.hist)
	}
	r.p.onSIP(incoming(3, "1004"))
	has(t, r.ua.calls, "ring 3")
	has(t, r.out.take(), "phone ringing", "call 3 incoming 1004", "ring on normal", "display 1 Call from 1004")
	r.hook(true)
	has(t, r.ua.calls, "answer 3")
}

// TestRingTimeoutOfWaitingCall: a waiting call (call waiting) whose caller
// vanished ends with the user agent's 480: the waiting tone stops, the
// connected call goes on, and the next call waits again.
func TestRingTimeoutOfWaitingCall(t *testing.T) {
	r := connected(t)
	r.p.onSIP(incoming(2, "1003"))
	has(t, r.out.take(), "call 2 incoming 1003", "tone waiting")
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 2, Code: 480})
	has(t, r.out.take(), "call 2 ended:480 1003", "tone none", "display 1 Talking to 1002")
	if r.p.other != nil || r.p.state != Connected {
		t.Fatalf("after the waiting call's 480: other %v, state %s", r.p.other, r.p.state)
	}
	r.p.onSIP(incoming(3, "1004"))
	has(t, r.ua.calls, "ring 2", "ring 3")
	has(t, r.out.take(), "call 3 incoming 1004", "tone waiting")
}
