package phone

import (
	"strings"
	"testing"

	"github.com/deskphone/deskphone/sipua"
)

// connected returns a rig with call 1 from 1002 answered.
func connected(t *testing.T) *rig {
	r := newRig(t)
	r.p.onSIP(incoming(1, "1002"))
	r.hook(true)
	r.out.take()
	return r
}

func TestHoldResume(t *testing.T) {
	r := connected(t)
	r.key("hold")
	has(t, r.out.take(), "call 1 held 1002", "led hold on", "phone held", "display 1 On hold: 1002")
	has(t, r.ua.calls, "hold 1 true")
	has(t, r.m.log, "stream 127.0.0.1:4000 PCMA", "stop")
	// The re-INVITE's answer changes nothing.
	r.p.onSIP(sipua.Event{Kind: sipua.CallAnswered, Call: 1, Remote: r.ua.remote})
	r.key("hold")
	has(t, r.out.take(), "call 1 connected 1002", "led hold off", "phone connected", "display 1 Talking to 1002")
	has(t, r.ua.calls, "hold 1 true", "hold 1 false")
	has(t, r.m.log, "stop", "stream 127.0.0.1:4000 PCMA")
	// The far end holds and resumes.
	r.p.onSIP(sipua.Event{Kind: sipua.CallHeld, Call: 1})
	has(t, r.out.take(), "call 1 remote-held 1002")
	r.p.onSIP(sipua.Event{Kind: sipua.CallResumed, Call: 1})
	has(t, r.out.take(), "call 1 connected 1002")
	// Held, then the handset is put down: the call ends.
	r.key("hold")
	r.hook(false)
	has(t, r.out.take(), "call 1 ended:200 1002", "led hold off", "phone idle")
}

func TestCallWaitingAndSwap(t *testing.T) {
	r := connected(t)
	r.p.onSIP(incoming(2, "1003"))
	has(t, r.out.take(), "call 2 incoming 1003", "tone waiting", "display 1 Waiting: 1003  (ok: answer)")
	has(t, r.ua.calls, "ring 2")
	r.key("ok")
	has(t, r.out.take(), "call 1 held 1002", "led hold on", "tone none", "call 2 connected 1003")
	has(t, r.ua.calls, "hold 1 true", "answer 2")
	r.p.publish()
	if got := r.p.Status(); got != "reg=1:unregistered phone=connected calls=2" {
		t.Fatalf("status %s", got)
	}
	// A third call is busy.
	r.p.onSIP(incoming(3, "1004"))
	has(t, r.ua.calls, "reject 3 486")
	// Swap.
	r.key("hold")
	has(t, r.out.take(), "call 2 held 1003", "call 1 connected 1002", "display 1 Talking to 1002  (held: 1003)")
	has(t, r.ua.calls, "hold 2 true", "hold 1 false")
	// The far end of the held call hangs up.
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 2, Code: 200})
	has(t, r.out.take(), "call 2 ended:200 1003", "led hold off", "display 1 Talking to 1002")
	r.hook(false)
	has(t, r.out.take(), "call 1 ended:200 1002", "phone idle")
}

func TestCallWaitingRefusedAndHangupToHeld(t *testing.T) {
	r := connected(t)
	r.p.onSIP(incoming(2, "1003"))
	r.key("cancel")
	has(t, r.out.take(), "call 2 ended:486 1003", "tone none", "display 1 Talking to 1002")
	has(t, r.ua.calls, "reject 2 486")
	// Waiting, then the first call hangs up: the waiting call rings.
	r.p.onSIP(incoming(3, "1004"))
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: 200})
	has(t, r.out.take(), "call 1 ended:200 1002", "tone none", "phone ringing", "ring on normal")
	r.key("ok")
	has(t, r.out.take(), "ring off", "phone connected", "call 3 connected 1004")
	// Answered with a call on hold, then hung up: the held call remains.
	r.p.onSIP(incoming(4, "1005"))
	r.key("hold") // holds 3, answers 4
	has(t, r.out.take(), "call 3 held 1004", "call 4 connected 1005")
	r.hook(false)
	has(t, r.out.take(), "call 4 ended:200 1005", "phone held", "display 1 On hold: 1004")
	r.hook(true) // lifting resumes it
	has(t, r.out.take(), "call 3 connected 1004", "led hold off", "phone connected")
}

