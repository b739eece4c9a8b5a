package panel

import (
	"testing"
)

// TestLinesAllocateNothing: the state lines of a call, the usual input
// lines and the status answer allocate nothing once a client is connected
// (DESIGN.md: a steady call allocates nothing, its panel traffic included).
func TestLinesAllocateNothing(t *testing.T) {
	s, sock, hooks := startServer(t)
	s.AppendStatusWith(func(b []byte) []byte { return append(b, "reg=1:registered phone=connected calls=1"...) })
	c := dialControl(t, sock)
	waitHook(t, hooks, "control")
	go func() { // the client reads whatever comes
		buf := make([]byte, 4096)
		for {
			if _, err := c.conn.Read(buf); err != nil {
				return
			}
		}
	}()
	ctl := s.session()
	text := []byte("Talking to 1002  sent 5")
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Display", func() { s.Display(1, "Talking to 1002") }},
		{"DisplayBytes", func() { s.DisplayBytes(1, text) }},
		{"Call", func() { s.Call(1234, "connected", "Ext 1002 <sip:1002@pbx>") }},
		{"Reg", func() { s.Reg(1, "registered") }},
		{"Phone", func() { s.Phone("held") }},
		{"LED", func() { s.LED("hold", "on") }},
		{"Tone", func() { s.Tone("none") }},
		{"Ring", func() { s.Ring(true, "normal") }},
		{"MWI", func() { s.MWI(1, 120, 3) }},
		{"Log", func() { s.Log("dtmf received 5") }},
		{"key", func() { s.handle(ctl, []byte("key 5")); <-s.Events() }},
		{"hold key", func() { s.handle(ctl, []byte("key hold")); <-s.Events() }},
		{"hook", func() { s.handle(ctl, []byte("hook off")); <-s.Events() }},
		{"status", func() { s.handle(ctl, []byte("status")) }},
		{"state", func() { s.handle(ctl, []byte("state")) }},
	} {
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: %.1f allocations a line, want 0", tc.name, n)
		}
	}
}
