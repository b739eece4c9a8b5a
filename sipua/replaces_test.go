package sipua

import (
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// waitEvent returns the UA's first event that ok accepts, skipping others.
func waitEvent(t *testing.T, ua *UA, what string, ok func(Event) bool) Event {
	t.Helper()
	timeout := time.After(deadline)
	for {
		select {
		case e, open := <-ua.Events():
			if !open {
				t.Fatalf("events closed, want %s", what)
			}
			if ok(e) {
				return e
			}
			t.Logf("skipped %v %+v while waiting for %s", e.Kind, e, what)
		case <-timeout:
			t.Fatalf("no %s within %v", what, deadline)
		}
	}
}

func is(kind EventKind, id CallID) func(Event) bool {
	return func(e Event) bool { return e.Kind == kind && e.Call == id }
}

// TestAttendedTransfer: A talks to B (the transferee) and to C (the
// target, the consultation call); A's TransferTo refers B to C with
// Replaces; B's DialReplacing reaches C, which takes it without ringing in
// place of the consultation call and ends that one with a BYE.
func TestAttendedTransfer(t *testing.T) {
	a, _ := startUA(t, LineConfig{User: "1001"})
	b, btr := startUA(t, LineConfig{User: "1002"})
	c, ctr := startUA(t, LineConfig{User: "1003"})
	ab, ba := connect(t, a, b, btr)
	ac, ca := connect(t, a, c, ctr)

	if err := a.TransferTo(ab, ab); err == nil {
		t.Fatal("TransferTo a call to itself accepted")
	}
	if err := a.TransferTo(ab, ac); err != nil {
		t.Fatal(err)
	}
	tr := waitEvent(t, b, "call-transfer", is(CallTransfer, ba))
	if !strings.HasPrefix(tr.Target, "sip:1003@") || strings.Contains(tr.Target, "?") {
		t.Fatalf("target %q", tr.Target)
	}
	cid, toTag, fromTag, err := parseReplaces(tr.Replaces)
	if err != nil {
		t.Fatal(err)
	}
	// The consultation dialog as C sees it: to-tag is C's local tag.
	var cd [3]string
	if err := c.do(func() error {
		d := c.calls[ca].dlg
		cd = [3]string{d.CallID, d.LocalTag, d.RemoteTag}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if [3]string{cid, toTag, fromTag} != cd {
		t.Fatalf("Replaces %q, C's dialog %q", tr.Replaces, cd)
	}
	waitEvent(t, b, "transferee's call ended", is(CallEnded, ba))
	waitEvent(t, a, "transferor's call ended", is(CallEnded, ab))

	nb, err := b.DialReplacing(1, tr.Target, tr.Replaces, media(30000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	in := waitEvent(t, c, "call-incoming", func(e Event) bool { return e.Kind == CallIncoming })
	if in.ReplacesCall != ca {
		t.Fatalf("incoming %+v, want it to replace %d", in, ca)
	}
	if _, err := c.Answer(in.Call, media(20002, "PCMU")); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "call-answered", is(CallAnswered, in.Call))
	if e := waitEvent(t, b, "call-answered", is(CallAnswered, nb)); e.Remote == nil || e.Remote.Port != 20002 {
		t.Fatalf("answered %+v", e)
	}
	waitEvent(t, c, "consultation ended at the target", is(CallEnded, ca))
	e := waitEvent(t, a, "consultation ended at the transferor", is(CallEnded, ac))
	if !strings.Contains(e.Reason, "cause=200") {
		t.Fatalf("consultation ended %+v, want a Reason", e)
	}
	if btr.has("180") {
		t.Fatal("the target rang")
	}
}

// TestReplacesNoMatch: an INVITE whose Replaces names no dialog gets 481,
// an early-only one naming a confirmed dialog 486, and no CallIncoming.
func TestReplacesNoMatch(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p := newPeer(t)
	inv0, ok0 := peerCall(t, p, ua)
	for _, tc := range []struct {
		replaces string
		code     int
	}{
		{"nosuch@x;to-tag=a;from-tag=b", 481},
		{inv0.Get("Call-ID") + ";to-tag=" + ok0.ToTag() + ";from-tag=p1;early-only", 486},
		{"junk", 400},
	} {
		inv := peerInvite(p, ua, "", "1003", "q1", []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"))
		inv.Add("Replaces", tc.replaces)
		inv.Add("Require", "replaces")
		p.send(inv, ua.LocalAddr())
		for {
			r, _ := p.read()
			// A retransmission of the first call's 200 (sent before its ACK
			// was taken, on a loaded machine) is not this INVITE's answer.
			if r.StatusCode >= 200 && r.Get("Call-ID") == inv.Get("Call-ID") {
				if r.StatusCode != tc.code {
					t.Fatalf("Replaces %q: %d, want %d", tc.replaces, r.StatusCode, tc.code)
				}
				break
			}
		}
	}
	select {
	case e := <-ua.Events():
		t.Fatalf("event %v %+v", e.Kind, e)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestReplacesEscape(t *testing.T) {
	v := replacesValue("12@host", "a;b", "c=d")
	esc := escapeHeader(v)
	if esc != "12%40host%3Bto-tag%3Da%3Bb%3Bfrom-tag%3Dc%3Dd" {
		t.Fatalf("escaped %q", esc)
	}
	if got := replacesOf("Foo=1&replaces=" + esc); got != v {
		t.Fatalf("unescaped %q, want %q", got, v)
	}
	u, err := sipmsg.ParseURI("sip:1003@h?Replaces=" + escapeHeader(replacesValue("x@y", "t1", "f1")))
	if err != nil || replacesOf(u.Headers) != "x@y;to-tag=t1;from-tag=f1" {
		t.Fatalf("%+v %v", u, err)
	}
}

// TestReferToReplacesOnTheWire: TransferTo's REFER carries the target's
// Contact with the consultation dialog in an escaped Replaces header (RFC
// 3891 section 6.1): to-tag is the target's tag, from-tag ours.
func TestReferToReplacesOnTheWire(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	p1, p2 := newPeer(t), newPeer(t)
	peerCall(t, p1, ua)
	inv2, ok2 := peerCall(t, p2, ua)
	for end := time.Now().Add(deadline); ; { // until both ACKs are in
		err := ua.TransferTo(1, 2)
		if err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for {
		m, _ := p1.read()
		if m.Method != "REFER" {
			continue
		}
		want := "<sip:1001@" + p2.addr() + "?Replaces=" + strings.ReplaceAll(inv2.Get("Call-ID"), "@", "%40") +
			"%3Bto-tag%3Dp1%3Bfrom-tag%3D" + ok2.ToTag() + ">"
		if got := m.Get("Refer-To"); got != want {
			t.Fatalf("Refer-To %s, want %s", got, want)
		}
		if m.Get("Referred-By") == "" {
			t.Fatal("no Referred-By")
		}
		return
	}
}