func TestBlindTransfer(t *testing.T) {
	r := connected(t)
	r.key("transfer")
	for _, k := range []string{"1", "0", "0", "3"} {
		r.key(k)
	}
	has(t, r.out.take(), "display 1 Transfer to: ", "display 1 Transfer to: 1003")
	if len(r.m.log) > 0 && r.m.log[len(r.m.log)-1] == "dtmf 3 100ms" {
		t.Fatal("transfer digits went out as DTMF")
	}
	r.key("send")
	has(t, r.ua.calls, "transfer 1 1003")
	has(t, r.out.take(), "log call 1 transferred to 1003", "display 1 Transferring to 1003")
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: 200})
	has(t, r.out.take(), "call 1 ended:200 1002", "phone dialtone")
	if r.p.hist[0].result != "transferred:1003" {
		t.Fatalf("history %v", r.p.hist[0])
	}
	// Cancel leaves transfer mode; digits are DTMF again.
	r = connected(t)
	r.key("transfer")
	r.key("cancel")
	r.key("7")
	has(t, r.m.log, "dtmf 7 100ms")
}

func TestTransferred(t *testing.T) {
	r := connected(t)
	r.ua.next = 1 // the incoming call took id 1
	r.p.onSIP(sipua.Event{Kind: sipua.CallTransfer, Call: 1, Target: "sip:1003@127.0.0.1"})
	has(t, r.out.take(), "log transferred by 1002 to sip:1003@127.0.0.1", "call 1 ended:200 1002", "call 2 calling sip:1003@127.0.0.1")
	has(t, r.ua.calls, "hangup 1", "dial 1 sip:1003@127.0.0.1 192.0.2.10:true [PCMU PCMA]")
}

// mixLog records the conference switch.
type mixLog struct{ got []bool }

func (m *mixLog) mix(on bool) { m.got = append(m.got, on) }

func TestConference(t *testing.T) {
	r := connected(t)
	second, mix := &fakeMedia{}, &mixLog{}
	r.p.d.Second, r.p.d.Mix = second, mix.mix
	r.ua.next = 1 // the incoming call took id 1
	r.key("conf")
	has(t, r.out.take(), "log conf: needs a call connected and one on hold")
	// Hold 1002, dial 1003 (a second call), then conf.
	r.key("hold")
	r.key("1")
	r.key("0")
	r.key("0")
	r.key("3")
	r.key("send")
	has(t, r.out.take(), "call 1 held 1002", "phone held", "phone dialtone", "phone dialing", "phone calling", "call 2 calling 1003")
	r.p.onSIP(sipua.Event{Kind: sipua.CallAnswered, Call: 2, Remote: &sipua.Media{Host: "127.0.0.1", Port: 4002, Codecs: []string{"PCMU"}}})
	r.key("conf")
	has(t, r.out.take(), "call 1 connected 1002", "led hold off", "display 1 Conference: 1003 + 1002")
	has(t, r.ua.calls, "hold 1 true", "dial 1 1003 192.0.2.10:true [PCMU PCMA]", "hold 1 false")
	has(t, second.log, "stream 127.0.0.1:4000 PCMA")
	if len(mix.got) != 1 || !mix.got[0] || !r.p.conf {
		t.Fatalf("mix %v", mix.got)
	}
	// conf again splits: 1002 goes back on hold, the mix ends.
	r.key("conf")
	has(t, r.out.take(), "call 1 held 1002", "led hold on")
	has(t, second.log, "stop")
	if len(mix.got) != 2 || mix.got[1] || r.p.conf {
		t.Fatalf("mix %v", mix.got)
	}
	// Join again; then 1003 (the first engine's call) hangs up: 1002 moves
	// to the first engine and stays connected.
	r.key("conf")
	r.out.take()
	streams := len(r.m.log)
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 2, Code: 200})
	has(t, r.out.take(), "call 2 ended:200 1003", "display 1 Talking to 1002")
	has(t, r.m.log[streams:], "stop", "stream 127.0.0.1:4000 PCMA")
	if r.p.conf || r.p.other != nil || r.p.call == nil || r.p.call.second {
		t.Fatalf("after one left: conf %t other %v", r.p.conf, r.p.other)
	}
	// Handset down in a conference ends both.
	r = connected(t)
	r.p.d.Second, r.p.d.Mix = &fakeMedia{}, mix.mix
	r.p.onSIP(incoming(2, "1003"))
	r.key("ok")
	r.key("conf")
	r.out.take()
	r.hook(false)
	has(t, r.out.take(), "call 1 ended:200 1002", "call 2 ended:200 1003", "phone idle")
	if r.p.call != nil || r.p.other != nil {
		t.Fatal("calls left after hanging up the conference")
	}
}

