package audio

import (
	"net"
	"testing"
)

// confRig is a local conference: C (at rateC) holds a call to A (at
// rateA, codec ca) and one to B (rateB, codec cb) and joins them. step
// plays one frame of each microphone (A's from micA, B's, C's) everywhere,
// each packet waited for.
type confRig struct {
	conf             *Conference
	c1, eb           *Engine
	micA, micB, micC []int16
	earA, earB, earC []int16
	step             func()
}

func newConfRig(t *testing.T, rateA, rateB, rateC int, ca, cb Codec, fill func(r *confRig)) *confRig {
	mk := func(rate int) (*Engine, *net.UDPConn, chan struct{}) {
		e, err := NewEngine(Config{Rate: rate, JitterMs: 20})
		if err != nil {
			t.Fatal(err)
		}
		return e, listen(t), notify(e)
	}
	ea, conA, ra := mk(rateA)
	eb, conB, rb := mk(rateB)
	c1, cc1, r1 := mk(rateC) // C's leg to A
	c2, cc2, r2 := mk(rateC) // C's leg to B
	start := func(e *Engine, c, to *net.UDPConn, codec Codec) {
		if err := e.StartStream(c, to.LocalAddr().(*net.UDPAddr), codec); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.StopStream)
	}
	start(ea, conA, cc1, ca)
	start(c1, cc1, conA, ca)
	start(eb, conB, cc2, cb)
	start(c2, cc2, conB, cb)
	conf, err := NewConference(c1, c2)
	if err != nil {
		t.Fatal(err)
	}
	r := &confRig{conf: conf, c1: c1, eb: eb,
		micA: make([]int16, ea.FrameSamples()), micB: make([]int16, eb.FrameSamples()), micC: make([]int16, c1.FrameSamples()),
		earA: make([]int16, ea.FrameSamples()), earB: make([]int16, eb.FrameSamples()), earC: make([]int16, c1.FrameSamples())}
	w := newWaiter(t)
	r.step = func() {
		fill(r)
		ea.Process(r.micA, r.earA)
		eb.Process(r.micB, r.earB)
		w.wait(r1, "A to C")
		w.wait(r2, "B to C")
		conf.Process(r.micC, r.earC)
		w.wait(ra, "C to A")
		w.wait(rb, "C to B")
	}
	return r
}

// run steps the conference until the jitter buffers settle, then 100
// frames more, which must not allocate.
func (r *confRig) run(t *testing.T) {
	t.Helper()
	for range 30 {
		r.step()
	}
	if n := testing.AllocsPerRun(100, r.step); n != 0 {
		t.Fatalf("allocs per frame %v", n)
	}
}

// TestConference: the user (C) holds calls to A and B and joins them: C
// hears A's 600 Hz and B's 1400 Hz; A hears C's 1000 Hz and B's 1400 Hz;
// B hears C's 1000 Hz and A's 600 Hz; with no allocation per frame.
func TestConference(t *testing.T) {
	var pa, pb, pc float64
	r := newConfRig(t, 8000, 8000, 8000, PCMU, PCMU, func(r *confRig) {
		Sine(r.micA, 600, 0.2, 8000, &pa)
		Sine(r.micB, 1400, 0.2, 8000, &pb)
		Sine(r.micC, 1000, 0.2, 8000, &pc)
	})
	if _, err := NewConference(r.c1, r.c1); err == nil {
		t.Fatal("conference with itself")
	}
	r.run(t)
	earA, earB, earC := r.earA, r.earB, r.earC
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
	hi := make([]int16, 320)
	var pa, ph, pb, pc float64
	r := newConfRig(t, 16000, 8000, 16000, G722, PCMU, func(r *confRig) {
		Sine(r.micA, 600, 0.2, 16000, &pa)
		Sine(hi, 6000, 0.2, 16000, &ph)
		MixInto(r.micA, hi)
		Sine(r.micB, 1400, 0.2, 8000, &pb)
		Sine(r.micC, 1000, 0.2, 16000, &pc)
	})
	if _, err := NewConference(r.c1, r.eb); err == nil {
		t.Fatal("conference of a 16 kHz and an 8 kHz engine")
	}
	r.run(t)
	earA, earB, earC := r.earA, r.earB, r.earC
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
