package sipua

import (
	"fmt"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// Interoperability with SIPp's built-in uas and uac scenarios on 127.0.0.1.

func sipp(t *testing.T, args ...string) (wait func() error) {
	t.Helper()
	testtool.Long(t, "make race")
	// media: RTP and RTCP, audio and video
	return testtool.SIPp(t, append([]string{"-mp", fmt.Sprint(testtool.Ports(t, 4))}, args...)...)
}

type limitedBuffer struct {
	b   []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func TestSippUAS(t *testing.T) {
	port := testtool.Port(t)
	wait := sipp(t, "-sn", "uas", "-p", fmt.Sprint(port))
	ua, _ := startUA(t, LineConfig{User: "1001"})
	var id CallID
	var err error
	// SIPp may not be bound yet: the INVITE is retransmitted (timer A) until it is.
	id, err = ua.Dial(1, fmt.Sprintf("sip:service@127.0.0.1:%d", port), media(10000, "PCMA", "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	if e := expect(t, ua, CallProgress); e.Code != 180 {
		t.Fatalf("progress %+v", e)
	}
	e := expect(t, ua, CallAnswered)
	if e.Remote.Codecs[0] != "PCMU" || e.Remote.Host != "127.0.0.1" {
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

func TestSippUAC(t *testing.T) {
	ua, _ := startUA(t, LineConfig{User: "1002"})
	wait := sipp(t, "-sn", "uac", "-s", "1002", "-p", fmt.Sprint(testtool.Port(t)), ua.LocalAddr().String())
	in := expect(t, ua, CallIncoming)
	if in.Remote.Codecs[0] != "PCMU" {
		t.Fatalf("offer %+v", in.Remote)
	}
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
}

// sippTransport is a transport a scenario runs over: SIPp's -t and the
// URI parameter the phone dials SIPp with.
type sippTransport struct{ sipp, uri string }

// sippTransports are the transports every scenario of ours runs over.
var sippTransports = []sippTransport{{"u1", ""}, {"t1", ";transport=tcp"}}

// sippUAS starts SIPp with scenario name over tr as the far end of a call
// the phone makes, and returns what to dial and SIPp's wait. Over TCP it
// returns once SIPp listens: a request over TCP is sent once.
func sippUAS(t *testing.T, tr sippTransport, name string, extra ...string) (target string, wait func() error) {
	t.Helper()
	port := testtool.Port(t)
	wait = sipp(t, append([]string{"-t", tr.sipp, "-sf", scenario(name), "-p", fmt.Sprint(port)}, extra...)...)
	if tr.sipp == "t1" {
		waitListening(t, port)
	}
	return fmt.Sprintf("sip:service@127.0.0.1:%d%s", port, tr.uri), wait
}

// sippUAC runs SIPp's scenario name over tr as the caller of the phone
// ua (one call, to 1002), on held ports; wait returns its verdict.
func sippUAC(t *testing.T, tr sippTransport, name string, ua *UA, args ...string) (wait func() error) {
	t.Helper()
	base := []string{"-t", tr.sipp, "-sf", scenario(name), "-p", fmt.Sprint(testtool.Port(t)), "-s", "1002"}
	return sipp(t, append(append(base, args...), ua.LocalAddr().String())...)
}

// hangUp ends call id from the phone, checks it ends with 200 and that
// SIPp's scenario (wait) passed.
func hangUp(t *testing.T, ua *UA, id CallID, wait func() error) {
	t.Helper()
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