func TestConsultTransfer(t *testing.T) {
	r := connected(t)
	r.ua.next = 1
	r.key("hold")
	for _, k := range []string{"1", "0", "0", "3", "send"} {
		r.key(k)
	}
	r.p.onSIP(sipua.Event{Kind: sipua.CallAnswered, Call: 2, Remote: &sipua.Media{Host: "127.0.0.1", Port: 4002, Codecs: []string{"PCMU"}}})
	r.out.take()
	r.key("transfer")
	has(t, r.ua.calls, "hold 1 true", "dial 1 1003 192.0.2.10:true [PCMU PCMA]", "transferto 1 2")
	for _, c := range r.ua.snap() {
		if c == "hangup 2" || strings.HasPrefix(c, "transfer ") {
			t.Fatalf("UA asked %q; calls %v", c, r.ua.calls)
		}
	}
	has(t, r.out.take(), "log call 1 transferred to 1003")
	// The user agent ends the referred call once it is accepted; the
	// target ends the consultation call it replaced.
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: 200})
	has(t, r.out.take(), "call 1 ended:200 1002", "led hold off")
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 2, Code: 200})
	has(t, r.out.take(), "call 2 ended:200 1003", "phone dialtone")
	if r.p.hist[0].result != "consulted" || r.p.hist[1].result != "transferred:1003" {
		t.Fatalf("history %v", r.p.hist)
	}
}

// TestTransferredReplacing: a REFER whose Refer-To has Replaces: the
// phone calls the target with that Replaces.
func TestTransferredReplacing(t *testing.T) {
	r := connected(t)
	r.ua.next = 1
	r.p.onSIP(sipua.Event{Kind: sipua.CallTransfer, Call: 1, Target: "sip:1003@127.0.0.1", Replaces: "abc;to-tag=t;from-tag=f"})
	has(t, r.out.take(), "log transferred by 1002 to sip:1003@127.0.0.1 (replaces)", "call 1 ended:200 1002", "call 2 calling sip:1003@127.0.0.1")
	has(t, r.ua.calls, "hangup 1", "dial 1 sip:1003@127.0.0.1 replaces abc;to-tag=t;from-tag=f")
}

// TestIncomingReplaces: an INVITE with Replaces naming the connected call
// is answered at once, without ringing, and takes its place; one naming
// another call is an ordinary incoming call (here: call waiting).
func TestIncomingReplaces(t *testing.T) {
	w := connected(t)
	w.p.onSIP(sipua.Event{Kind: sipua.CallIncoming, Call: 5, Peer: "1003", ReplacesCall: 9})
	has(t, w.ua.calls, "ring 5")
	has(t, w.out.take(), "tone waiting")

	r := connected(t)
	r.p.onSIP(sipua.Event{Kind: sipua.CallIncoming, Call: 2, Peer: "1003", Number: "1003", ReplacesCall: 1,
		Remote: &sipua.Media{Host: "127.0.0.1", Port: 4004, Codecs: []string{"PCMU"}}})
	got := r.out.take()
	has(t, got, "log call 2 from 1003 replaces call 1", "call 1 ended:200 1002", "call 2 incoming 1003", "call 2 connected 1003", "display 1 Talking to 1003")
	for _, g := range got {
		if strings.HasPrefix(g, "ring on") {
			t.Fatalf("the phone rang: %v", got)
		}
	}
	has(t, r.ua.calls, "answer 2")
	for _, c := range r.ua.snap() {
		if c == "ring 2" || c == "hangup 1" {
			t.Fatalf("UA asked %q", c)
		}
	}
	if r.p.call == nil || r.p.call.id != 2 || !r.p.call.answered || r.p.hist[0].result != "replaced" {
		t.Fatalf("call %+v history %v", r.p.call, r.p.hist)
	}
	// The replaced call's end is the user agent's; the phone stays connected.
	r.p.onSIP(sipua.Event{Kind: sipua.CallEnded, Call: 1, Code: 200})
	if r.p.state != Connected {
		t.Fatalf("state %v", r.p.state)
	}
}
