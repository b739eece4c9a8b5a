package sipua

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// Registration failures are said in plain words (Event.Detail), as soon
// as they are known.

// TestSippWrongPassword: SIPp as a registrar challenges the REGISTER and
// refuses the answer with 403 (registrar_403.xml).
func TestSippWrongPassword(t *testing.T) {
	port := testtool.Port(t)
	wait := sipp(t, "-sf", scenario("registrar_403"), "-p", fmt.Sprint(port))
	ua, _ := startUA(t, LineConfig{User: "1001", Password: "wrong", Registrar: fmt.Sprintf("127.0.0.1:%d", port)})
	e := expect(t, ua, RegChanged)
	if e.RegState != RegFailed || e.Code != 403 || e.Detail != "wrong password for 1001 (403)" {
		t.Fatalf("%+v", e)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestSippRegistrarRefuses: a 404 to a REGISTER without a challenge is
// the registrar's refusal, with its status (registrar_404.xml).
func TestSippRegistrarRefuses(t *testing.T) {
	port := testtool.Port(t)
	wait := sipp(t, "-sf", scenario("registrar_404"), "-p", fmt.Sprint(port))
	ua, _ := startUA(t, LineConfig{User: "1001", Password: "pw", Registrar: fmt.Sprintf("127.0.0.1:%d", port)})
	e := expect(t, ua, RegChanged)
	if e.RegState != RegFailed || e.Code != 404 || e.Detail != "registrar refused 1001: 404 Not Found" {
		t.Fatalf("%+v", e)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestRegistrarDropsEverything: a registrar that reads every REGISTER and
// answers none is said not to answer after four sends (3.5 s), long
// before timer F (32 s) ends the attempt, which goes on.
func TestRegistrarDropsEverything(t *testing.T) {
	c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", testtool.Port(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan int, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
			got <- 1
		}
	}()
	start := time.Now()
	ua, _ := startUA(t, LineConfig{User: "1001", Registrar: c.LocalAddr().String()})
	e := expect(t, ua, RegTrouble)
	waited := time.Since(start)
	if want := "registrar " + c.LocalAddr().String() + " does not answer (retrying)"; e.Detail != want || e.Line != 1 {
		t.Fatalf("%+v, want %q", e, want)
	}
	if n := len(got); n < 4 || waited > 30*time.Second {
		t.Fatalf("trouble said after %d REGISTERs and %v", n, waited)
	}
}

// TestRegistrarPortClosed: nothing listens at the registrar's port; the
// kernel's ICMP port unreachable, read from the socket's error queue, is
// said at once, rather than after four sends or timer F's 32 s. The
// attempt goes on (a registrar starting up may yet answer a
// retransmission): TestRegistrarStartsLate.
func TestRegistrarPortClosed(t *testing.T) {
	port := testtool.Port(t) // held, never bound
	reg := fmt.Sprintf("127.0.0.1:%d", port)
	start := time.Now()
	ua, _ := startUA(t, LineConfig{User: "1001", Registrar: reg})
	e := expect(t, ua, RegTrouble)
	if want := "nothing listens at registrar " + reg + " (connection refused; retrying)"; e.Detail != want {
		t.Fatalf("%+v, want %q", e, want)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Fatalf("said after %v, want at once (before the four sends of 3.5 s)", waited)
	}
}

// TestRegistrarStartsLate: the registrar's port is closed for the first
// REGISTER (ICMP) and open for a retransmission: the line registers in
// the same attempt, and the trouble said is over (RegChanged).
func TestRegistrarStartsLate(t *testing.T) {
	port := testtool.Port(t)
	wait := func() func() error { return nil }
	ua, _ := startUA(t, LineConfig{User: "1001", Registrar: fmt.Sprintf("127.0.0.1:%d", port)})
	expect(t, ua, RegTrouble)
	wait = func() func() error { return sipp(t, "-sf", scenario("registrar_404"), "-p", fmt.Sprint(port)) }
	done := wait()
	e := expect(t, ua, RegChanged)
	if e.RegState != RegFailed || e.Code != 404 {
		t.Fatalf("%+v: the retransmission after the registrar started is answered", e)
	}
	if err := done(); err != nil {
		t.Fatal(err)
	}
}

// TestSippDivertedToVoicemail: SIPp as a PBX answers the call to 1002
// from 1002's mailbox and says so (uas_voicemail.xml): the 180 with
// Diversion, the 200 with History-Info and P-Asserted-Identity too.
func TestSippDivertedToVoicemail(t *testing.T) {
	port := testtool.Port(t)
	wait := sipp(t, "-sf", scenario("uas_voicemail"), "-p", fmt.Sprint(port))
	ua, _ := startUA(t, LineConfig{User: "1001"})
	id, err := ua.Dial(1, fmt.Sprintf("sip:1002@127.0.0.1:%d", port), media(10000, "PCMU"))
	if err != nil {
		t.Fatal(err)
	}
	if e := expect(t, ua, CallProgress); e.Divert != (Divert{From: "1002", Reason: "unavailable"}) {
		t.Fatalf("180: %+v", e.Divert)
	}
	if e := expect(t, ua, CallAnswered); e.Divert != (Divert{From: "1002", To: "8000", Reason: "unavailable", Name: "Voicemail of 1002"}) {
		t.Fatalf("200: %+v", e.Divert)
	}
	if err := ua.Hangup(id); err != nil {
		t.Fatal(err)
	}
	expect(t, ua, CallEnded)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

func TestDivertOf(t *testing.T) {
	for _, c := range []struct {
		headers [][2]string
		want    Divert
		err     bool
	}{
		{nil, Divert{}, false},
		{[][2]string{{"History-Info", "<sip:1002@p>;index=1, <sip:1003@p;cause=486>;index=1.1;rc=1"}}, Divert{From: "1002", To: "1003", Reason: "user-busy"}, false},
		{[][2]string{{"History-Info", "<sip:1002@p>;index=1"}, {"Diversion", "<sip:1003@p>;reason=no-answer, <sip:1002@p>;reason=user-busy"}},
			Divert{From: "1002", Reason: "no-answer"}, false},
		{[][2]string{{"Diversion", "<sip:1002@p>;reason=unconditional"}, {"P-Asserted-Identity", "<sip:2000@p>"}}, Divert{From: "1002", To: "2000", Reason: "unconditional"}, false},
		{[][2]string{{"History-Info", "<sip:1002@p>;index=x"}}, Divert{}, true},
	} {
		m := sipmsg.NewResponse(sipmsg.NewRequest("INVITE", "sip:1002@p"), 200, "OK")
		for _, h := range c.headers {
			m.Add(h[0], h[1])
		}
		got, err := divertOf(m)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("%v: %+v, %v; want %+v", c.headers, got, err, c.want)
		}
	}
}

// TestRegistrarNameUnknown: the registrar's name does not resolve
// (dnsmasq answers NXDOMAIN for its domain): said as such.
func TestRegistrarNameUnknown(t *testing.T) {
	dns := testtool.DNSMasq(t, "--local=/example.test/")
	ua, err := New(Config{Listen: "127.0.0.1:0", DNSServers: []string{dns}, Logf: t.Logf,
		Lines: []LineConfig{{User: "1001", Registrar: "pbx.example.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	e := expect(t, ua, RegChanged)
	if e.RegState != RegFailed || e.Detail != "no route to pbx.example.test (DNS)" {
		t.Fatalf("%+v", e)
	}
}

// TestRegistrarTCPRefused: over TCP nothing listens at the registrar's
// port: the refused connection fails the attempt at once, said as such.
func TestRegistrarTCPRefused(t *testing.T) {
	reg := fmt.Sprintf("127.0.0.1:%d", testtool.Port(t)) // held, never bound
	ua, _ := startUA(t, LineConfig{User: "1001", Registrar: reg, Transport: "tcp"})
	e := expect(t, ua, RegChanged)
	if want := "nothing listens at registrar " + reg + " (connection refused)"; e.RegState != RegFailed || e.Code != 503 || e.Detail != want {
		t.Fatalf("%+v, want %q", e, want)
	}
}
