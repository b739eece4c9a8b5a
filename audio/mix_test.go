package audio

import (
	"net"
	"testing"
)

// TestConference: the user (C) holds calls to A and B and joins them: C
// hears A's 600 Hz and B's 1400 Hz; A hears C's 1000 Hz and B's 1400 Hz;
// B hears C's 1000 Hz and A's 600 Hz; with no allocation per frame.
func TestConference(t *testing.T) {
	mk := func() (*Engine, *net.UDPConn, chan struct{}) {
		e, err := NewEngine(Config{JitterMs: 20})
		if err != nil {
			t.Fatal(err)
		}
		return e, listen(t), notify(e)
	}
	ea, ca, ra := mk()
	eb, cb, rb := mk()
	c1, cc1, r1 := mk() // C's leg to A
	c2, cc2, r2 := mk() // C's leg to B
	start := func(e *Engine, c, to *net.UDPConn) {
		if err := e.StartStream(c, to.LocalAddr().(*net.UDPAddr), PCMU); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.StopStream)
	}
	start(ea, ca, cc1)
	start(c1, cc1, ca)
	start(eb, cb, cc2)
	start(c2, cc2, cb)
	conf, err := NewConference(c1, c2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewConference(c1, c1); err == nil {
		t.Fatal("conference with itself")
	}
	w := newWaiter(t)
	micA, micB, micC := make([]int16, 160), make([]int16, 160), make([]int16, 160)
	earA, earB, earC := make([]int16, 160), make([]int16, 160), make([]int16, 160)
	var pa, pb, pc float64
	step := func() {
		Sine(micA, 600, 0.2, 8000, &pa)
		Sine(micB, 1400, 0.2, 8000, &pb)
		Sine(micC, 1000, 0.2, 8000, &pc)
		ea.Process(micA, earA)
		eb.Process(micB, earB)
		w.wait(r1, "A to C")
		w.wait(r2, "B to C")
		conf.Process(micC, earC)
		w.wait(ra, "C to A")
		w.wait(rb, "C to B")
	}
	for range 30 {
		step()
	}
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Fatalf("allocs per frame %v", n)
	}
	lv := func(s []int16, f float64) float64 { return ToneLevel(s, f, 8000) }
	t.Logf("C hears 600 %.3f 1400 %.3f; A hears 1000 %.3f 1400 %.3f; B hears 1000 %.3f 600 %.3f",
		lv(earC, 600), lv(earC, 1400), lv(earA, 1000), lv(earA, 1400), lv(earB, 1000), lv(earB, 600))
	const min = 0.02 // amplitude 0.2: level 0.04
	if lv(earC, 600) < min || lv(earC, 1400) < min || lv(earA, 1000) < min || lv(earA, 1400) < min ||
		lv(earB, 1000) < min || lv(earB, 600) < min || lv(earA, 600) > 0.005 || lv(earB, 1400) > 0.005 {
		t.Fatal("someone does not hear the right party")
	}
}

func TestMixInto(t *testing.T) {
	d := []int16{30000, -30000, 5, 1}
	MixInto(d, []int16{10000, -10000, -5})
	if d[0] != 32767 || d[1] != -32768 || d[2] != 0 || d[3] != 1 {
		t.Fatalf("%v", d)
	}
}
