package pbx

import (
	"testing"
	"time"
)

func TestInviteRetransmission(t *testing.T) {
	p, clk := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	inv := a.request("INVITE", "sip:1002@"+a.pbxHost, "1002")
	a.send(inv)
	a.send(a.authorize(inv, a.expect(407, "INVITE")))
	a.expect(100, "INVITE")
	first := b.expect(0, "INVITE")

	clk.Advance(t1) // Timer A fires: the same INVITE again
	again := b.expect(0, "INVITE")
	if again.String() != first.String() {
		t.Errorf("retransmission differs:\n%s\nvs\n%s", again, first)
	}
	clk.Advance(2 * t1) // doubled
	b.expect(0, "INVITE")

	clk.Advance(timerB) // Timer B: the PBX gives up
	a.expect(408, "INVITE")
}

func TestInviteAnsweredStopsRetransmission(t *testing.T) {
	p, clk := startPBX(t, nil)
	a := newPhone(t, p, "1001", "pw1001", "", "")
	b := newPhone(t, p, "1002", "pw1002", "", "")
	b.register(3600)
	inv := a.request("INVITE", "sip:1002@"+a.pbxHost, "1002")
	a.send(inv)
	a.send(a.authorize(inv, a.expect(407, "INVITE")))
	a.expect(100, "INVITE")
	got := b.expect(0, "INVITE")
	b.send(b.answer(got, 100, "Trying", ""))
	b.sync() // the PBX has seen the 100
	clk.Advance(timerB + time.Second)
	p.do(func() { p.retransmit(p.now()) }) // as a tick would, but now
	b.send(b.answer(got, 486, "Busy Here", "x"))
	// Neither a retransmission nor a 408 came first: the next message each
	// side sees is the 486 (a) and the answer to b's OPTIONS (b).
	a.expect(486, "INVITE")
	b.sync()
}
