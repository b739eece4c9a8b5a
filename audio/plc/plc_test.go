package plc

import (
	"math"
	"testing"
)

func sine(buf []int16, f, amp float64, start int) {
	for i := range buf {
		buf[i] = int16(amp * math.Sin(2*math.Pi*f*float64(start+i)/8000))
	}
}

func rms(a []int16) float64 {
	var s float64
	for _, v := range a {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(a)))
}

// TestVoicedLoss: a 200 Hz tone (pitch 40 samples) loses one 20 ms frame:
// the concealment continues the wave closely (far better than repeating the
// last frame), the next frame joins without a step, and a long loss fades
// to silence by 60 ms.
func TestVoicedLoss(t *testing.T) {
	for _, f := range []float64{125, 160, 200} {
		c := New()
		frame := make([]int16, 160)
		pos := 0
		for range 5 {
			sine(frame, f, 8000, pos)
			c.Good(frame)
			pos += 160
		}
		want := make([]int16, 160)
		sine(want, f, 8000, pos)
		last := append([]int16(nil), frame...)
		c.Conceal(frame)
		pos += 160
		diff, rep := make([]int16, 160), make([]int16, 160)
		for i := range frame {
			diff[i] = frame[i] - want[i]
			rep[i] = last[i] - want[i]
		}
		snr := 20 * math.Log10(rms(want)/rms(diff))
		snrRepeat := 20 * math.Log10(rms(want)/math.Max(rms(rep), 1))
		t.Logf("%v Hz: pitch %d, concealment SNR %.1f dB, plain repeat %.1f dB", f, c.pitch, snr, snrRepeat)
		if snr < 10 {
			t.Errorf("%v Hz: SNR %.1f dB", f, snr)
		}
		// Recovery: no step at the join.
		prev := frame[159]
		sine(frame, f, 8000, pos)
		c.Good(frame)
		if d := math.Abs(float64(frame[0]) - float64(prev)); d > 8000*2*math.Pi*f/8000*2 {
			t.Errorf("%v Hz: step %v at the join", f, d)
		}
	}
}

func TestFadeToSilence(t *testing.T) {
	c := New()
	frame := make([]int16, 80)
	for k := range 8 {
		sine(frame, 180, 10000, 80*k)
		c.Good(frame)
	}
	var levels []float64
	for range 8 { // 80 ms
		c.Conceal(frame)
		levels = append(levels, rms(frame))
	}
	t.Logf("levels per 10 ms: %.0f", levels)
	if levels[0] < 5000 || levels[2] >= levels[1] || levels[5] >= levels[4] || levels[6] != 0 || levels[7] != 0 {
		t.Fatalf("levels %v", levels)
	}
	if c.Concealed != 8 || c.Silent != 2 {
		t.Fatalf("counts %d %d", c.Concealed, c.Silent)
	}
}

func TestNoAllocs(t *testing.T) {
	c := New()
	f := make([]int16, 160)
	sine(f, 200, 5000, 0)
	if n := testing.AllocsPerRun(100, func() {
		c.Good(f)
		c.Conceal(f)
		c.Conceal(f)
	}); n != 0 {
		t.Fatalf("allocs %v", n)
	}
}

func BenchmarkConceal(b *testing.B) {
	c := New()
	f := make([]int16, 160)
	sine(f, 200, 5000, 0)
	b.ReportAllocs()
	for b.Loop() {
		c.Good(f)
		c.Conceal(f)
	}
}

// TestWideband: at 16000 samples/s a 200 Hz tone (pitch 80 samples) loses
// a 20 ms frame (320 samples): the concealment continues it as at 8000,
// and a long loss is silent after 60 ms (960 samples).
func TestWideband(t *testing.T) {
	c := NewRate(16000)
	frame := make([]int16, 320)
	wide := func(buf []int16, start int) {
		for i := range buf {
			buf[i] = int16(8000 * math.Sin(2*math.Pi*200*float64(start+i)/16000))
		}
	}
	pos := 0
	for range 5 {
		wide(frame, pos)
		c.Good(frame)
		pos += 320
	}
	want := make([]int16, 320)
	wide(want, pos)
	c.Conceal(frame)
	diff := make([]int16, 320)
	for i := range frame {
		diff[i] = frame[i] - want[i]
	}
	if c.pitch != 80 && c.pitch != 160 && c.pitch != 240 {
		t.Errorf("pitch %d samples, want a multiple of 80", c.pitch)
	}
	if snr := 20 * math.Log10(rms(want)/rms(diff)); snr < 10 {
		t.Errorf("concealment SNR %.1f dB", snr)
	}
	c.Conceal(frame)
	c.Conceal(frame)
	c.Conceal(frame) // 60 to 80 ms
	if c.Silent != 1 || rms(frame) != 0 {
		t.Errorf("after 60 ms: Silent %d, level %.0f", c.Silent, rms(frame))
	}
}
