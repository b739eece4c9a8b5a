package sipua

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// TestHaltSendsNothing: Halt stops a registered UA as a power cut would:
// no unREGISTER reaches the registrar (Close sends one), the events end,
// and a Close after it does nothing. What Halt sent is on the registrar's
// socket by the time it returns (loopback), so it is read without waiting.
func TestHaltSendsNothing(t *testing.T) {
	reg := newPeer(t)
	ua, _ := startUA(t, LineConfig{User: "1001", Registrar: reg.addr(), Expires: 300})
	m, from := reg.read()
	if m.Method != "REGISTER" {
		t.Fatalf("got %s, want REGISTER", m.Method)
	}
	ok := sipmsg.NewResponse(m, 200, "OK")
	ok.Add("Contact", m.Get("Contact")+";expires=300")
	reg.send(ok, from)
	if e := expect(t, ua, RegChanged); e.RegState != Registered {
		t.Fatalf("event %+v, want registered", e)
	}
	ua.Halt()
	buf := make([]byte, 65535)
	for {
		reg.conn.SetReadDeadline(time.Now())
		n, _, err := reg.conn.ReadFromUDP(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if s := string(buf[:n]); strings.TrimSpace(s) != "" {
			t.Fatalf("after Halt the registrar got:\n%s", s)
		}
	}
	for range ua.Events() { // closed by Halt
	}
	if err := ua.Close(); err != nil {
		t.Fatalf("Close after Halt: %v", err)
	}
}
