package resample

import (
	"math"
	"testing"

	"github.com/deskphone/deskphone/audio/tone"
)

func sine(n int, f, amp float64, rate int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
	}
	return s
}

func TestTaps(t *testing.T) {
	var sum int32
	for _, c := range g {
		sum += c
	}
	if sum < 32767 || sum > 32769 {
		t.Fatalf("taps sum to %d, want 32768", sum)
	}
	for k := range taps / 2 {
		if g[k] != g[taps-1-k] {
			t.Fatalf("taps not symmetric at %d: %d %d", k, g[k], g[taps-1-k])
		}
	}
}

// TestUp: an 8 kHz tone comes out at 16 kHz at the same level, with its
// image (16000-f... i.e. 8000-f) at least 40 dB down; the original
// samples pass unchanged, Delay late.
func TestUp(t *testing.T) {
	for _, f := range []float64{300, 1000, 3000} {
		in := sine(1600, f, 10000, 8000)
		out := make([]int16, 3200)
		var u Up
		// Two calls: the history carries across.
		n := u.Process(out[:1600], in[:800])
		n += u.Process(out[1600:], in[800:])
		if n != 3200 {
			t.Fatalf("wrote %d", n)
		}
		for i := Delay; i < 1600; i++ {
			if out[2*i] != in[i-Delay] {
				t.Fatalf("%v Hz: sample %d: %d, want %d", f, i, out[2*i], in[i-Delay])
			}
		}
		steady := out[400:]
		lv, img := level(steady, f, 16000), level(steady, 8000-f, 16000)
		want := level(in[200:], f, 8000)
		t.Logf("%v Hz: level %.4f (in %.4f), image %.2g", f, lv, want, img)
		if math.Abs(lv/want-1) > 0.1 || img > lv/10000 { // power: 40 dB
			t.Errorf("%v Hz: level %.4f (want %.4f), image %.2g", f, lv, want, img)
		}
	}
}

// TestDown: a tone below 3.4 kHz keeps its level; one above 4.6 kHz (that
// would alias) is at least 40 dB down; a round trip up and down gives the
// signal back, 2*Delay late.
func TestDown(t *testing.T) {
	for _, c := range []struct {
		f    float64
		pass bool
	}{{300, true}, {1000, true}, {3400, true}, {5000, false}, {6000, false}, {7000, false}} {
		in := sine(3200, c.f, 10000, 16000)
		out := make([]int16, 1600)
		var d Down
		n := d.Process(out[:800], in[:1600])
		n += d.Process(out[800:], in[1600:])
		if n != 1600 {
			t.Fatalf("wrote %d", n)
		}
		steady := out[200:]
		var rms float64
		for _, v := range steady {
			rms += float64(v) * float64(v)
		}
		rms = math.Sqrt(rms / float64(len(steady)))
		t.Logf("%v Hz: rms %.0f", c.f, rms)
		if c.pass && math.Abs(rms/(10000/math.Sqrt2)-1) > 0.06 {
			t.Errorf("%v Hz: rms %.0f, want %.0f", c.f, rms, 10000/math.Sqrt2)
		}
		if !c.pass && rms > 10000/math.Sqrt2/100 {
			t.Errorf("%v Hz: rms %.0f: not stopped", c.f, rms)
		}
	}
	in := sine(1600, 700, 10000, 8000)
	wide := make([]int16, 3200)
	back := make([]int16, 1600)
	var u Up
	var d Down
	u.Process(wide, in)
	d.Process(back, wide)
	var se, sn float64
	for i := 2*Delay + 100; i < 1600; i++ {
		x := float64(in[i-2*Delay])
		se += x * x
		sn += (x - float64(back[i])) * (x - float64(back[i]))
	}
	if snr := 10 * math.Log10(se/sn); snr < 40 {
		t.Errorf("round trip SNR %.1f dB", snr)
	}
}

func TestNoAllocs(t *testing.T) {
	var u Up
	var d Down
	a, b := make([]int16, 160), make([]int16, 320)
	if n := testing.AllocsPerRun(100, func() {
		u.Process(b, a)
		d.Process(a, b)
	}); n != 0 {
		t.Fatalf("allocs %v", n)
	}
}

func BenchmarkUp(b *testing.B) {
	var u Up
	src, dst := sine(160, 1000, 8000, 8000), make([]int16, 320)
	b.ReportAllocs()
	for b.Loop() {
		u.Process(dst, src)
	}
}

func BenchmarkDown(b *testing.B) {
	var d Down
	src, dst := sine(320, 1000, 8000, 16000), make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		d.Process(dst, src)
	}
}

// level is the Goertzel power of freq relative to a full-scale sine (the
// media engine's measure; the test borrows it).
var level = tone.Level
