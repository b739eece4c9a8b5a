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

// TestConferenceWideNarrow: the user (C, a 16 kHz phone) joins a G.722
// call to A (16 kHz) and a PCMU call to B (8 kHz). A sends 600 Hz and 6
// kHz, B 1400 Hz, C 1000 Hz. C hears A's 6 kHz and B's 1400 Hz; B hears
// A's 600 Hz and C's 1000 Hz but no 6 kHz (its leg is narrowband: C's
// engine filters it out instead of aliasing it to 2 kHz); A hears B's
// 1400 Hz, resampled up; no allocation per frame.
func TestConferenceWideNarrow(t *testing.T) {
	mk := func(rate int) (*Engine, *net.UDPConn, chan struct{}) {
		e, err := NewEngine(Config{Rate: rate, JitterMs: 20})
		if err != nil {
			t.Fatal(err)
		}
		return e, listen(t), notify(e)
	}
	ea, ca, ra := mk(16000)
	eb, cb, rb := mk(8000)
	c1, cc1, r1 := mk(16000)
	c2, cc2, r2 := mk(16000)
	start := func(e *Engine, c, to *net.UDPConn, codec Codec) {
		if err := e.StartStream(c, to.LocalAddr().(*net.UDPAddr), codec); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.StopStream)
	}
	start(ea, ca, cc1, G722)
	start(c1, cc1, ca, G722)
	start(eb, cb, cc2, PCMU)
	start(c2, cc2, cb, PCMU)
	if _, err := NewConference(c1, eb); err == nil {
		t.Fatal("conference of a 16 kHz and an 8 kHz engine")
	}
	conf, err := NewConference(c1, c2)
	if err != nil {
		t.Fatal(err)
	}
	w := newWaiter(t)
	micA, micB, micC := make([]int16, 320), make([]int16, 160), make([]int16, 320)
	earA, earB, earC := make([]int16, 320), make([]int16, 160), make([]int16, 320)
	hi := make([]int16, 320)
	var pa, ph, pb, pc float64
	step := func() {
		Sine(micA, 600, 0.2, 16000, &pa)
		Sine(hi, 6000, 0.2, 16000, &ph)
		MixInto(micA, hi)
		Sine(micB, 1400, 0.2, 8000, &pb)
		Sine(micC, 1000, 0.2, 16000, &pc)
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
	wl := func(s []int16, f float64) float64 { return ToneLevel(s, f, 16000) }
	nl := func(s []int16, f float64) float64 { return ToneLevel(s, f, 8000) }
	t.Logf("C hears 6000 %.3f 1400 %.3f; B hears 600 %.3f 1000 %.3f 2000 %.5f; A hears 1400 %.3f 1000 %.3f",
		wl(earC, 6000), wl(earC, 1400), nl(earB, 600), nl(earB, 1000), nl(earB, 2000), wl(earA, 1400), wl(earA, 1000))
	const min = 0.02 // amplitude 0.2: level 0.04
	if wl(earC, 6000) < min || wl(earC, 1400) < min || nl(earB, 600) < min || nl(earB, 1000) < min ||
		wl(earA, 1400) < min || wl(earA, 1000) < min {
		t.Fatal("someone does not hear the right party")
	}
	if nl(earB, 2000) > 0.001 {
		t.Fatalf("B hears A's 6 kHz aliased to 2 kHz at %.4f", nl(earB, 2000))
	}
}
