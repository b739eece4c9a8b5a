package sipua

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
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
// kernel's ICMP port unreachable ends the attempt at once, said as such,
// rather than timer F's 32 s later.
func TestRegistrarPortClosed(t *testing.T) {
	port := testtool.Port(t) // held, never bound
	reg := fmt.Sprintf("127.0.0.1:%d", port)
	start := time.Now()
	ua, _ := startUA(t, LineConfig{User: "1001", Registrar: reg})
	e := expect(t, ua, RegChanged)
	if want := "nothing listens at registrar " + reg + " (connection refused)"; e.RegState != RegFailed || e.Code != 503 || e.Detail != want {
		t.Fatalf("%+v, want %q", e, want)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("said after %v, want at once", waited)
	}
}
