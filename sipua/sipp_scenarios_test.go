package sipua

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// SIPp scenarios from testdata/sipp: the phone as caller (SIPp as uas) and
// as callee (SIPp as uac), with a digest challenge, CANCEL before the
// answer, 486, a lost 200 and a re-INVITE for hold and resume.

func scenario(name string) string { return "testdata/sipp/" + name + ".xml" }

func TestSippUASAuth(t *testing.T) {
	port := testtool.Port(t)
	wait := sipp(t, "-sf", scenario("uas_auth"), "-p", fmt.Sprint(port))
	ua, _ := startUA(t, LineConfig{User: "1001", Password: "secret"})
	id, err := ua.Dial(1, fmt.Sprintf("sip:service@127.0.0.1:%d", port), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallProgress)
	e := expect(t, ua, CallAnswered)
	if e.Remote.Codecs[0] != "PCMU" || e.Remote.TelephoneEvent != 101 {
		t.Fatalf("answered %+v", e.Remote)
	}
	if err := ua.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, ua, CallEnded); e.Code != 200 {
		t.Fatalf("ended %+v", e)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSippUASBusy(t *testing.T) {
	port := testtool.Port(t)
	wait := sipp(t, "-sf", scenario("uas_486"), "-p", fmt.Sprint(port))
	ua, _ := startUA(t, LineConfig{User: "1001"})
	if _, err := ua.Dial(1, fmt.Sprintf("sip:service@127.0.0.1:%d", port), media(10000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallProgress)
	if e := expect(t, ua, CallEnded); e.Code != 486 {
		t.Fatalf("ended %+v", e)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSippUACCancel(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	wait := sipp(t, "-sf", scenario("uac_cancel"), "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
	in := expect(t, ua, CallIncoming)
	if err := ua.Ring(in.Call); err != nil {
		t.Fatal(err)
	}
	e := expect(t, ua, CallEnded)
	if e.Code != 487 || !strings.Contains(e.Reason, "cause=200") {
		t.Fatalf("ended %+v", e)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSippUACBusy(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	wait := sipp(t, "-sf", scenario("uac_486"), "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
	in := expect(t, ua, CallIncoming)
	if err := ua.Reject(in.Call, 486); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, ua, CallEnded); e.Code != 486 {
		t.Fatalf("ended %+v", e)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSippUACHold(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	wait := sipp(t, "-sf", scenario("uac_hold"), "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
	in := expect(t, ua, CallIncoming)
	if _, err := ua.Answer(in.Call, media(20000, "PCMU")); err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallAnswered)
	if e := expect(t, ua, CallHeld); e.Remote.Direction != "sendonly" {
		t.Fatalf("held %+v", e.Remote)
	}
	expect(t, ua, CallResumed)
	if e := expect(t, ua, CallEnded); e.Code != 200 {
		t.Fatalf("ended %+v", e)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSippUACLost200(t *testing.T) {
	var oks atomic.Int32
	ua, err := New(Config{Listen: "127.0.0.1:0", Lines: []LineConfig{{User: "1002"}}, Logf: t.Logf,
		Trace: func(td TraceDir, _ string, _ *net.UDPAddr, b []byte) {
			dir := td.String()
			if m, err := sipmsg.Parse(b); err == nil && dir == "send" && m.StatusCode == 200 {
				if _, method, _ := m.CSeq(); method == "INVITE" {
					oks.Add(1)
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	wait := sipp(t, "-sf", scenario("uac_lost200"), "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
	in := expect(t, ua, CallIncoming)
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
	if n := oks.Load(); n < 2 {
		t.Fatalf("the 200 was sent %d times, want it retransmitted", n)
	}
}

func TestSippUASCancel(t *testing.T) {
	port := testtool.Port(t)
	wait := sipp(t, "-sf", scenario("uas_cancel"), "-p", fmt.Sprint(port))
	ua, _ := startUA(t, LineConfig{User: "1001"})
	id, err := ua.Dial(1, fmt.Sprintf("sip:service@127.0.0.1:%d", port), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallProgress)
	if err := ua.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if e := expect(t, ua, CallEnded); e.Code != 487 {
		t.Fatalf("ended %+v", e)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}
